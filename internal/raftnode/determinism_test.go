package raftnode

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"berth.dev/berth/internal/fsm"
)

// TestReplayIsDeterministic replays the same log (the legacy data dir's,
// from index 1, snapshot ignored) into two fresh machines and compares
// their snapshots byte for byte: Apply reads nothing but the entries.
func TestReplayIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "legacy-v1"), dir)
	store, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft", "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	first, _ := store.FirstIndex()
	last, _ := store.LastIndex()
	if first != 1 {
		t.Fatalf("the fixture's log starts at %d: a compacted log cannot be replayed from empty", first)
	}
	log := slog.New(slog.DiscardHandler)
	a, b := fsm.New(testNamer, log), fsm.New(testNamer, log)
	applied := 0
	for i := first; i <= last; i++ {
		var e raft.Log
		if err := store.GetLog(i, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != raft.LogCommand {
			continue
		}
		ra, rb := a.Apply(i, e.Data), b.Apply(i, e.Data)
		if (ra.Err == nil) != (rb.Err == nil) {
			t.Fatalf("entry %d: results differ: %v / %v", i, ra.Err, rb.Err)
		}
		applied++
	}
	if applied < 50 {
		t.Fatalf("only %d entries applied", applied)
	}
	if pa, pb := persisted(t, a.Snapshot()), persisted(t, b.Snapshot()); pa != pb {
		t.Fatal("two replays of the same log differ")
	}
}
