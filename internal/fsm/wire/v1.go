package wire

import (
	"encoding/json"
	"time"

	"berth.dev/berth/internal/shape"
)

// Version 1 of ServiceRound and ServicePlacement embedded the reconciler's
// own Go structs, which had no json tags: their members are encoded under
// their Go names. These types freeze that encoding; servers decode old
// entries with them and upgrade them to the current version.

// ServiceRoundV1 is ServiceRound version 1: the reconciler's whole result.
type ServiceRoundV1 struct {
	Meta
	Cluster    string        `json:"cluster"`
	Name       string        `json:"name"`
	Generation int64         `json:"generation"`
	Result     RoundResultV1 `json:"result"`
}

// RoundResultV1 is deploy.Result as version 1 logged it. Starts, Wake and
// Changed were logged but never applied.
type RoundResultV1 struct {
	Lost          []TaskStopV1    `json:"Lost"`
	Stops         []TaskStopV1    `json:"Stops"`
	Starts        json.RawMessage `json:"Starts"`
	Deployments   []DeploymentV1  `json:"Deployments"`
	LastCompleted *DeploymentV1   `json:"LastCompleted"`
	DesiredCount  int             `json:"DesiredCount"`
	Events        []string        `json:"Events"`
	Wake          time.Time       `json:"Wake"`
	Changed       bool            `json:"Changed"`
}

// TaskStopV1 is deploy.Stop under its Go names.
type TaskStopV1 struct {
	TaskID   string `json:"TaskID"`
	StopCode string `json:"StopCode"`
	Reason   string `json:"Reason"`
}

// DeploymentV1 is deploy.Deployment under its Go names (version 1 log
// entries and version 1 snapshots).
type DeploymentV1 struct {
	ID                  string              `json:"ID"`
	Status              string              `json:"Status"`
	TaskDefinition      string              `json:"TaskDefinition"`
	HealthChecks        bool                `json:"HealthChecks"`
	DesiredCount        int                 `json:"DesiredCount"`
	RunningCount        int                 `json:"RunningCount"`
	PendingCount        int                 `json:"PendingCount"`
	FailedTasks         int                 `json:"FailedTasks"`
	RolloutState        string              `json:"RolloutState"`
	RolloutStateReason  string              `json:"RolloutStateReason"`
	CreatedAt           time.Time           `json:"CreatedAt"`
	UpdatedAt           time.Time           `json:"UpdatedAt"`
	Rollback            bool                `json:"Rollback"`
	ReachedRunning      bool                `json:"ReachedRunning"`
	LastFailureAt       time.Time           `json:"LastFailureAt"`
	LaunchFailures      int                 `json:"LaunchFailures"`
	LastLaunchFailureAt time.Time           `json:"LastLaunchFailureAt"`
	Counted             []string            `json:"Counted"`
	Placement           *PlacementFailureV1 `json:"Placement"`
}

// PlacementFailureV1 is deploy.PlacementFailure under its Go names.
type PlacementFailureV1 struct {
	At             time.Time `json:"At"`
	Reason         string    `json:"Reason"`
	InstanceID     string    `json:"InstanceID"`
	ClusterVersion uint64    `json:"ClusterVersion"`
}

// ServicePlacementV1 is ServicePlacement version 1.
type ServicePlacementV1 struct {
	Meta
	Cluster    string              `json:"cluster"`
	Name       string              `json:"name"`
	Generation int64               `json:"generation"`
	Deployment string              `json:"deployment"`
	Failure    *PlacementFailureV1 `json:"failure,omitempty"`
	Event      string              `json:"event,omitempty"`
}

// Upgrade returns the version 2 form of a version 1 round.
func (r ServiceRoundV1) Upgrade() ServiceRound {
	out := ServiceRound{Meta: r.Meta, Cluster: r.Cluster, Name: r.Name, Generation: r.Generation,
		DesiredCount: r.Result.DesiredCount, Events: r.Result.Events}
	for _, s := range r.Result.Lost {
		out.Lost = append(out.Lost, TaskStop(s))
	}
	for _, s := range r.Result.Stops {
		out.Stops = append(out.Stops, TaskStop(s))
	}
	out.Deployments = make([]Deployment, len(r.Result.Deployments))
	for i, d := range r.Result.Deployments {
		out.Deployments[i] = d.Upgrade()
	}
	if r.Result.LastCompleted != nil {
		d := r.Result.LastCompleted.Upgrade()
		out.LastCompleted = &d
	}
	return out
}

