// Package server is the control plane's composition root: it opens the
// replicated state (raft + state machine) in a data directory, loads or
// creates the root credentials, and serves the ECS API, /metrics and
// /healthz on one HTTP listener until its context ends.
//
// Only cmd/berth (through package cli) and tests import it.
//
// Lifecycle: Start returns once the state is rebuilt (snapshot + log), this
// node leads, and the listener accepts. Close (or the end of Start's
// context, through Wait) stops accepting, lets requests in flight finish
// (bounded), then stops raft. Nothing acknowledged is lost on any stop,
// including kill -9: a write is acknowledged only after its log entry is
// fsynced.
package server
