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
//   - The agent talks to the server only over the network (ECS API + package
//     agentproto); it imports nothing of the server.
//
// # Persistence
//
// The data dir holds what the agent must remember across restarts:
//
//	agent-state.json  the registration: cluster and container instance ARN
//	tasks/ID.json     one file per task: its spec, its containers' runtime
//	                  IDs and the status the server last acknowledged
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
// its spec written before any of its containers is created, and the
// registration are fsynced before the rename. Later changes are not,
// because they can be rebuilt: container IDs from the runtime's labels
// (recover), an acknowledgement by reporting again (the server ignores a
// report it has), a deletion by cleaning up again. The directory is not
// fsynced: a power loss may lose the newest rename, never tear a file.
package agent