// Upgrade returns the current form of a version 1 deployment.
func (d DeploymentV1) Upgrade() Deployment {
	out := Deployment{
		ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition, HealthChecks: d.HealthChecks,
		DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
		RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Rollback: d.Rollback, ReachedRunning: d.ReachedRunning, LastFailureAt: d.LastFailureAt,
		LaunchFailures: d.LaunchFailures, LastLaunchFailureAt: d.LastLaunchFailureAt, Counted: d.Counted,
	}
	if d.Placement != nil {
		p := PlacementFailure(*d.Placement)
		out.Placement = &p
	}
	return out
}

// Upgrade returns the version 2 form of a version 1 placement outcome.
func (p ServicePlacementV1) Upgrade() ServicePlacement {
	out := ServicePlacement{Meta: p.Meta, Cluster: p.Cluster, Name: p.Name, Generation: p.Generation, Deployment: p.Deployment, Event: p.Event}
	if p.Failure != nil {
		f := PlacementFailure(*p.Failure)
		out.Failure = &f
	}
	return out
}

// ResetConnectionsV1 is ResetConnections version 1: reset every session.
type ResetConnectionsV1 struct {
	Meta
}

// Upgrade returns the version 2 form (Except empty: reset every session).
func (r ResetConnectionsV1) Upgrade() ResetConnections { return ResetConnections{Meta: r.Meta} }

// TaskStateChangeV1 is TaskStateChange version 1: the same members, but
// the applier cut container reasons to 255 bytes.
type TaskStateChangeV1 struct {
	Meta
	Cluster            string                       `json:"cluster"`
	TaskID             string                       `json:"taskId"`
	Status             string                       `json:"status,omitempty"`
	Reason             string                       `json:"reason,omitempty"`
	Containers         []shape.ContainerStateChange `json:"containers,omitempty"`
	PullStartedAt      *shape.Timestamp             `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *shape.Timestamp             `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt *shape.Timestamp             `json:"executionStoppedAt,omitempty"`
}

// Upgrade returns the version 2 form, marked to cut reasons as version 1 did.
func (c TaskStateChangeV1) Upgrade() TaskStateChange {
	return TaskStateChange{Meta: c.Meta, Cluster: c.Cluster, TaskID: c.TaskID, Status: c.Status, Reason: c.Reason,
		Containers: c.Containers, PullStartedAt: c.PullStartedAt, PullStoppedAt: c.PullStoppedAt,
		ExecutionStoppedAt: c.ExecutionStoppedAt, byteCut: true}
}

// ContainerStateChangeV1 is ContainerStateChange version 1: the same
// members, but the applier cut the reason to 255 bytes.
type ContainerStateChangeV1 struct {
	Meta
	Cluster string                     `json:"cluster"`
	TaskID  string                     `json:"taskId"`
	Change  shape.ContainerStateChange `json:"change"`
}

// Upgrade returns the version 2 form, marked to cut the reason as version 1 did.
func (c ContainerStateChangeV1) Upgrade() ContainerStateChange {
	return ContainerStateChange{Meta: c.Meta, Cluster: c.Cluster, TaskID: c.TaskID, Change: c.Change, byteCut: true}
}

// CreateServiceV1 is CreateService version 1: the same members; its
// deployment records no service revision.
type CreateServiceV1 struct {
	Meta
	Cluster      string         `json:"cluster"`
	Name         string         `json:"name"`
	Shape        *shape.Service `json:"shape"`
	Family       string         `json:"family"`
	Revision     int32          `json:"revision"`
	DeploymentID string         `json:"deploymentId"`
	Fingerprint  string         `json:"fingerprint"`
}

// Upgrade returns the version 2 form, marked to record no revision.
func (c CreateServiceV1) Upgrade() CreateService {
	return CreateService{Meta: c.Meta, Cluster: c.Cluster, Name: c.Name, Shape: c.Shape, Family: c.Family,
		Revision: c.Revision, DeploymentID: c.DeploymentID, Fingerprint: c.Fingerprint, legacy: true}
}

