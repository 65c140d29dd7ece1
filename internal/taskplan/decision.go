package taskplan

import "time"

// ActionKind is what the shell must do to a container. The zero value is no
// action (ContainerState.Applying uses it).
type ActionKind int

// Actions, in the order a container goes through them.
const (
	Pull ActionKind = iota + 1
	Create
	Start
	Stop
)

var actionNames = [...]string{"none", "pull", "create", "start", "stop"}

func (k ActionKind) String() string {
	if k < 0 || int(k) >= len(actionNames) {
		return "ActionKind(?)"
	}
	return actionNames[k]
}

// Action is one runtime call for the shell to make. Timeout bounds the call:
// for Pull, Create and Start the agent's API timeouts, for Stop the grace
// between SIGTERM and SIGKILL.
type Action struct {
	Kind      ActionKind
	Container int // index into Task.Containers
	Timeout   time.Duration
}

// Container statuses as ECS reports them (Container.lastStatus).
const (
	StatusPending = "PENDING"
	StatusRunning = "RUNNING"
	StatusStopped = "STOPPED"
)

// ContainerReport is what to report for one container.
type ContainerReport struct {
	Status   string // PENDING, RUNNING or STOPPED
	Reason   string // the container's reason, empty if none
	ExitCode *int
	Health   Health
}

// Decision is the planner's whole output.
type Decision struct {
	// Actions to execute now, in container order. Never two for one
	// container.
	Actions []Action
	// Status is the task's lastStatus as the agent reports it: PENDING,
	// RUNNING or STOPPED.
	Status string
	// Desired is the task's effective desired status: STOPPED once the
	// control plane asked or the task failed on its own.
	Desired string
	// StopCode and StoppedReason are set once Desired is STOPPED.
	StopCode, StoppedReason string
	Health                  Health // the task's healthStatus
	Containers              []ContainerReport
	// StartedAt is when the task reached RUNNING (zero if it has not).
	StartedAt time.Time
	// ExecutionStoppedAt is when the first essential container stopped or
	// failed, once the task is stopping (zero otherwise).
	ExecutionStoppedAt time.Time
	// Wake is when to call Next again without an event (a dependency's
	// startTimeout or a stop to retry); zero for never.
	Wake time.Time
}
