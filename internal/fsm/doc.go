// Package fsm is berth's replicated state machine: the commands that change
// control-plane state, their encoding in the raft log, and the deterministic
// rules that apply them to package state.
//
// Every write the API accepts becomes one Command. The leader stamps it with
// the time and the caller (wire.Meta) and any IDs it needs, encodes it, and
// proposes it to raft; every server applies the committed entry with Apply.
// Because all inputs that vary (clock, randomness, caller) travel inside the
// command, every replica computes the same state and the same result.
//
// Log entry format: byte 0 is the command type (bit 7 set = a server that does
// not know the type may skip it), byte 1 the payload version, the rest the
// JSON payload. New fields are added compatibly; a change in meaning gets a
// new version, and Apply keeps reading the old ones.
//
// Invariants:
//   - Apply never reads the clock, randomness or the environment.
//   - A command either applies completely or not at all: each apply function
//     checks every precondition before its first write, and the machine
//     aborts the transaction on error.
//   - Stateful rules (existence, idempotency, preconditions, counters) live
//     here, so concurrent requests cannot race past them; stateless input
//     validation happens before proposing.
package fsm