// UpdateServiceV1 is UpdateService version 1: the same members; a new
// deployment records no service revision.
type UpdateServiceV1 struct {
	Meta
	Cluster                string                         `json:"cluster"`
	Name                   string                         `json:"name"`
	DesiredCount           *int32                         `json:"desiredCount,omitempty"`
	Family                 string                         `json:"family,omitempty"`
	Revision               int32                          `json:"revision,omitempty"`
	DeploymentConfig       *shape.DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	HealthCheckGracePeriod *int32                         `json:"healthCheckGracePeriodSeconds,omitempty"`
	PlacementConstraints   []shape.PlacementConstraint    `json:"placementConstraints,omitempty"`
	PlacementStrategy      []shape.PlacementStrategy      `json:"placementStrategy,omitempty"`
	EnableECSManagedTags   *bool                          `json:"enableECSManagedTags,omitempty"`
	PropagateTags          shape.PropagateTags            `json:"propagateTags,omitempty"`
	EnableExecuteCommand   *bool                          `json:"enableExecuteCommand,omitempty"`
	ForceNewDeployment     bool                           `json:"forceNewDeployment,omitempty"`
	DeploymentID           string                         `json:"deploymentId"`
}

// Upgrade returns the version 2 form, marked to record no revision.
func (c UpdateServiceV1) Upgrade() UpdateService {
	return UpdateService{Meta: c.Meta, Cluster: c.Cluster, Name: c.Name, DesiredCount: c.DesiredCount, Family: c.Family,
		Revision: c.Revision, DeploymentConfig: c.DeploymentConfig, HealthCheckGracePeriod: c.HealthCheckGracePeriod,
		PlacementConstraints: c.PlacementConstraints, PlacementStrategy: c.PlacementStrategy,
		EnableECSManagedTags: c.EnableECSManagedTags, PropagateTags: c.PropagateTags,
		EnableExecuteCommand: c.EnableExecuteCommand, ForceNewDeployment: c.ForceNewDeployment,
		DeploymentID: c.DeploymentID, legacy: true}
}

// DeleteTaskDefinitionsV1 is DeleteTaskDefinitions version 1: the same
// members; only tasks kept a revision in use.
type DeleteTaskDefinitionsV1 struct {
	Meta
	Refs []TaskDefinitionRef `json:"refs"`
}

// Upgrade returns the version 2 form, marked to look at tasks only.
func (c DeleteTaskDefinitionsV1) Upgrade() DeleteTaskDefinitions {
	return DeleteTaskDefinitions{Meta: c.Meta, Refs: c.Refs, tasksOnly: true}
}

// CollectGarbageV1 is CollectGarbage version 1: the same members; only
// tasks kept a revision in use.
type CollectGarbageV1 struct {
	Meta
	TasksBefore time.Time `json:"tasksBefore"`
}

// Upgrade returns the version 2 form, marked to look at tasks only.
func (c CollectGarbageV1) Upgrade() CollectGarbage {
	return CollectGarbage{Meta: c.Meta, TasksBefore: c.TasksBefore, tasksOnly: true}
}

// RunTaskV1 is RunTask version 1: the same members; AllowInactive did not
// allow a DELETE_IN_PROGRESS revision.
type RunTaskV1 struct {
	Meta
	Cluster              string              `json:"cluster"`
	Family               string              `json:"family"`
	Revision             int32               `json:"revision"`
	Tasks                []NewTaskV1         `json:"tasks"`
	Group                string              `json:"group"`
	StartedBy            string              `json:"startedBy,omitempty"`
	Overrides            *shape.TaskOverride `json:"overrides,omitempty"`
	Tags                 []shape.Tag         `json:"tags,omitempty"`
	Reserved             Reservation         `json:"reserved"`
	EnableExecuteCommand bool                `json:"enableExecuteCommand,omitempty"`
	DistinctInstance     bool                `json:"distinctInstance,omitempty"`
	AllowInactive        bool                `json:"allowInactive,omitempty"`
	ClientToken          string              `json:"clientToken,omitempty"`
	Fingerprint          string              `json:"fingerprint,omitempty"`
	Failures             []shape.Failure     `json:"failures,omitempty"`
}

