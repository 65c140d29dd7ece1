package raftnode

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc64"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

// appendEntry appends a command entry to the log of a closed data dir, as
// a newer server would have written it.
func appendEntry(t *testing.T, dir string, data []byte) uint64 {
	t.Helper()
	store, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft", "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	last, err := store.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	var prev raft.Log
	if err := store.GetLog(last, &prev); err != nil {
		t.Fatal(err)
	}
	entry := &raft.Log{Index: last + 1, Term: prev.Term, Type: raft.LogCommand, Data: data, AppendedAt: time.Now()}
	if err := store.StoreLog(entry); err != nil {
		t.Fatal(err)
	}
	return last + 1
}

func openFresh(t *testing.T, dir string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	n, err := Open(context.Background(), Config{DataDir: dir}, fsm.New(testNamer, log), log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Apply(context.Background(), wire.CreateCluster{Meta: wire.Meta{Now: time.Now()}, Name: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

// A log entry of an unknown type or version, or with members this server
// does not know, stops the server at start with an error naming it; a
// skippable unknown type is skipped.
func TestOpenRefusesUnknownEntries(t *testing.T) {
	cases := []struct {
		name  string
		entry []byte
		want  string // "" when the server must start
	}{
		{"unknown type", append([]byte{77, 1}, `{"now":"2026-01-01T00:00:00Z"}`...), "has command type 77 version 1, which this server does not know"},
		{"newer version", append([]byte{byte(wire.TypeCreateCluster), 9}, `{"name":"x"}`...), "is CreateCluster version 9, newer than this server applies (up to version 1)"},
		{"unknown member", append([]byte{byte(wire.TypeCreateCluster), 1}, `{"name":"x","color":"red"}`...), `unknown field "color"`},
		{"skippable unknown type", append([]byte{77 | byte(wire.IgnorableFlag), 1}, `{}`...), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			openFresh(t, dir)
			index := appendEntry(t, dir, tc.entry)
			log := slog.New(slog.DiscardHandler)
			m := fsm.New(testNamer, log)
			n, err := Open(context.Background(), Config{DataDir: dir}, m, log)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer n.Close()
				if m.Snapshot().Cluster("c") == nil {
					t.Fatal("the entries before the skipped one were not applied")
				}
				return
			}
			if err == nil {
				n.Close()
				t.Fatal("the server started on a log it cannot apply")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "entry "+itoa(index)) {
				t.Fatalf("error %q does not name entry %d and %q", msg, index, tc.want)
			}
		})
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// A snapshot of an unknown version stops the server at start.
func TestOpenRefusesUnknownSnapshot(t *testing.T) {
	dir := t.TempDir()
	openFresh(t, dir)
	log := slog.New(slog.DiscardHandler)
	n, err := Open(context.Background(), Config{DataDir: dir}, fsm.New(testNamer, log), log)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	n.Close()
	states, _ := filepath.Glob(filepath.Join(dir, "raft", "snapshots", "*", "state.bin"))
	if len(states) != 1 {
		t.Fatalf("%d snapshots", len(states))
	}
	b, _ := os.ReadFile(states[0])
	b = []byte(strings.Replace(string(b), `"version":`+strconv.Itoa(wire.SnapshotVersion), `"version":`+strconv.Itoa(wire.SnapshotVersion+1), 1))
	if err := os.WriteFile(states[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	// As a newer server would have written it: with its checksum.
	metaPath := filepath.Join(filepath.Dir(states[0]), "meta.json")
	mb, err := os.ReadFile(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal(mb, &meta); err != nil {
		t.Fatal(err)
	}
	sum := crc64.Checksum(b, crc64.MakeTable(crc64.ECMA))
	meta["CRC"] = binary.BigEndian.AppendUint64(nil, sum)
	meta["Size"] = len(b)
	mb, _ = json.Marshal(meta)
	if err := os.WriteFile(metaPath, mb, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err = Open(context.Background(), Config{DataDir: dir}, fsm.New(testNamer, log), log)
	if err == nil {
		n.Close()
		t.Fatal("the server started on a snapshot it cannot read")
	}
	if !strings.Contains(err.Error(), fmt.Sprintf(`unsupported snapshot format "berth-state" version %d`, wire.SnapshotVersion+1)) {
		t.Fatalf("error %q does not name the snapshot version", err)
	}
}
