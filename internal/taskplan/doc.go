// Package taskplan decides the lifecycle of one task on the agent: which
// container to pull, create, start or stop next, what to report as the
// task's and the containers' status, stop code, reason and health, and
// when to look again. It follows the Amazon ECS container agent
// (aws/amazon-ecs-agent: agent/engine/task_manager.go,
// agent/engine/dependencygraph/graph.go, agent/api/task/task.go).
//
// Next is a pure function of the task (its container definitions, what the
// shell observed of each container, the control plane's desired status) and
// the time. It does no I/O, starts no goroutine, reads no clock and keeps
// no state, so it is safe for concurrent use. The agent runs one goroutine
// per task; on every event (an action ended, a container exited, a health
// check reported, the desired status changed, Wake came) it updates the
// Task and calls Next, then executes the returned actions.
//
// # The shell's side of the contract
//
//   - Issuing Pull, Create or Start: set Applying to it. When it ends, clear
//     Applying and either advance Phase (PULLED, CREATED, or RUNNING with
//     StartedAt) or, on error, set Err to the ECS error text
//     ("CannotPullContainerError: ...") and FinishedAt.
//   - Issuing Stop: set StopSentAt; SIGTERM, wait Action.Timeout, SIGKILL.
//   - A container exits: Phase STOPPED, ExitCode, FinishedAt (and Err for a
//     runtime reason such as "OutOfMemoryError: ...").
//   - A health check reports: Health, and HealthyAt the first time it passes.
//   - The control plane stops the task: Desired, StopCode, StopReason,
//     StoppingAt.
//   - Apply ECS_IMAGE_PULL_BEHAVIOR itself and report a pull error only when
//     it is fatal (no cached image to fall back on, or "always"/"once").
//   - Timestamps come from a real clock: never zero, and two events that
//     happen one after the other have different times.
//
// # State machines
//
// A container (Phase is the agent's known status; the reported lastStatus
// is below it):
//
//	        pull           create            start             exit
//	NONE ---------> PULLED ---------> CREATED ---------> RUNNING ---------> STOPPED
//	PENDING         PENDING           PENDING            RUNNING            STOPPED
//	  |               |                 |
//	  +---------------+-----------------+--> never runs: its action failed, a
//	                                         dependency can never be met, or the
//	                                         task is stopping; reported STOPPED
//
// Each of pull, create and start waits until every dependsOn condition is
// met (pull does not wait with PullDependentContainersUpfront).
//
// The task (reported Status; Desired is the effective desired status):
//
//	PENDING ------------------> RUNNING ------------------> STOPPED
//	  |   every container started, or (non-        every container
//	  |   essential) unable to run, and no         reports STOPPED
//	  |   essential container stopped first             ^
//	  +-------------------------------------------------+
//	Desired RUNNING --> STOPPED when the control plane asks, or the task
//	fails on its own; then nothing is pulled, created or started, and
//	running containers are stopped in reverse dependency order.
//
// # Decisions and their sources
//
// Dependencies (graph.go, containerOrderingDependenciesIsResolved):
//   - START is met while the dependency is RUNNING, COMPLETE once it
//     exited with an exit code, SUCCESS once it exited 0, HEALTHY while its
//     health is HEALTHY. The check is made before each step of the
//     dependent, and not again once a start is under way.
//   - Images of dependents are not pulled before their dependencies are met
//     unless AgentConfig.PullDependentContainersUpfront
//     (ECS_PULL_DEPENDENT_CONTAINERS_UPFRONT, default false).
//   - A dependency that can never be met makes its dependent unable to run
//     (graph.go terminal dependencyError): a SUCCESS dependency that exited
//     non-zero; a dependency that will never start (its own action failed,
//     or its dependencies can never be met: HasNotAndWillNotStart); an
//     unknown dependency name. Berth adds three cases where the ECS agent
//     waits forever: a START dependency that stopped before the dependent
//     started, a HEALTHY dependency that stopped without being healthy, a
//     COMPLETE dependency that stopped without an exit code.
//   - startTimeout belongs to the dependency: its dependents wait at most
//     that long from when it started, for COMPLETE, SUCCESS and HEALTHY only
//     (hasDependencyTimedOut; the API reference's containerA/containerB
//     example). Zero means no limit: the agent has no default for it
//     (Container.GetStartTimeout). ECS_CONTAINER_START_TIMEOUT is a different
//     thing, the start call's timeout. Berth judges the timeout from
//     timestamps (HealthyAt, FinishedAt against StartedAt+startTimeout), so
//     the verdict never changes afterwards; the ECS agent also times out a
//     dependent still pulling after its condition was met, and stops
//     checking once the dependency has stopped.
//   - A container that cannot run because of its dependencies is reported
//     STOPPED with exit code 143 and the reason "CannotStartContainerError:
//     dependency graph: ..." (task_manager.go
//     handleTerminalDependencyError). It fails the task only if it is
//     essential (task.go updateTaskDesiredStatus); the task's stopCode is
//     then TaskFailedToStart and its stoppedReason "Task failed to start"
//     (the text users report for startTimeout failures).
//
// Failures of the task itself (task.go updateTaskDesiredStatus,
// task_manager.go handleEventError; texts from ecs-semantics.md §5.4):
//   - An image pull error stops the task whatever the essential flag, with
//     TaskFailedToStart and the error as stoppedReason
//     ("CannotPullContainerError: ...").
//   - A create or start error leaves that container unable to run; if it is
//     essential the task stops with TaskFailedToStart and the error text.
//   - An essential container that stops stops the task:
//     EssentialContainerExited, "Essential container in task exited". A
//     non-essential one that exits changes nothing but its dependents.
//   - The first cause wins: the control plane's request (StopCode, default
//     UserInitiated and "Task stopped by user") unless the task failed on
//     its own strictly before StoppingAt; of two causes at the same instant
//     the request counts first. Among the task's own failures the earliest
//     wins (then pull, action, dependency, exit; then container order).
//
// Stopping (task_manager.go containerNextState, graph.go verifyShutdownOrder,
// docker_task_engine.go stopContainer, docker_client.go):
//   - A container that never started is reported STOPPED at once, without
//     an action, unless its start is under way: then it is stopped once it
//     runs. News about such a container that comes after the stop began (a
//     pull that fails late, a dependency that stops) is ignored, as the ECS
//     agent treats it as a redundant transition.
//   - A running container is stopped only once every container that
//     declares a dependency on it (any condition) reports STOPPED.
//   - The stop's timeout is the container's stopTimeout, else
//     AgentConfig.StopTimeout (ECS_CONTAINER_STOP_TIMEOUT, 30s). A container
//     still running StopRetryBuffer (2m, stopContainerTimeoutBuffer) after
//     that is sent the stop again.
//   - Pull, Create and Start carry ECS_IMAGE_PULL_TIMEOUT (2h),
//     ECS_CONTAINER_CREATE_TIMEOUT (4m) and ECS_CONTAINER_START_TIMEOUT (3m).
//
// Reporting:
//   - Status is what the agent reports: PENDING, RUNNING or STOPPED (only
//     RUNNING and STOPPED are "backend recognised"; earlier statuses read as
//     PENDING). STOPPING/DEACTIVATING are control-plane views; the control
//     plane can derive them from Desired.
//   - The task reaches RUNNING when every container has started (or, if
//     non-essential, was found unable to run): the agent's known status is
//     the minimum over containers, a stopped one counting as past RUNNING.
//     It does not reach RUNNING if an essential container stopped before
//     that moment (task.go updateTaskKnownStatus, agent PR #592). Once
//     reached it stays until STOPPED. StartedAt is that moment.
//   - Health follows ecs-semantics.md §5.5 over essential containers: any
//     UNHEALTHY gives UNHEALTHY, else any UNKNOWN gives UNKNOWN, else
//     HEALTHY. A container without a health check is UNKNOWN, so is a task
//     without any. Health never stops a task here (standalone tasks run on;
//     services replace unhealthy tasks elsewhere).
//   - ExecutionStoppedAt is when the first essential container stopped or
//     was found unable to run (RecordExecutionStoppedAt).
//   - Wake is the earliest dependency startTimeout still running out or stop
//     to retry.
//
// Not modelled: restartPolicy, task resources (volumes, ENIs, pause
// containers), MANIFEST_PULLED, the internal CREATE condition, serial pulls.
// Dependency cycles and duplicate names are rejected by taskdef; a cycle
// here only waits.
//
// # Invariants (checked by the property tests)
//
//   - Next is deterministic and does not modify its input.
//   - Pull, Create and Start are issued only while Desired is RUNNING, one
//     step at a time, never while another is under way, and Create and
//     Start (and Pull, unless upfront) only once every dependsOn condition
//     holds. No container waits on a dependency past its startTimeout.
//   - Once Desired is STOPPED it stays STOPPED.
//   - A stop is issued only for a running container whose dependents all
//     report STOPPED, and not again before its retry time.
//   - When every container has stopped, Status is STOPPED; once STOPPED,
//     Status, StopCode and StoppedReason never change and no action is
//     issued. Every run reaches STOPPED once stopped containers exit.
//   - Status RUNNING means every essential container has started; RUNNING
//     never goes back to PENDING.
//   - Health is the §5.5 rule; nothing changes before Wake but by events.
package taskplan