// Upgrade returns the version 2 form, marked to refuse DELETE_IN_PROGRESS.
func (c RunTaskV1) Upgrade() RunTask {
	return RunTask{Meta: c.Meta, Cluster: c.Cluster, Family: c.Family, Revision: c.Revision, Tasks: upgradeNewTasks(c.Tasks), Group: c.Group,
		StartedBy: c.StartedBy, Overrides: c.Overrides, Tags: c.Tags, Reserved: c.Reserved,
		EnableExecuteCommand: c.EnableExecuteCommand, DistinctInstance: c.DistinctInstance, AllowInactive: c.AllowInactive,
		ClientToken: c.ClientToken, Fingerprint: c.Fingerprint, Failures: c.Failures, inactiveOnly: true}
}

// TagResourceV1 is TagResource version 1: the same members; a service is
// not a resource it tags.
type TagResourceV1 struct {
	Meta
	Resource ResourceRef `json:"resource"`
	Tags     []shape.Tag `json:"tags"`
}

// Upgrade returns the version 2 form, marked to refuse a service.
func (c TagResourceV1) Upgrade() TagResource {
	return TagResource{Meta: c.Meta, Resource: c.Resource, Tags: c.Tags, legacy: true}
}

// UntagResourceV1 is UntagResource version 1: the same members; a service
// is not a resource it untags.
type UntagResourceV1 struct {
	Meta
	Resource ResourceRef `json:"resource"`
	Keys     []string    `json:"keys"`
}

// Upgrade returns the version 2 form, marked to refuse a service.
func (c UntagResourceV1) Upgrade() UntagResource {
	return UntagResource{Meta: c.Meta, Resource: c.Resource, Keys: c.Keys, legacy: true}
}

// RunTaskV2 is RunTask version 2: no Network (no awsvpc tasks).
type RunTaskV2 struct {
	Meta
	Cluster              string              `json:"cluster"`
	Family               string              `json:"family"`
	Revision             int32               `json:"revision"`
	Tasks                []NewTaskV1         `json:"tasks"`
	Group                string              `json:"group"`
	StartedBy            string              `json:"startedBy,omitempty"`
	Overrides            *shape.TaskOverride `json:"overrides,omitempty"`
	Tags                 []shape.Tag         `json:"tags,omitempty"`
	Reserved             Reservation         `json:"reserved"`
	EnableExecuteCommand bool                `json:"enableExecuteCommand,omitempty"`
	DistinctInstance     bool                `json:"distinctInstance,omitempty"`
	AllowInactive        bool                `json:"allowInactive,omitempty"`
	ClientToken          string              `json:"clientToken,omitempty"`
	Fingerprint          string              `json:"fingerprint,omitempty"`
	Failures             []shape.Failure     `json:"failures,omitempty"`
}

// Upgrade returns the version 3 form: without Network it applies alike.
func (c RunTaskV2) Upgrade() RunTask {
	return RunTask{Meta: c.Meta, Cluster: c.Cluster, Family: c.Family, Revision: c.Revision, Tasks: upgradeNewTasks(c.Tasks), Group: c.Group,
		StartedBy: c.StartedBy, Overrides: c.Overrides, Tags: c.Tags, Reserved: c.Reserved,
		EnableExecuteCommand: c.EnableExecuteCommand, DistinctInstance: c.DistinctInstance, AllowInactive: c.AllowInactive,
		ClientToken: c.ClientToken, Fingerprint: c.Fingerprint, Failures: c.Failures}
}

// RegisterContainerInstanceV1 is RegisterContainerInstance version 1: no
// task subnet (no awsvpc tasks).
type RegisterContainerInstanceV1 struct {
	Meta
	Cluster         string                 `json:"cluster"`
	NewID           string                 `json:"newId"`
	PreviousID      string                 `json:"previousId,omitempty"`
	EC2InstanceID   string                 `json:"ec2InstanceId,omitempty"`
	TotalResources  []shape.Resource       `json:"totalResources,omitempty"`
	VersionInfo     *shape.VersionInfo     `json:"versionInfo,omitempty"`
	Attributes      []shape.Attribute      `json:"attributes,omitempty"`
	PlatformDevices []shape.PlatformDevice `json:"platformDevices,omitempty"`
	Tags            []shape.Tag            `json:"tags,omitempty"`
}

