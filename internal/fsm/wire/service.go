package wire

import (
	"time"

	"berth.dev/berth/internal/shape"
)

// CreateService creates a service with its first (PRIMARY) deployment, or
// returns the ACTIVE or DRAINING service of that name when the request is
// the same (Fingerprint).
type CreateService struct {
	Meta
	Cluster      string         `json:"cluster"`
	Name         string         `json:"name"`
	Shape        *shape.Service `json:"shape"` // the configuration, validated
	Family       string         `json:"family"`
	Revision     int32          `json:"revision"`
	DeploymentID string         `json:"deploymentId"`
	Fingerprint  string         `json:"fingerprint"`

	legacy bool // upgraded from version 1 (never encoded)
}

func (CreateService) Type() Type     { return TypeCreateService }
func (CreateService) Version() uint8 { return 2 }

// RecordsRevision reports whether the new deployment records its service
// revision and a full history record (version 2; version 1, written before
// service revisions existed, recorded neither).
func (c CreateService) RecordsRevision() bool { return !c.legacy }

// UpdateService changes a service. A new task definition or
// ForceNewDeployment starts a new PRIMARY deployment; other changes apply
// to the current ones.
type UpdateService struct {
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
	// Network replaces the service's awsvpc configuration, RemoveNetwork
	// removes it (version 3); either change starts a new deployment.
	Network       *AwsVpc `json:"network,omitempty"`
	RemoveNetwork bool    `json:"removeNetwork,omitempty"`
	// LoadBalancers replaces the service's load balancers (version 4; an
	// empty list removes them); a change starts a new deployment.
	LoadBalancers *[]shape.LoadBalancer `json:"loadBalancers,omitempty"`
	// ServiceRegistries replaces the service's Cloud Map registries
	// (version 5; an empty list removes them); a change starts a new
	// deployment.
	ServiceRegistries *[]shape.ServiceRegistry `json:"serviceRegistries,omitempty"`

	legacy bool // upgraded from version 1 (never encoded)
}

func (UpdateService) Type() Type     { return TypeUpdateService }
func (UpdateService) Version() uint8 { return 5 }

// RecordsRevision reports whether a new deployment records its service
// revision (the configuration it runs) and a history record that names its
// target and source revisions and its circuit breaker, which later rounds
// keep current, and stops the deployment it replaces if unfinished
// (version 2). Version 1 entries, written before service revisions
// existed, apply as they did then, recording neither.
func (c UpdateService) RecordsRevision() bool { return !c.legacy }

// DeleteService starts draining a service: desired count 0, status
// DRAINING; it becomes INACTIVE when its last task stops.
type DeleteService struct {
	Meta
	Cluster string `json:"cluster"`
	Name    string `json:"name"`
	Force   bool   `json:"force,omitempty"`
}

func (DeleteService) Type() Type     { return TypeDeleteService }
func (DeleteService) Version() uint8 { return 1 }

// ServiceRound applies one reconciler round computed at Generation: the
// tasks to stop, the new deployments array and events. (Version 2; version
// 1, ServiceRoundV1, logged the reconciler's whole result.)
type ServiceRound struct {
	Meta
	Cluster    string `json:"cluster"`
	Name       string `json:"name"`
	Generation int64  `json:"generation"`
	// Lost tasks are set STOPPED at once (their host is gone).
	Lost []TaskStop `json:"lost,omitempty"`
	// Stops get desired status STOPPED.
	Stops []TaskStop `json:"stops,omitempty"`
	// Deployments replaces the service's deployments array.
	Deployments   []Deployment `json:"deployments"`
	LastCompleted *Deployment  `json:"lastCompleted,omitempty"`
	DesiredCount  int          `json:"desiredCount"`
	// Events are new event messages, recorded at Now.
	Events []string `json:"events,omitempty"`
}

func (ServiceRound) Type() Type     { return TypeServiceRound }
func (ServiceRound) Version() uint8 { return 2 }

// TaskStop names a task a round stops, with its stop code and reason.
type TaskStop struct {
	TaskID   string `json:"taskId"`
	StopCode string `json:"stopCode"`
	Reason   string `json:"reason"`
}

// Deployment is one entry of a service's deployments array with the
// reconciler's bookkeeping (package deploy documents each member).
type Deployment struct {
	ID                  string            `json:"id"`
	Status              string            `json:"status"`
	TaskDefinition      string            `json:"taskDefinition"`
	HealthChecks        bool              `json:"healthChecks,omitempty"`
	DesiredCount        int               `json:"desiredCount"`
	RunningCount        int               `json:"runningCount"`
	PendingCount        int               `json:"pendingCount"`
	FailedTasks         int               `json:"failedTasks"`
	RolloutState        string            `json:"rolloutState,omitempty"`
	RolloutStateReason  string            `json:"rolloutStateReason,omitempty"`
	CreatedAt           time.Time         `json:"createdAt"`
	UpdatedAt           time.Time         `json:"updatedAt"`
	Rollback            bool              `json:"rollback,omitempty"`
	ReachedRunning      bool              `json:"reachedRunning,omitempty"`
	LastFailureAt       time.Time         `json:"lastFailureAt,omitzero"`
	LaunchFailures      int               `json:"launchFailures,omitempty"`
	LastLaunchFailureAt time.Time         `json:"lastLaunchFailureAt,omitzero"`
	Counted             []string          `json:"counted,omitempty"`
	Placement           *PlacementFailure `json:"placement,omitempty"`
}

// PlacementFailure is the last placement failure of a deployment's tasks.
type PlacementFailure struct {
	At             time.Time `json:"at"`
	Reason         string    `json:"reason"`
	InstanceID     string    `json:"instanceId,omitempty"`
	ClusterVersion uint64    `json:"clusterVersion"`
}

// ServicePlacement records the outcome of placing a round's starts: the
// first placement failure of the deployment (nil to clear it) and the
// "has started N tasks" event. (Version 2; version 1 is
// ServicePlacementV1.)
type ServicePlacement struct {
	Meta
	Cluster    string            `json:"cluster"`
	Name       string            `json:"name"`
	Generation int64             `json:"generation"`
	Deployment string            `json:"deployment"`
	Failure    *PlacementFailure `json:"failure,omitempty"`
	Event      string            `json:"event,omitempty"`
}

func (ServicePlacement) Type() Type     { return TypeServicePlacement }
func (ServicePlacement) Version() uint8 { return 2 }
