package fsm

import "errors"

// Errors a proposer (the consensus layer) returns when a command's fate is
// not the state machine's answer. Callers tell them apart with errors.Is.
var (
	// ErrNotCommitted: the command was never appended to the log (this
	// server does not lead, or raft's queue was full); retrying it cannot
	// apply it twice.
	ErrNotCommitted = errors.New("the command was not committed")
	// ErrOutcomeUnknown: the command was handed to consensus but its commit
	// was not confirmed (the caller stopped waiting, leadership was lost,
	// or the server shut down): it may have been applied, or may not.
	ErrOutcomeUnknown = errors.New("the command's commit outcome is unknown")
)
