package fsm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

// FuzzDecodeEntry: decoding any bytes as a log entry never panics, and an
// entry that decodes applies without panicking (a rule it breaks is an
// error result).
func FuzzDecodeEntry(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "entries", "*.json"))
	for _, path := range paths {
		m := entryName.FindStringSubmatch(filepath.Base(path))
		b, _ := os.ReadFile(path)
		var n, v int
		for _, c := range m[1] {
			n = n*10 + int(c-'0')
		}
		for _, c := range m[3] {
			v = v*10 + int(c-'0')
		}
		f.Add(append([]byte{byte(n), byte(v)}, bytes.TrimSpace(b)...))
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{0x81, 1, '{', '}'})
	seed := newMachine()
	for _, c := range story()[:6] { // a cluster, a task definition, a connected instance
		b, _ := wire.Encode(c)
		seed.apply(b)
	}
	f.Fuzz(func(t *testing.T, entry []byte) {
		c, err := fsm.Decode(entry)
		if err != nil {
			return
		}
		b, err := wire.Encode(c)
		if err != nil {
			t.Fatalf("a decoded command does not encode: %v", err)
		}
		if _, err := fsm.Decode(b); err != nil {
			t.Fatalf("a re-encoded command does not decode: %v", err)
		}
		m := newMachine()
		for _, c := range story()[:6] {
			b, _ := wire.Encode(c)
			m.apply(b)
		}
		if out := m.apply(entry); strings.HasPrefix(out, "panic") {
			t.Fatalf("a decodable entry panics: %s", out)
		}
	})
}

// FuzzReadSnapshot: reading any bytes as a snapshot never panics, and a
// snapshot that reads persists to one that reads back the same.
func FuzzReadSnapshot(f *testing.F) {
	m := newMachine()
	for _, c := range story() {
		b, _ := wire.Encode(c)
		m.apply(b)
	}
	var full bytes.Buffer
	if err := fsm.Persist(m.m.Snapshot(), &full); err != nil {
		f.Fatal(err)
	}
	f.Add(full.Bytes())
	f.Add([]byte(`{"format":"berth-state","version":1}` + "\n"))
	f.Add([]byte(`{"format":"berth-state","version":2}` + "\n" + `{"t":"tasks","r":{"id":"x"}}` + "\n"))
	f.Add([]byte(`{"format":"berth-state","version":2}` + "\n" + `{"t":"servicerevisions","r":{"cluster":"c","service":"s","id":"ecs-svc/1"}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		store, err := fsm.ReadSnapshot(bytes.NewReader(data))
		if err != nil {
			return
		}
		var once, twice bytes.Buffer
		if err := fsm.Persist(store.Snapshot(), &once); err != nil {
			t.Fatalf("persist a restored snapshot: %v", err)
		}
		again, err := fsm.ReadSnapshot(bytes.NewReader(once.Bytes()))
		if err != nil {
			t.Fatalf("a persisted snapshot does not read back: %v", err)
		}
		if err := fsm.Persist(again.Snapshot(), &twice); err != nil {
			t.Fatal(err)
		}
		if once.String() != twice.String() {
			t.Fatal("persist → read → persist is not stable")
		}
	})
}
