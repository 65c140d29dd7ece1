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
// The persisted format (log entries and snapshot records) is package wire's;
// this package decodes every version it knows through one applier table
// (appliers.go), upgrades old versions to the current one, and converts
// records to and from package state's. An entry it cannot decode, or whose
// type or version it does not know, is never skipped (Check, Apply).
//
// Invariants:
//   - Apply never reads the clock, randomness or the environment: the same
//     entries give the same state, byte for byte.
//   - An applier that panics changes nothing (the command is an error on
//     every replica alike).
//   - A command either applies completely or not at all: each apply function
//     checks every precondition before its first write, and the machine
//     aborts the transaction on error.
//   - Stateful rules (existence, idempotency, preconditions, counters) live
//     here, so concurrent requests cannot race past them; stateless input
//     validation happens before proposing.
package fsm
