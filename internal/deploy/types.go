package deploy

import "time"

// Scheduling strategies (Service.SchedulingStrategy).
const (
	Replica = "REPLICA"
	Daemon  = "DAEMON"
)

// Deployment statuses (Deployment.Status). INACTIVE deployments are not
// kept: a deployment that is no longer in Result.Deployments is INACTIVE.
const (
	StatusPrimary = "PRIMARY"
	StatusActive  = "ACTIVE"
)

// Rollout states (Deployment.RolloutState).
const (
	RolloutInProgress = "IN_PROGRESS"
	RolloutCompleted  = "COMPLETED"
	RolloutFailed     = "FAILED"
)

// Task statuses the reconciler distinguishes (Task.LastStatus,
// Task.DesiredStatus). Any lastStatus before RUNNING (PROVISIONING,
// PENDING, ACTIVATING, "") counts as pending; the ones after it
// (DEACTIVATING, STOPPING, DEPROVISIONING) as neither running nor
// stopped.
const (
	TaskRunning = "RUNNING"
	TaskStopped = "STOPPED"
)

// Task health statuses (Task.Health).
const (
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
	HealthUnknown   = "UNKNOWN"
)

// Target health states, as ELBv2 spells them (Target.State). Any other
// state (unavailable, ...) counts like initial: not healthy, not failed.
// ELB's unhealthy.draining (NLB) counts as unhealthy.
const (
	TargetInitial   = "initial"
	TargetHealthy   = "healthy"
	TargetUnhealthy = "unhealthy"
	TargetDraining  = "draining"
	TargetUnused    = "unused"
)

// Container instance statuses (Instance.Status). Any other status
// (INACTIVE, DEREGISTERING, ...) means the instance is gone.
const (
	InstanceActive   = "ACTIVE"
	InstanceDraining = "DRAINING"
)

// Stop codes, as ECS spells them (Task.StopCode, Stop.StopCode).
const (
	StopTaskFailedToStart         = "TaskFailedToStart"
	StopEssentialContainerExited  = "EssentialContainerExited"
	StopUserInitiated             = "UserInitiated"
	StopServiceSchedulerInitiated = "ServiceSchedulerInitiated"
	StopSpotInterruption          = "SpotInterruption"
	StopTerminationNotice         = "TerminationNotice"
)

// Input is everything one reconcile round of one service reads. Reconcile
// never modifies it.
type Input struct {
	// Now is the time of the round.
	Now time.Time
	// Service is the service's configuration.
	Service Service
	// Deployments is the service's deployments array: one PRIMARY and
	// any number of ACTIVE deployments, in any order. When several claim
	// PRIMARY, the newest (CreatedAt, then ID) is the PRIMARY.
	Deployments []Deployment
	// Tasks are the service's tasks: every task whose desired or last
	// status is not STOPPED, and the STOPPED ones the shell still keeps
	// (ECS keeps them for at least an hour). A task's DeploymentID is its
	// startedBy.
	Tasks []Task
	// Instances are the cluster's registered container instances. A task
	// on an instance that is not listed, or not ACTIVE or DRAINING, has
	// lost its host.
	Instances []Instance
	// Events are the service's recent events, oldest first. They are
	// read only to suppress duplicates.
	Events []Event
	// ClusterVersion changes whenever a container instance or a task of
	// the cluster changes (for example the highest raft index among them).
	// A placement failure recorded at one version is not retried until
	// the version changes or Config.PlacementRetry passes.
	ClusterVersion uint64
	// Config holds the timings; zero fields take their defaults.
	Config Config
}

// Service is the part of an ECS service the reconciler reads.
type Service struct {
	// Name is the service name, used in event messages.
	Name string
	// SchedulingStrategy is REPLICA (the default when empty) or DAEMON.
	SchedulingStrategy string
	// DesiredCount is the desired number of tasks (REPLICA). A DAEMON
	// service computes its own (Result.DesiredCount).
	DesiredCount int
	// MinimumHealthyPercent and MaximumPercent are the deployment
	// configuration, already defaulted by the API (REPLICA 100/200,
	// DAEMON 0/100).
	MinimumHealthyPercent int
	MaximumPercent        int
	// CircuitBreaker is deploymentConfiguration.deploymentCircuitBreaker.
	CircuitBreaker CircuitBreaker
	// HealthCheckGracePeriod is healthCheckGracePeriodSeconds.
	HealthCheckGracePeriod time.Duration
	// TargetGroups is how many ELBv2 target groups the service's
	// loadBalancers name (0: no load balancer). With target groups, a
	// task counts as healthy only once its targets are healthy in every
	// one of them (Task.Targets).
	TargetGroups int
	// LastCompleted is the most recent deployment that reached COMPLETED
	// and is not being rolled back to: the circuit breaker's rollback
	// target. The shell keeps it (Result.LastCompleted) after the
	// deployment leaves the array.
	LastCompleted *Deployment
}

