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
package agent
