// Package agent is berth's container agent: the composition root that runs
// on every host. It registers the host as a container instance (real CPU and
// memory, reserved ports, ECS's built-in attributes and capabilities), keeps
// the server's push stream open, runs one goroutine per task that drives a
// runtime driver with the decisions of package taskplan, reports state
// changes with the ECS agent actions (SubmitTaskStateChange,
// SubmitContainerStateChange), runs health checks, and relays logs.
//
// Invariants:
//   - Containers outlive the agent. The agent persists what it runs in its
//     data dir; after a restart it adopts the containers it still finds (no
//     orphan, no duplicate) and reconciles with the server when the stream
//     opens again: tasks the server no longer wants are stopped.
//   - A control-plane outage never stops a task: while the stream is down the
//     agent keeps running what it runs and queues its reports.
//   - A task that stopped, or was told to stop, is never started again:
//     nothing is pulled, created or started for it, before or after a
//     restart, whatever list the server sends (see Persistence).
//   - ecs.capability.task-cpu-mem-limit is advertised only when the
//     runtime enforces task limits (driver.TaskLimitsEnforced).
//   - The agent talks to the server only over the network (ECS API + package
//     agentproto); it imports nothing of the server.
//
// For tests and tools the agent tells when it is done with what it knows:
// Synced (the server's full task list of the current stream is applied),
// WaitSettled (that, every runner has acted on all it was told and saw,
// and every report is acknowledged) and TaskStatus (the status it decided
// for a task).
//
// # Persistence
//
// The data dir holds what the agent must remember across restarts:
//
//	agent-state.json  the registration: cluster and container instance ARN
//	tasks/ID.json     one record per task that still runs or still needs
//	                  reporting or cleaning up (savedTask)
//	awslogs/ID/C.json the position of the last line of container C shipped
//	                  to the server's log store (awslogs log driver:
//	                  awslogs.go), removed with the task's clean-up
//
// Secret values (containerDefinitions[].secrets, fetched from the server
// as a task starts: secrets.go) are never written here: the records hold
// the task definition, whose secrets are references (valueFrom); the
// values live in the runner's memory and reach the runtime in
// driver.Spec.Secrets.
//
// A task's record lives from the moment the agent first sees the task until
// its clean-up:
//
//  1. Created, before any container, with the task as the server sent it
//     and the desired status. Each container's runtime ID is added once it
//     is created.
//  2. Stopping: once the server asks the task to stop, or it fails on its
//     own, the record holds the desired status and the stop (code, reason,
//     time). From then on nothing is pulled, created or started for the
//     task, also by an agent restarted meanwhile.
//  3. STOPPED: once every container has stopped and no runtime call is in
//     flight, the record holds stoppedAt and the STOPPED report. The task
//     has no runner any more; a restarted agent sends that report again
//     until the server has it.
//  4. Reported: the server acknowledged the STOPPED report, or no longer
//     lists the task. A task without a container left is then forgotten at
//     once; one with containers is cleaned up at stoppedAt +
//     TaskCleanupWait (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION): its
//     containers are removed, then its cgroup (driver.TaskCgroups: the
//     task-level cpu and memory of every container the agent creates are
//     its limits), then its record is deleted; what fails is tried again. The deadline is
//     in the record, so a restart keeps it (and cleans up at once a task
//     past it).
//
// After a restart the agent adopts what the records hold: a runner for each
// task that had not stopped, with the containers the runtime still has
// (one it no longer has has stopped); nothing but the report and the
// clean-up for a STOPPED one, whose containers the runtime no longer has
// are forgotten. A record written by an agent before this lifecycle (no
// format, stoppedAt, desired status or stop) is read as well: acknowledged,
// it is STOPPED since its last container's exit; otherwise its runner
// starts nothing until the server lists the task, and is stopped and
// forgotten when the server's list lacks it.
//
// Every file is replaced whole (a hidden temporary file, then a rename), so
// an agent that dies at any point leaves each file as it was before or
// after a change, never half-written. A task's change rewrites that task's
// file alone, under that task's lock: it costs the same with one task or a
// thousand, a task's changes reach the disk in order, and tasks never wait
// for each other.
//
// Against a power loss (the containers die with the host; what matters is
// that a task is not forgotten and started again): a task's first record,
// its spec written before any of its containers is created, the record of
// its stop (a task told to stop, or failing, is never started again) and
// the registration are fsynced before the rename. Later changes are not,
// because they can be rebuilt: container IDs from the runtime's labels
// (recover), stoppedAt and the STOPPED report by going through the stop
// the record holds again, an acknowledgement by reporting again (the server ignores a
// report it has), a deletion by cleaning up again. The directory is not
// fsynced: a power loss may lose the newest rename, never tear a file.
package agent
