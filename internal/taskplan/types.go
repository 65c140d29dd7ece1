package taskplan

import "time"

// Condition is a dependsOn condition of a container definition.
type Condition string

// The ECS container dependency conditions.
const (
	ConditionStart    Condition = "START"    // the dependency is running
	ConditionComplete Condition = "COMPLETE" // the dependency exited, any code
	ConditionSuccess  Condition = "SUCCESS"  // the dependency exited with code 0
	ConditionHealthy  Condition = "HEALTHY"  // the dependency's health check passed
)

// Dependency is one dependsOn entry: Container must reach Condition before
// the container that declares it is pulled, created and started.
type Dependency struct {
	Container string
	Condition Condition
}

// ContainerSpec is what the planner needs of a container definition.
type ContainerSpec struct {
	Name      string
	Essential bool
	DependsOn []Dependency
	// StartTimeout is the container definition's startTimeout: how long
	// containers that depend on this one with COMPLETE, SUCCESS or HEALTHY
	// wait for it, counted from when it started. Zero means no limit (the
	// ECS agent has no default for it).
	StartTimeout time.Duration
	// StopTimeout is the grace between SIGTERM and SIGKILL. Zero means the
	// agent default (AgentConfig.StopTimeout).
	StopTimeout time.Duration
	// HealthCheck says the definition has a healthCheck. Containers without
	// one always report health UNKNOWN.
	HealthCheck bool
}

// Phase is the agent's known status of a container. Phases are ordered.
type Phase int

// Container phases (the ECS agent's ContainerStatus without the internal
// ones).
const (
	PhaseNone    Phase = iota // nothing done yet
	PhasePulled               // image present
	PhaseCreated              // runtime container created
	PhaseRunning              // started
	PhaseStopped              // exited after running
)

var phaseNames = [...]string{"NONE", "PULLED", "CREATED", "RUNNING", "STOPPED"}

func (p Phase) String() string {
	if p < 0 || int(p) >= len(phaseNames) {
		return "Phase(?)"
	}
	return phaseNames[p]
}

// Health is a container or task health status.
type Health string

// Health statuses. The empty string reads as HealthUnknown.
const (
	HealthUnknown   Health = "UNKNOWN"
	HealthHealthy   Health = "HEALTHY"
	HealthUnhealthy Health = "UNHEALTHY"
)

// ContainerState is what the shell observed of one container. The shell
// owns it: it updates it when an action starts or ends, when the container
// exits and when its health check reports.
type ContainerState struct {
	Phase Phase
	// Applying is the Pull, Create or Start the shell is executing now (zero
	// when none). The planner issues no other Pull, Create or Start for the
	// container while it is set.
	Applying ActionKind
	// Err is the container's reason as the runtime reported it. Set while
	// Phase < PhaseRunning it means the next step failed and the container
	// will never run: Phase None, Pulled, Created mean the pull, create,
	// start failed ("CannotPullContainerError: ...",
	// "CannotCreateContainerError: ...", "CannotStartContainerError: ...").
	// After an exit it is a plain reason ("OutOfMemoryError: ...").
	Err      string
	ExitCode *int
	Health   Health
	// HealthyAt is when the health check first passed (zero if never). It
	// decides, after the fact, whether a HEALTHY dependency was satisfied
	// within its startTimeout.
	HealthyAt time.Time
	StartedAt time.Time // when it started running
	// FinishedAt is when it exited, or when the action that failed failed.
	FinishedAt time.Time
	// StopSentAt is when the shell began stopping it (SIGTERM); zero if it
	// has not.
	StopSentAt time.Time
}

// Desired statuses of a task, as the control plane sets them.
const (
	DesiredRunning = "RUNNING"
	DesiredStopped = "STOPPED"
)

// AgentConfig holds the agent-wide settings the planner applies. Zero
// durations mean the ECS agent defaults.
type AgentConfig struct {
	StopTimeout   time.Duration // ECS_CONTAINER_STOP_TIMEOUT, default 30s
	StartTimeout  time.Duration // ECS_CONTAINER_START_TIMEOUT, default 3m
	CreateTimeout time.Duration // ECS_CONTAINER_CREATE_TIMEOUT, default 4m
	PullTimeout   time.Duration // ECS_IMAGE_PULL_TIMEOUT, default 2h
	// PullDependentContainersUpfront pulls images before dependsOn is
	// satisfied (ECS_PULL_DEPENDENT_CONTAINERS_UPFRONT, default false).
	PullDependentContainersUpfront bool
}

// The ECS agent's defaults for AgentConfig.
const (
	DefaultStopTimeout   = 30 * time.Second
	DefaultStartTimeout  = 3 * time.Minute
	DefaultCreateTimeout = 4 * time.Minute
	DefaultPullTimeout   = 2 * time.Hour
)

// StopRetryBuffer is how long after a stop's own timeout the planner issues
// the stop again if the container is still running (the ECS agent's
// stopContainerTimeoutBuffer).
const StopRetryBuffer = 2 * time.Minute

// Task is the planner's whole input besides the time.
type Task struct {
	// Desired is DesiredRunning or DesiredStopped (anything else reads as
	// running). Once stopped it never goes back.
	Desired string
	// StopCode and StopReason come with the control plane's stop request.
	// Empty means UserInitiated and "Task stopped by user".
	StopCode, StopReason string
	// StoppingAt is when the control plane asked to stop. A failure of the
	// task itself that happened strictly before it keeps its own stop code;
	// zero means the request wins.
	StoppingAt time.Time
	Containers []ContainerSpec
	States     []ContainerState // same order as Containers; missing = zero
	CreatedAt  time.Time
	Agent      AgentConfig
}

// Task stop codes and reasons the planner produces.
const (
	StopCodeTaskFailedToStart        = "TaskFailedToStart"
	StopCodeEssentialContainerExited = "EssentialContainerExited"
	StopCodeUserInitiated            = "UserInitiated"

	ReasonEssentialContainerExited = "Essential container in task exited"
	ReasonTaskFailedToStart        = "Task failed to start"
	ReasonStoppedByUser            = "Task stopped by user"
)
