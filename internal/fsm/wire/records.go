package wire

import (
	"encoding/json"
	"time"

	"berth.dev/berth/internal/shape"
)

// Snapshot format: JSON lines, a SnapshotHeader, then one SnapshotRecord
// per record, table by table in the order of Tables, in key order within a
// table.
const (
	SnapshotFormat  = "berth-state"
	SnapshotVersion = 8
)

// SnapshotHeader opens every snapshot.
type SnapshotHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Index is the log index the state was last changed by (since
	// version 4; the revision of the load balancers' configuration).
	Index uint64 `json:"index,omitempty"`
}

// SnapshotRecord is one record of one table.
type SnapshotRecord struct {
	Table  string          `json:"t"`
	Record json.RawMessage `json:"r"`
}

// Table names, as snapshots spell them.
const (
	TableClusters        = "clusters"
	TableFamilies        = "families"
	TableTaskDefinitions = "taskdefs"
	TableInstances       = "instances"
	TableTasks           = "tasks"
	TableSettings        = "settings"
	TableClientTokens    = "tokens"
	TableServices        = "services"
	TableServiceDeploys  = "servicedeployments"
	TableServiceRevs     = "servicerevisions" // since version 3
	TableLoadBalancers   = "elbloadbalancers" // since version 4, like every elb table
	TableListeners       = "elblisteners"
	TableRules           = "elbrules"
	TableTargetGroups    = "elbtargetgroups"
	TableTargets         = "elbtargets"
)

// Tables lists every table in snapshot order.
var Tables = []string{
	TableClusters, TableFamilies, TableTaskDefinitions, TableInstances, TableTasks,
	TableSettings, TableClientTokens, TableServices, TableServiceDeploys, TableServiceRevs,
	TableLoadBalancers, TableListeners, TableRules, TableTargetGroups, TableTargets,
	TableACMCertificates,
	TableSDNamespaces, TableSDServices, TableSDInstances, TableSDOperations, // since version 5
	TableSMSecrets, // Secrets Manager, since version 6
	// SSM Parameter Store, since version 6
	TableSSMParameters,
	TableIAMRoles, // IAM, since version 7
	TableSTSCredentials,
	TableIAMPolicies, // IAM managed policies, since version 8
}

// Record types of snapshot version 4 (the ELB tables' are in elb.go).
// Version 3 is version 4 without the ELB tables.
//
// Record types of snapshot version 3. The clusters table holds
// shape.Cluster records as they are. Version 2 is version 3 without the
// servicerevisions table.

// TaskDefinition is one revision of a task definition family.
type TaskDefinition struct {
	Family   string                `json:"family"`
	Revision int32                 `json:"revision"`
	Def      *shape.TaskDefinition `json:"def"`
	Tags     []shape.Tag           `json:"tags,omitempty"`
}

// Family is a task definition family's revision counter.
type Family struct {
	Name         string `json:"name"`
	LastRevision int32  `json:"lastRevision"`
	Active       int32  `json:"active"`
	Live         int32  `json:"live"`
}

// ContainerInstance is a registered container instance.
type ContainerInstance struct {
	ID             string                   `json:"id"`
	Cluster        string                   `json:"cluster"`
	Shape          *shape.ContainerInstance `json:"shape"`
	Session        string                   `json:"session,omitempty"`
	DisconnectedAt time.Time                `json:"disconnectedAt,omitzero"`
}

// Task is a task placed on a container instance.
type Task struct {
	ID         string            `json:"id"`
	Cluster    string            `json:"cluster"`
	InstanceID string            `json:"instanceId"`
	Shape      *shape.Task       `json:"shape"`
	Reserved   Reservation       `json:"reserved"`
	Family     string            `json:"family"`
	Revision   int32             `json:"revision"`
	Health     map[string]string `json:"health,omitempty"`
	// Targets and DrainUntil: since snapshot version 4.
	Targets    []TaskTarget `json:"targets,omitempty"`
	DrainUntil time.Time    `json:"drainUntil,omitzero"`
}

// TaskTarget is one load-balancer target registered for a task.
type TaskTarget struct {
	TargetGroupARN string `json:"targetGroupArn"`
	ID             string `json:"id"`
	Port           int    `json:"port"`
}

// AccountSetting is an account setting explicitly set for a principal.
type AccountSetting struct {
	Principal string `json:"principal"`
	Name      string `json:"name"`
	Value     string `json:"value"`
}

// ClientToken remembers a RunTask clientToken.
type ClientToken struct {
	Token    string          `json:"token"`
	Request  string          `json:"request"`
	Tasks    []string        `json:"tasks"`
	Failures []shape.Failure `json:"failures,omitempty"`
	Expires  int64           `json:"expires"`
}

// Service is an ECS service with its deployments and events.
type Service struct {
	Cluster       string         `json:"cluster"`
	Name          string         `json:"name"`
	Shape         *shape.Service `json:"shape"`
	Generation    int64          `json:"generation"`
	Deployments   []Deployment   `json:"deployments"`
	LastCompleted *Deployment    `json:"lastCompleted,omitempty"`
	Events        []Event        `json:"events,omitempty"`
	ClientToken   string         `json:"clientToken,omitempty"`
	InactiveAt    time.Time      `json:"inactiveAt,omitzero"`
}

// Event is one service event.
type Event struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// ServiceDeployment is the history record of one deployment.
type ServiceDeployment struct {
	Cluster string                   `json:"cluster"`
	Service string                   `json:"service"`
	ID      string                   `json:"id"`
	Shape   *shape.ServiceDeployment `json:"shape"`
}

// ServiceRevision is the configuration one deployment runs (ID is the
// deployment's ID, ecs-svc/N).
type ServiceRevision struct {
	Cluster string                 `json:"cluster"`
	Service string                 `json:"service"`
	ID      string                 `json:"id"`
	Shape   *shape.ServiceRevision `json:"shape"`
}

// ServiceV1 is the services record of snapshot version 1, whose
// deployments and events were the reconciler's untagged Go structs. Every
// other table's record is the same in versions 1 and 2.
type ServiceV1 struct {
	Cluster       string         `json:"cluster"`
	Name          string         `json:"name"`
	Shape         *shape.Service `json:"shape"`
	Generation    int64          `json:"generation"`
	Deployments   []DeploymentV1 `json:"deployments"`
	LastCompleted *DeploymentV1  `json:"lastCompleted,omitempty"`
	Events        []EventV1      `json:"events,omitempty"`
	ClientToken   string         `json:"clientToken,omitempty"`
	InactiveAt    time.Time      `json:"inactiveAt,omitzero"`
}

// EventV1 is deploy.Event under its Go names.
type EventV1 struct {
	At      time.Time `json:"At"`
	Message string    `json:"Message"`
}

// Upgrade returns the version 2 form of a version 1 service record.
func (s ServiceV1) Upgrade() Service {
	out := Service{Cluster: s.Cluster, Name: s.Name, Shape: s.Shape, Generation: s.Generation,
		ClientToken: s.ClientToken, InactiveAt: s.InactiveAt}
	if s.Deployments != nil {
		out.Deployments = make([]Deployment, len(s.Deployments))
		for i, d := range s.Deployments {
			out.Deployments[i] = d.Upgrade()
		}
	}
	if s.LastCompleted != nil {
		d := s.LastCompleted.Upgrade()
		out.LastCompleted = &d
	}
	for _, e := range s.Events {
		out.Events = append(out.Events, Event(e))
	}
	return out
}
