// Package raftnode runs berth's consensus: it is the only package that imports
// hashicorp/raft. It keeps the raft log and stable store in a bbolt file
// (raft-boltdb) and snapshots in files under the data directory, and feeds
// committed entries to the state machine of package fsm.
//
// Guarantees:
//   - Apply returns only after the command is committed (written and fsynced
//     on a quorum; on one node, on this node) and applied to the state
//     machine, so a read made after Apply returns sees the write.
//   - Concurrent Applys are batched: raft groups the commands waiting in its
//     queue into one log append and one fsync.
//   - On start the state is rebuilt from the newest snapshot plus the log
//     after it; Open returns once this node leads and has applied the whole
//     log.
//
// Today a node runs alone (a one-voter cluster on an in-memory transport, so
// it needs no port). Writes are leader-only by construction: Apply answers
// ErrNotLeader on a follower, which is the hook for the multi-server issue to
// add a network transport, joining, and request forwarding to the leader.
package raftnode
