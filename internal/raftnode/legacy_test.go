package raftnode

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/state"
)

var testNamer = arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}

// copyDir copies the tree at src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func persisted(t *testing.T, s *state.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := fsm.Persist(s, &b); err != nil {
		t.Fatal(err)
	}
	// The records, not the header: its log index differs between a
	// replayed state and one restored from the old release's snapshot.
	_, records, _ := strings.Cut(b.String(), "\n")
	return records
}

// TestLegacyDataDirLoads opens a data dir written by the release before the
// wire schema (testdata/legacy-v1: a raft log whose ServiceRound and
// ServicePlacement entries are version 1, and a version 1 snapshot taken
// half way) and checks that replaying it gives exactly the state that
// release computed from it (testdata/legacy-v1/state.snapshot, written by
// that release's own Persist after the same replay).
func TestLegacyDataDirLoads(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "legacy-v1"), dir)
	log := slog.New(slog.DiscardHandler)
	m := fsm.New(testNamer, log)
	n, err := Open(context.Background(), Config{DataDir: dir}, m, log)
	if err != nil {
		t.Fatalf("open the legacy data dir: %v", err)
	}
	defer n.Close()
	got := persisted(t, m.Snapshot())

	f, err := os.Open(filepath.Join(dir, "state.snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old, err := fsm.ReadSnapshot(f)
	if err != nil {
		t.Fatalf("read the legacy snapshot: %v", err)
	}
	want := persisted(t, old.Snapshot())
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("replayed state differs from the old release's at line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("replayed state has %d lines, the old release's %d", len(gl), len(wl))
	}
	counts := m.Snapshot().Counts()
	for table, n := range map[string]int{state.TableClusters: 2, state.TableServices: 2, state.TableTaskDefinitions: 2,
		state.TableInstances: 1, state.TableServiceDeploys: 3, state.TableSettings: 0, state.TableClientTokens: 1} {
		if counts[table] != n {
			t.Errorf("%s: %d records, want %d (all counts: %v)", table, counts[table], n, counts)
		}
	}
}