// CircuitBreaker is the deployment circuit breaker configuration.
type CircuitBreaker struct {
	Enable   bool
	Rollback bool
}

// Deployment is one entry of the deployments array, plus the bookkeeping
// the reconciler keeps in it between rounds. The shell stores what
// Result.Deployments returns, bookkeeping included, and shows the API
// fields in DescribeServices.
type Deployment struct {
	// ID is ecs-svc/<digits>; tasks of the deployment carry it in
	// startedBy.
	ID string
	// Status is PRIMARY or ACTIVE.
	Status string
	// TaskDefinition is the deployment's task definition (ARN or
	// family:revision; the reconciler only passes it through).
	TaskDefinition string
	// HealthChecks: an essential container of the task definition has a
	// health check, so a task counts as healthy when its health is
	// HEALTHY, not after Config.SettleTime of RUNNING.
	HealthChecks bool
	// DesiredCount, RunningCount, PendingCount and FailedTasks are the
	// API counts; the reconciler recomputes them each round.
	DesiredCount int
	RunningCount int
	PendingCount int
	FailedTasks  int
	// RolloutState is IN_PROGRESS (also when empty), COMPLETED or FAILED,
	// with RolloutStateReason.
	RolloutState       string
	RolloutStateReason string
	CreatedAt          time.Time
	// UpdatedAt is set to Now whenever the reconciler changes the
	// deployment.
	UpdatedAt time.Time
	// Rollback: the circuit breaker re-deployed this deployment.
	Rollback bool

	// Bookkeeping, not shown by the API.

	// ReachedRunning: a task of the deployment has reached RUNNING, so the
	// circuit breaker is in stage 2.
	ReachedRunning bool
	// LastFailureAt is when the circuit breaker last counted a failure.
	LastFailureAt time.Time
	// LaunchFailures counts consecutive tasks that stopped before reaching
	// RUNNING (the launch throttle), LastLaunchFailureAt the latest one.
	LaunchFailures      int
	LastLaunchFailureAt time.Time
	// Counted lists the stopped tasks already counted, so a task is
	// counted once; the reconciler drops IDs no longer in Input.Tasks.
	Counted []string
	// Placement is the last placement failure of the deployment's tasks,
	// written by the shell after it placed a Start (nil after a placement
	// that placed every task).
	Placement *PlacementFailure
}

// PlacementFailure is what the shell records when the scheduler could not
// place every task of a Start.
type PlacementFailure struct {
	// At is when placement ran.
	At time.Time
	// Reason is the scheduler's reason for the closest matching instance
	// (RESOURCE:MEMORY, RESOURCE:CPU, RESOURCE:PORTS, ATTRIBUTE, AGENT,
	// a constraint's message, ...). Empty with an empty InstanceID: the
	// cluster has no container instances; with an empty InstanceID and a
	// reason: the task could not be launched at all (its task definition
	// is gone, a role cannot be assumed), and Reason is ECS's error.
	Reason string
	// InstanceID is the closest matching container instance (the shell
	// picks one of the scheduler's failures; berth takes the first).
	InstanceID string
	// ClusterVersion is Input.ClusterVersion as it is after the placement
	// (including the tasks it created), so that the next round does not
	// retry against an unchanged cluster.
	ClusterVersion uint64
}

