package raftnode

import (
	"fmt"

	"github.com/hashicorp/raft"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

// checkSnapshot refuses to start on a newest snapshot this server cannot
// read (raft would only say that it failed to load any).
func checkSnapshot(snaps raft.SnapshotStore) error {
	metas, err := snaps.List()
	if err != nil || len(metas) == 0 {
		return nil // raft reports what it cannot list
	}
	_, rc, err := snaps.Open(metas[0].ID)
	if err != nil {
		return nil
	}
	defer rc.Close()
	if err := fsm.CheckSnapshot(rc); err != nil {
		return fmt.Errorf("refusing to start: snapshot %s: %w", metas[0].ID, err)
	}
	return nil
}

// checkLog refuses a log that holds an entry this server cannot apply (an
// unknown command type or version, not marked skippable, or a payload with
// members this server does not know): the server stops
// at start with an error naming the entry, rather than skip it and diverge
// from the servers that applied it. (Snapshots are checked as they are
// restored: fsm.ReadSnapshot refuses an unknown format or version.)
func checkLog(logs raft.LogStore) error {
	first, err := logs.FirstIndex()
	if err != nil {
		return fmt.Errorf("read raft log: %w", err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return fmt.Errorf("read raft log: %w", err)
	}
	if last == 0 {
		return nil
	}
	var entry raft.Log
	for i := first; i <= last; i++ {
		if err := logs.GetLog(i, &entry); err != nil {
			return fmt.Errorf("read raft log entry %d: %w", i, err)
		}
		if entry.Type != raft.LogCommand {
			continue
		}
		if err := fsm.Check(i, entry.Data); err != nil {
			return fmt.Errorf("refusing to start: %w", err)
		}
		if wire.Type(entry.Data[0])&wire.IgnorableFlag != 0 {
			continue // skippable, and perhaps unknown
		}
		if _, err := fsm.Decode(entry.Data); err != nil {
			return fmt.Errorf("refusing to start: raft log entry %d cannot be decoded by this server (written by a newer berth?): %w", i, err)
		}
	}
	return nil
}