// Upgrade returns the version 2 form: without TaskRange it applies alike.
func (c RegisterContainerInstanceV1) Upgrade() RegisterContainerInstance {
	return RegisterContainerInstance{Meta: c.Meta, Cluster: c.Cluster, NewID: c.NewID, PreviousID: c.PreviousID,
		EC2InstanceID: c.EC2InstanceID, TotalResources: c.TotalResources, VersionInfo: c.VersionInfo,
		Attributes: c.Attributes, PlatformDevices: c.PlatformDevices, Tags: c.Tags}
}

// UpdateServiceV2 is UpdateService version 2: no network change.
type UpdateServiceV2 struct {
	Meta
	Cluster                string                         `json:"cluster"`
	Name                   string                         `json:"name"`
	DesiredCount           *int32                         `json:"desiredCount,omitempty"`
	Family                 string                         `json:"family,omitempty"`
	Revision               int32                          `json:"revision,omitempty"`
	DeploymentConfig       *shape.DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	HealthCheckGracePeriod *int32                         `json:"healthCheckGracePeriodSeconds,omitempty"`
	PlacementConstraints   []shape.PlacementConstraint    `json:"placementConstraints,omitempty"`
	PlacementStrategy      []shape.PlacementStrategy      `json:"placementStrategy,omitempty"`
	EnableECSManagedTags   *bool                          `json:"enableECSManagedTags,omitempty"`
	PropagateTags          shape.PropagateTags            `json:"propagateTags,omitempty"`
	EnableExecuteCommand   *bool                          `json:"enableExecuteCommand,omitempty"`
	ForceNewDeployment     bool                           `json:"forceNewDeployment,omitempty"`
	DeploymentID           string                         `json:"deploymentId"`
}

// Upgrade returns the version 3 form: without a network change it applies
// alike.
func (c UpdateServiceV2) Upgrade() UpdateService {
	return UpdateService{Meta: c.Meta, Cluster: c.Cluster, Name: c.Name, DesiredCount: c.DesiredCount, Family: c.Family,
		Revision: c.Revision, DeploymentConfig: c.DeploymentConfig, HealthCheckGracePeriod: c.HealthCheckGracePeriod,
		PlacementConstraints: c.PlacementConstraints, PlacementStrategy: c.PlacementStrategy,
		EnableECSManagedTags: c.EnableECSManagedTags, PropagateTags: c.PropagateTags,
		EnableExecuteCommand: c.EnableExecuteCommand, ForceNewDeployment: c.ForceNewDeployment,
		DeploymentID: c.DeploymentID}
}

// UpdateServiceV3 is UpdateService version 3: no load-balancer change.
type UpdateServiceV3 struct {
	UpdateServiceV2
	Network       *AwsVpc `json:"network,omitempty"`
	RemoveNetwork bool    `json:"removeNetwork,omitempty"`
}

// Upgrade returns the current form: without a load-balancer change it
// applies alike.
func (c UpdateServiceV3) Upgrade() UpdateService {
	out := c.UpdateServiceV2.Upgrade()
	out.Network, out.RemoveNetwork = c.Network, c.RemoveNetwork
	return out
}

// UpdateServiceV4 is UpdateService version 4: no service-registry change.
type UpdateServiceV4 struct {
	UpdateServiceV3
	LoadBalancers *[]shape.LoadBalancer `json:"loadBalancers,omitempty"`
}

// Upgrade returns the version 5 form: without a service-registry change it
// applies alike.
func (c UpdateServiceV4) Upgrade() UpdateService {
	out := c.UpdateServiceV3.Upgrade()
	out.LoadBalancers = c.LoadBalancers
	return out
}

// NewTaskV1 is NewTask of RunTask versions 1 and 2: no capacity provider.
type NewTaskV1 struct {
	ID           string   `json:"id"`
	InstanceID   string   `json:"instanceId"`
	ContainerIDs []string `json:"containerIds"`
}

func upgradeNewTasks(in []NewTaskV1) []NewTask {
	if in == nil {
		return nil
	}
	out := make([]NewTask, len(in))
	for i, t := range in {
		out[i] = NewTask{ID: t.ID, InstanceID: t.InstanceID, ContainerIDs: t.ContainerIDs}
	}
	return out
}
