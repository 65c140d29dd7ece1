package raftnode

import (
	"fmt"

	"github.com/hashicorp/raft"

	"berth.dev/berth/internal/fsm"
)

// checkLog refuses a log that holds an entry this server cannot apply (an
// unknown command type or version, not marked skippable): the server stops
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
	}
	return nil
}
