package state

import (
	"fmt"
	"time"

	"berth.dev/berth/internal/shape"
)

// TaskDefinition is one revision of a task definition family.
type TaskDefinition struct {
	Family   string
	Revision int32
	Def      *shape.TaskDefinition
	Tags     []shape.Tag
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
	Name         string
	LastRevision int32
	// Active counts the family's ACTIVE revisions; Live counts those not deleted.
	Active int32
	Live   int32
}

// ContainerInstance is a registered container instance. Shape's counts and
// remainingResources are derived at read time and not kept here.
type ContainerInstance struct {
	ID      string
	Cluster string
	Shape   *shape.ContainerInstance
	// Session identifies the agent's current connection; "" when none.
	Session string
	// DisconnectedAt is when the agent's connection was last lost (zero
	// while connected, or if it never connected).
	DisconnectedAt time.Time
}

// Task is a task placed on a container instance.
type Task struct {
	ID      string
	Cluster string
	// InstanceID is the container instance the task is placed on.
	InstanceID string
	Shape      *shape.Task
	// Reserved is what the task holds on its instance while its desired
	// status is RUNNING.
	Reserved Reservation
	// Family and Revision name the task definition (kept so the agent gets
	// it even after the revision is deregistered).
	Family   string
	Revision int32
	// Health is the last health the agent reported per container name.
	Health map[string]string
	// Targets are the load-balancer targets the service scheduler
	// registered for the task (ECS registers a service task in each of its
	// target groups when it starts).
	Targets []TaskTarget
	// DrainUntil: the task's targets are draining; its agent keeps it
	// running until then although its desired status is STOPPED (ECS
	// stops a task only after its deregistration delay).
	DrainUntil time.Time
}

// TaskTarget is one target registered for a task.
type TaskTarget struct {
	TargetGroupARN string
	ID             string // the task's IP (ip target) or instance ID (instance target)
	Port           int
}

// Draining reports whether the task's targets are still draining at now.
func (t *Task) Draining(now time.Time) bool { return t.DrainUntil.After(now) }

// HoldsResources reports whether the task counts against its instance.
func (t *Task) HoldsResources() bool {
	return t.Shape.DesiredStatus != nil && *t.Shape.DesiredStatus == "RUNNING"
}

// Reservation is what one task holds on its container instance.
type Reservation struct {
	CPU      int64
	Memory   int64
	TCPPorts []int
	UDPPorts []int
	GPUs     int
}

// ClientToken remembers a RunTask clientToken for idempotency.
type ClientToken struct {
	Token   string
	Request string   // fingerprint of the request
	Tasks   []string // task IDs it created
	// Failures it answered, re-sent on a retry.
	Failures []shape.Failure
	Expires  int64 // unix seconds
}

// AccountSetting is an account setting explicitly set for a principal. The
// account default is stored under the account's root principal with
// Default set.
type AccountSetting struct {
	Principal string
	Name      string
	Value     string
}

func (a *AccountSetting) key() string { return a.Principal + "\x00" + a.Name }

// Service is an ECS service: its stored configuration (Shape, whose counts,
// deployments and events are rendered at read time), the reconciler's
// deployments with their bookkeeping, and its events.
type Service struct {
	Cluster string
	Name    string
	Shape   *shape.Service
	// Generation changes on every user change (create, update, delete); a
	// controller round computed at another generation is refused.
	Generation    int64
	Deployments   []Deployment
	LastCompleted *Deployment
	// Events holds the 100 most recent events, oldest first.
	Events      []Event
	ClientToken string
	// InactiveAt is when the service became INACTIVE.
	InactiveAt time.Time
}

func (s *Service) key() (string, string) { return s.Cluster, s.Name }

// ServiceDeployment is the history record of one deployment
// (ListServiceDeployments / DescribeServiceDeployments).
type ServiceDeployment struct {
	Cluster string
	Service string
	ID      string
	Shape   *shape.ServiceDeployment
}

// ServiceRevision is the configuration one deployment of a service runs
// (DescribeServiceRevisions), recorded when the deployment is created. ID
// is the deployment's ID (ecs-svc/N); the revision's ARN ends in N.
type ServiceRevision struct {
	Cluster string
	Service string
	ID      string
	Shape   *shape.ServiceRevision
}

// Deployment is one entry of a service's deployments array with the
// bookkeeping the service reconciler keeps in it between rounds (package
// deploy documents each member; the controller converts).
type Deployment struct {
	ID                  string
	Status              string // PRIMARY or ACTIVE
	TaskDefinition      string
	HealthChecks        bool
	DesiredCount        int
	RunningCount        int
	PendingCount        int
	FailedTasks         int
	RolloutState        string // IN_PROGRESS, COMPLETED or FAILED
	RolloutStateReason  string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Rollback            bool
	ReachedRunning      bool
	LastFailureAt       time.Time
	LaunchFailures      int
	LastLaunchFailureAt time.Time
	Counted             []string
	Placement           *PlacementFailure
}

// PlacementFailure is the last placement failure of a deployment's tasks.
type PlacementFailure struct {
	At             time.Time
	Reason         string
	InstanceID     string
	ClusterVersion uint64
}

// Event is one service event.
type Event struct {
	At      time.Time
	Message string
}
