// Package state holds berth's control-plane state in memory: one table per
// resource kind, indexed, with point-in-time read-only snapshots.
//
// It is built on go-memdb (immutable radix trees), so a Snapshot is a
// consistent view that never changes while writes go on, and taking one is
// O(1). The replicated state machine (package fsm) is the only writer; the
// API, controllers and raft snapshots read through Snapshots.
//
// Invariants:
//   - Records are immutable once inserted. A writer builds a new record (copy,
//     then replace changed members) and inserts it; nothing ever mutates a
//     record, or a slice or map reachable from one, that a Snapshot may see.
//   - There is at most one write transaction at a time (memdb serialises them);
//     Txn is not safe for concurrent use, Snapshot is.
//   - Iteration order is the primary-key order, which makes listings and
//     pagination stable.
//   - A watch channel fires when what it watches changes, or never if the
//     store is replaced: waiters also wait on Snapshot.Abandoned.
//
// The record types are the domain's; they are not the persisted format
// (package fsm/wire is, and fsm converts).
//
// The package knows nothing of raft, HTTP or time: callers pass everything in.
package state
