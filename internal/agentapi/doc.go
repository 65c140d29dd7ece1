// Package agentapi is the server side of the agent protocol (package
// agentproto): the push stream that tells each container instance which
// tasks to run or stop, the agents' health reports, the relay that
// carries a container's log from its agent to `berth logs`, and the
// secrets of the tasks an agent starts (secrets.go: resolved through the
// Secrets Manager and SSM APIs' resolvers, for the agent the task is
// assigned to only, never logged).
//
// The stream is driven by state watches, not timers: a handler renders the
// instance's task set from a snapshot, writes it when it differs from what
// it last wrote, and blocks until the instance or its tasks change (or a
// heartbeat or a control message is due). A task change is therefore on the
// wire as soon as it is committed.
//
// Sessions: each stream has a session ID recorded with the instance
// (agentConnected). A newer stream from the same instance replaces the older
// one; the older one's close cannot mark the instance disconnected.
package agentapi
