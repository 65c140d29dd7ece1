package state

import (
	"fmt"
	"time"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/shape"
)

// TaskDefinition is one revision of a task definition family.
type TaskDefinition struct {
	Family   string                `json:"family"`
	Revision int32                 `json:"revision"`
	Def      *shape.TaskDefinition `json:"def"`
	Tags     []shape.Tag           `json:"tags,omitempty"`
}

// TaskDefinitionKey orders revisions by family, then numerically by revision.
func TaskDefinitionKey(family string, revision int32) string {
	return fmt.Sprintf("%s:%010d", family, revision)
}

func (t *TaskDefinition) key() string { return TaskDefinitionKey(t.Family, t.Revision) }

// Family keeps a task definition family's revision counter. It outlives the
// family's revisions: a family whose revisions were all deleted continues its
// numbering on the next registration.
type Family struct {
	Name         string `json:"name"`
	LastRevision int32  `json:"lastRevision"`
	// Active counts the family's ACTIVE revisions; Live counts those not deleted.
	Active int32 `json:"active"`
	Live   int32 `json:"live"`
}

// ContainerInstance is a registered container instance. Shape's counts and
// remainingResources are derived at read time and not kept here.
type ContainerInstance struct {
	ID      string                   `json:"id"`
	Cluster string                   `json:"cluster"`
	Shape   *shape.ContainerInstance `json:"shape"`
	// Session identifies the agent's current connection; "" when none.
	Session string `json:"session,omitempty"`
	// DisconnectedAt is when the agent's connection was last lost (zero
	// while connected, or if it never connected).
	DisconnectedAt time.Time `json:"disconnectedAt,omitzero"`
}

// Task is a task placed on a container instance.
type Task struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
	// InstanceID is the container instance the task is placed on.
	InstanceID string      `json:"instanceId"`
	Shape      *shape.Task `json:"shape"`
	// Reserved is what the task holds on its instance while its desired
	// status is RUNNING.
	Reserved Reservation `json:"reserved"`
	// Family and Revision name the task definition (kept so the agent gets
	// it even after the revision is deregistered).
	Family   string `json:"family"`
	Revision int32  `json:"revision"`
	// Health is the last health the agent reported per container name.
	Health map[string]string `json:"health,omitempty"`
}

// HoldsResources reports whether the task counts against its instance.
func (t *Task) HoldsResources() bool {
	return t.Shape.DesiredStatus != nil && *t.Shape.DesiredStatus == "RUNNING"
}

// Reservation is what one task holds on its container instance.
type Reservation struct {
	CPU      int64 `json:"cpu"`
	Memory   int64 `json:"memory"`
	TCPPorts []int `json:"tcpPorts,omitempty"`
	UDPPorts []int `json:"udpPorts,omitempty"`
	GPUs     int   `json:"gpus,omitempty"`
}

// ClientToken remembers a RunTask clientToken for idempotency.
type ClientToken struct {
	Token   string   `json:"token"`
	Request string   `json:"request"` // fingerprint of the request
	Tasks   []string `json:"tasks"`   // task IDs it created
	// Failures it answered, re-sent on a retry.
	Failures []shape.Failure `json:"failures,omitempty"`
	Expires  int64           `json:"expires"` // unix seconds
}

// AccountSetting is an account setting explicitly set for a principal. The
// account default is stored under the account's root principal with
// Default set.
type AccountSetting struct {
	Principal string `json:"principal"`
	Name      string `json:"name"`
	Value     string `json:"value"`
}

func (a *AccountSetting) key() string { return a.Principal + "\x00" + a.Name }

// Service is an ECS service: its stored configuration (Shape, whose counts,
// deployments and events are rendered at read time), the reconciler's
// deployments with their bookkeeping, and its events.
type Service struct {
	Cluster string         `json:"cluster"`
	Name    string         `json:"name"`
	Shape   *shape.Service `json:"shape"`
	// Generation changes on every user change (create, update, delete); a
	// controller round computed at another generation is refused.
	Generation    int64               `json:"generation"`
	Deployments   []deploy.Deployment `json:"deployments"`
	LastCompleted *deploy.Deployment  `json:"lastCompleted,omitempty"`
	// Events holds the 100 most recent events, oldest first.
	Events      []deploy.Event `json:"events,omitempty"`
	ClientToken string         `json:"clientToken,omitempty"`
	// InactiveAt is when the service became INACTIVE.
	InactiveAt time.Time `json:"inactiveAt,omitzero"`
}

func (s *Service) key() (string, string) { return s.Cluster, s.Name }

// ServiceDeployment is the history record of one deployment
// (ListServiceDeployments / DescribeServiceDeployments).
type ServiceDeployment struct {
	Cluster string                   `json:"cluster"`
	Service string                   `json:"service"`
	ID      string                   `json:"id"`
	Shape   *shape.ServiceDeployment `json:"shape"`
}