// Task is the part of an ECS task the reconciler reads.
type Task struct {
	ID string
	// DeploymentID is the task's startedBy: the deployment that started
	// it.
	DeploymentID string
	// InstanceID is the container instance the task was placed on.
	InstanceID string
	// AvailabilityZone is the task's availability zone (its instance's).
	AvailabilityZone string
	// LastStatus and DesiredStatus as in the API.
	LastStatus    string
	DesiredStatus string
	// Health is the task's healthStatus: HEALTHY, UNHEALTHY or UNKNOWN.
	Health string
	// CreatedAt; StartedAt is set when the task reached RUNNING and is
	// zero if it never did; StoppingAt when its desired status became
	// STOPPED; StoppedAt when it reached STOPPED.
	CreatedAt  time.Time
	StartedAt  time.Time
	StoppingAt time.Time
	StoppedAt  time.Time
	// StopCode and StoppedReason as in the API.
	StopCode      string
	StoppedReason string
	// Targets are the task's registrations in the service's target
	// groups, one per target group and registered port, with their
	// current health (empty while the task is not registered yet). When
	// the shell deregisters them (the task is stopping or stopped) it
	// keeps the states they had before: the reconciler reads a stopped
	// task's targets to tell whether it ended healthy in its target
	// groups (circuit breaker).
	Targets []Target
}

// Target is one registration of a task in a target group, with its
// health as ELBv2 reports it (DescribeTargetHealth).
type Target struct {
	TargetGroupARN string
	// ID is the target id: the task's IP address (awsvpc, target type
	// ip) or the container instance's EC2 instance id, i-... (bridge and
	// host, target type instance).
	ID   string
	Port int
	// State is initial, healthy, unhealthy, draining or unused; Reason
	// and Description are ELB's (Target.FailedHealthChecks / "Health
	// checks failed", Target.ResponseCodeMismatch / "Health checks failed
	// with these codes: [502]", ...).
	State       string
	Reason      string
	Description string
}

// Instance is the part of a container instance the reconciler reads.
type Instance struct {
	ID               string
	AvailabilityZone string
	// Status is ACTIVE, DRAINING, or anything else for an instance that
	// cannot run tasks.
	Status string
	// Connected is agentConnected; DisconnectedAt is when the agent last
	// disconnected (zero: unknown, treated as just now).
	Connected      bool
	DisconnectedAt time.Time
	// Eligible (DAEMON only): the instance satisfies the service's
	// placement constraints and the task definition's required
	// attributes, so it should run one task of the service.
	Eligible bool
}

// Event is one recorded service event.
type Event struct {
	At      time.Time
	Message string
}

// Result is the decision of one round. The shell applies it in this order:
// Lost, Stops, the deployments and events, then Starts (placing them and
// recording the outcome).
type Result struct {
	// Lost are tasks whose host is lost: the shell sets them STOPPED
	// directly (no agent will confirm) with the given code and reason.
	Lost []Stop
	// Stops are tasks to stop (desired status STOPPED), in the order
	// they were picked.
	Stops []Stop
	// Starts are tasks to start, at most one entry per deployment (only
	// the PRIMARY starts tasks).
	Starts []Start
	// Deployments is the new deployments array: it replaces the service's.
	// A deployment that is not in it is INACTIVE and gone.
	Deployments []Deployment
	// LastCompleted is the new Service.LastCompleted.
	LastCompleted *Deployment
	// DesiredCount is the service's desired count: the input's for
	// REPLICA, the number of eligible instances for DAEMON.
	DesiredCount int
	// Events are new service event messages, oldest first; the shell
	// records them with Now (and an id). "has started N tasks" is the
	// shell's to record after placement: see StartedMessage.
	Events []string
	// Wake is when the next timed decision falls due (a task settling,
	// a grace period ending, a backoff or placement retry expiring, a
	// host becoming lost, a suppressed event becoming repeatable). Zero:
	// nothing is due; only a change of the input needs a new round.
	Wake time.Time
	// Changed reports whether the round changed anything: an action, an
	// event, or a difference in Deployments, LastCompleted or
	// DesiredCount. The shell writes nothing when it is false.
	Changed bool
}

// Stop asks for one task to stop.
type Stop struct {
	TaskID string
	// StopCode is ServiceSchedulerInitiated (Stops) or TerminationNotice
	// (Lost); Reason is the stoppedReason.
	StopCode string
	Reason   string
}

// Start asks for tasks of one deployment to be placed and started.
type Start struct {
	DeploymentID   string
	TaskDefinition string
	// Count tasks to place (REPLICA): the scheduler picks the instances
	// (RunTask-style placement with the service's strategy).
	Count int
	// Instances (DAEMON): one task on each (StartTask-style placement).
	Instances []string
	// ReplacesUnhealthy is how many of the tasks replace tasks stopped
	// this round for failing health checks (for StartedMessage).
	ReplacesUnhealthy int
}
