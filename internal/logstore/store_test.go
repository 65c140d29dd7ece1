package logstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func open(t *testing.T, dir string, now *time.Time, segBytes int64) *Store {
	t.Helper()
	s, err := Open(dir, Options{Now: func() time.Time { return *now }, SegmentBytes: segBytes})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fill(t *testing.T, s *Store, g, st string, from, n int, ts int64) {
	t.Helper()
	var in []Input
	for i := from; i < from+n; i++ {
		in = append(in, Input{Timestamp: ts + int64(i), Message: fmt.Sprintf("line %d", i)})
	}
	if _, err := s.Append(g, st, in); err != nil {
		t.Fatal(err)
	}
}

func msgs(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

func TestLifecycleAndReads(t *testing.T) {
	dir := t.TempDir()
	now := time.UnixMilli(1_700_000_000_000)
	s := open(t, dir, &now, 200)
	if err := s.CreateGroup(Group{Name: "/app", Tags: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(Group{Name: "/app"}); err != ErrGroupExists {
		t.Fatalf("got %v", err)
	}
	if err := s.CreateStream("/app", "web/1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream("/nope", "x"); err != ErrGroupNotFound {
		t.Fatal(err)
	}
	if _, err := s.Append("/app", "nope", nil); err != ErrStreamNotFound {
		t.Fatal(err)
	}
	base := now.UnixMilli() - 1000
	for i := 0; i < 10; i++ {
		fill(t, s, "/app", "web/1", i*10, 10, base)
	}
	var got []Event
	if err := s.Scan("/app", "web/1", Range{}, 0, func(e Event) bool { got = append(got, e); return true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 || got[99].Message != "line 99" || got[42].Seq != 42 {
		t.Fatalf("scan: %d %v", len(got), got[len(got)-1])
	}
	got = nil
	s.Scan("/app", "web/1", Range{Start: base + 20, End: base + 30}, 25, func(e Event) bool { got = append(got, e); return true })
	if m := msgs(got); len(m) != 5 || m[0] != "line 25" {
		t.Fatalf("range: %v", m)
	}
	readBack := func(r Range, after *Key, limit int) ([]Event, error) {
		p, err := s.Read(context.Background(), "/app", Query{Streams: []string{"web/1"}, Range: r, After: after, Backward: true, Limits: Limits{Events: limit, Bytes: 1 << 20}})
		return p.Events, err
	}
	back, err := readBack(Range{}, &Key{base + 50, "web/1", 50}, 7)
	if err != nil || len(back) != 7 || back[0].Message != "line 43" || back[6].Message != "line 49" {
		t.Fatalf("back: %v %v", msgs(back), err)
	}
	back, _ = readBack(Range{Start: base + 3}, nil, 1000)
	if len(back) != 97 || back[0].Message != "line 3" {
		t.Fatalf("back all: %d", len(back))
	}
	info, _ := s.Streams("/app")
	if len(info) != 1 || info[0].Events != 100 || info[0].FirstEvent != base || info[0].LastEvent != base+99 || info[0].LastIngestion != now.UnixMilli() {
		t.Fatalf("info %+v", info)
	}
	// Restart keeps everything.
	s.Close()
	s = open(t, dir, &now, 200)
	info2, _ := s.Streams("/app")
	if info2[0] != info[0] {
		t.Fatalf("after restart %+v want %+v", info2[0], info[0])
	}
	g, _ := s.GetGroup("/app")
	if g.Tags["a"] != "b" || g.StoredBytes != info[0].StoredBytes {
		t.Fatalf("group %+v", g)
	}
	fill(t, s, "/app", "web/1", 100, 1, base)
	if n, _ := s.Next("/app", "web/1"); n != 101 {
		t.Fatalf("next %d", n)
	}
	if err := s.DeleteStream("/app", "web/1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup("/app"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "g")); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
}

func TestTornTailTruncated(t *testing.T) {
	dir := t.TempDir()
	now := time.UnixMilli(1_700_000_000_000)
	s := open(t, dir, &now, 1<<20)
	s.CreateGroup(Group{Name: "g"})
	s.CreateStream("g", "s")
	fill(t, s, "g", "s", 0, 3, 1)
	s.Close()
	seg := filepath.Join(dir, "g", hexName("g"), hexName("s"), segName(0, "seg"))
	fi, _ := os.Stat(seg)
	// A crash in the middle of the next batch: half a record, then junk.
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{30, 0, 0, 0, 1, 2, 3, 4, 5, 6})
	f.Close()
	s = open(t, dir, &now, 1<<20)
	if fi2, _ := os.Stat(seg); fi2.Size() != fi.Size() {
		t.Fatalf("size %d want %d", fi2.Size(), fi.Size())
	}
	fill(t, s, "g", "s", 3, 1, 1)
	var got []string
	s.Scan("g", "s", Range{}, 0, func(e Event) bool { got = append(got, e.Message); return true })
	if len(got) != 4 || got[3] != "line 3" {
		t.Fatalf("got %v", got)
	}
	// A flipped byte in the last record also cuts it.
	s.Close()
	b, _ := os.ReadFile(seg)
	b[len(b)-1] ^= 0xff
	os.WriteFile(seg, b, 0o600)
	s = open(t, dir, &now, 1<<20)
	info, _ := s.Streams("g")
	if info[0].Events != 3 {
		t.Fatalf("events %d", info[0].Events)
	}
}

func TestRetentionDropsWholeSegments(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	s := open(t, dir, &now, 100)
	s.CreateGroup(Group{Name: "g"})
	s.CreateStream("g", "s")
	day := int64(24 * time.Hour / time.Millisecond)
	old := now.UnixMilli() - 3*day
	fill(t, s, "g", "s", 0, 5, old) // sealed segment(s) of old events
	fill(t, s, "g", "s", 5, 5, now.UnixMilli())
	if n, _ := s.Enforce(now); n != 0 {
		t.Fatalf("no retention, dropped %d", n)
	}
	s.UpdateGroup("g", func(g *Group) { g.RetentionDays = 1 })
	n, err := s.Enforce(now)
	if err != nil || n == 0 {
		t.Fatalf("dropped %d %v", n, err)
	}
	var got []string
	s.Scan("g", "s", Range{}, 0, func(e Event) bool { got = append(got, e.Message); return true })
	if len(got) != 5 || got[0] != "line 5" {
		t.Fatalf("got %v", got)
	}
	s.Close()
	s = open(t, dir, &now, 100)
	info, _ := s.Streams("g")
	if info[0].Events != 5 || info[0].FirstEvent < now.UnixMilli() {
		t.Fatalf("after restart %+v", info[0])
	}
	fill(t, s, "g", "s", 10, 1, now.UnixMilli())
	// Everything past retention: the sequence goes on after a restart.
	later := now.Add(10 * 24 * time.Hour)
	if _, err := s.Enforce(later); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, &later, 100)
	if n, _ := s.Next("g", "s"); n != 11 {
		t.Fatalf("next after full expiry and restart: %d", n)
	}
	fill(t, s, "g", "s", 11, 1, later.UnixMilli())
	var seqs []uint64
	s.Scan("g", "s", Range{}, 0, func(e Event) bool { seqs = append(seqs, e.Seq); return true })
	if len(seqs) != 1 || seqs[0] != 11 {
		t.Fatalf("seqs %v", seqs)
	}
}

func TestBatchBounds(t *testing.T) {
	now := time.Now()
	s := open(t, t.TempDir(), &now, 0)
	s.CreateGroup(Group{Name: "g"})
	s.CreateStream("g", "s")
	if _, err := s.Append("g", "s", make([]Input, MaxBatchEvents+1)); err != ErrBatchTooLarge {
		t.Fatal(err)
	}
	big := make([]byte, MaxBatchBytes+1)
	if _, err := s.Append("g", "s", []Input{{Message: string(big)}}); err != ErrBatchTooLarge {
		t.Fatal(err)
	}
}

// Appends, reads, retention and metadata changes at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	now := time.Now()
	s := open(t, t.TempDir(), &now, 512)
	s.CreateGroup(Group{Name: "g", RetentionDays: 1})
	for i := 0; i < 3; i++ {
		s.CreateStream("g", fmt.Sprint(i))
	}
	done := make(chan struct{})
	for i := 0; i < 3; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			for b := 0; b < 20; b++ {
				fill(t, s, "g", fmt.Sprint(i), b*10, 10, now.UnixMilli())
			}
		}(i)
	}
	go func() {
		defer func() { done <- struct{}{} }()
		for k := 0; k < 50; k++ {
			s.Scan("g", "0", Range{}, 0, func(Event) bool { return true })
			s.Read(context.Background(), "g", Query{Streams: []string{"1", "2"}, Backward: true, Limits: Limits{Events: 5, Bytes: 1 << 20}})
			s.Enforce(now)
			s.Streams("g")
			s.UpdateGroup("g", func(g *Group) { g.Tags = map[string]string{"k": fmt.Sprint(k)} })
		}
	}()
	for i := 0; i < 4; i++ {
		<-done
	}
	info, _ := s.Streams("g")
	for _, st := range info {
		if st.Events != 200 {
			t.Fatalf("%s: %d events", st.Name, st.Events)
		}
	}
}
