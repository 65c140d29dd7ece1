package logstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// ref is the reference: every event appended, in memory.
type ref struct{ evs []Event }

// page is what Read must answer for q, from the reference: the matching
// events after q.After in key order (backward: before it, the last
// ones), cut where the limits are reached; more tells events were left.
func (m *ref) page(q Query) (page []Event, more bool) {
	want := map[string]bool{}
	for _, s := range q.Streams {
		want[s] = true
	}
	var all []Event
	for _, e := range m.evs {
		if !want[e.Stream] || !q.Range.has(e.Timestamp) || (q.Keep != nil && !q.Keep(e.Message)) {
			continue
		}
		if q.After != nil {
			c := e.Key().Compare(*q.After)
			if (!q.Backward && c <= 0) || (q.Backward && c >= 0) {
				continue
			}
		}
		all = append(all, e)
	}
	sortEvents(all)
	if q.Backward {
		slices.Reverse(all)
	}
	n, bytes := 0, 0
	for n < len(all) && n < q.Limits.Events && bytes < q.Limits.Bytes {
		bytes += len(all[n].Message) + q.Limits.Overhead
		n++
	}
	page = slices.Clone(all[:n])
	sortEvents(page)
	return page, n < len(all)
}

func (m *ref) append(t *rapid.T, s *Store, stream string, base, now int64) {
	var in []Input
	for i, n := 0, rapid.IntRange(1, 30).Draw(t, "events"); i < n; i++ {
		in = append(in, Input{Timestamp: base + int64(rapid.IntRange(0, 40).Draw(t, "ts")),
			Message: rapid.SampledFrom([]string{"a", "b", "ab", "ccc", strings.Repeat("x", 50)}).Draw(t, "msg")})
	}
	next, err := s.Next("g", stream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append("g", stream, in); err != nil {
		t.Fatal(err)
	}
	in = slices.Clone(in)
	slices.SortStableFunc(in, func(a, b Input) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	for i, e := range in {
		m.evs = append(m.evs, Event{Timestamp: e.Timestamp, Ingestion: now, Message: e.Message, Seq: next + uint64(i), Stream: stream})
	}
}

// Property: Read's pages are the reference's, forward and backward, over
// several streams, whatever the segment size, range, filter and limits,
// with batches out of order across calls, new batches arriving between
// pages and the store reopened between pages; followed from page to page
// they give every event that was there (or came after the position)
// exactly once.
func TestReadAgreesWithReference(t *testing.T) {
	root := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		dir, err := os.MkdirTemp(root, "s")
		if err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1_700_000_000_000)
		opt := Options{Now: func() time.Time { return now }, SegmentBytes: int64(rapid.IntRange(64, 4096).Draw(t, "segBytes")), NoSync: true}
		s, err := Open(dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Close() }()
		streams := []string{"a", "b", "c"}
		s.CreateGroup(Group{Name: "g"})
		for _, st := range streams {
			s.CreateStream("g", st)
		}
		m := &ref{}
		base := now.UnixMilli() - 10_000
		for b, nb := 0, rapid.IntRange(0, 12).Draw(t, "batches"); b < nb; b++ {
			m.append(t, s, rapid.SampledFrom(streams).Draw(t, "stream"), base, now.UnixMilli())
		}
		q := Query{Streams: rapid.SliceOfNDistinct(rapid.SampledFrom(append(streams, "missing")), 1, 4, rapid.ID[string]).Draw(t, "streams"),
			Backward: rapid.Bool().Draw(t, "backward"),
			Limits:   Limits{Events: rapid.IntRange(1, 50).Draw(t, "limEvents"), Bytes: rapid.IntRange(1, 2000).Draw(t, "limBytes"), Overhead: 26}}
		if rapid.Bool().Draw(t, "ranged") {
			q.Range = Range{Start: base + int64(rapid.IntRange(0, 20).Draw(t, "start")), End: base + int64(rapid.IntRange(20, 41).Draw(t, "end"))}
		}
		if rapid.Bool().Draw(t, "filtered") {
			q.Keep = func(m string) bool { return strings.Contains(m, "a") || strings.HasPrefix(m, "xx") }
		}
		seen := map[Key]bool{}
		for pages := 0; ; pages++ {
			if pages > len(m.evs)+2 {
				t.Fatalf("%d pages for %d events", pages, len(m.evs))
			}
			want, wantMore := m.page(q)
			p, err := s.Read(context.Background(), "g", q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(p.Events) != fmt.Sprint(want) {
				t.Fatalf("page %d after %v:\ngot  %v\nwant %v", pages, q.After, p.Events, want)
			}
			if wantMore && !p.More {
				t.Fatalf("page %d: more events, More false", pages)
			}
			for _, e := range p.Events {
				if seen[e.Key()] {
					t.Fatalf("%v twice", e)
				}
				seen[e.Key()] = true
			}
			if len(p.Events) == 0 {
				break
			}
			if q.Backward {
				q.After = ptrTo(p.Events[0].Key())
			} else {
				q.After = ptrTo(p.Events[len(p.Events)-1].Key())
			}
			for n := rapid.IntRange(0, 2).Draw(t, "arrivals"); n > 0 && pages < 4; n-- { // then the paging ends
				m.append(t, s, rapid.SampledFrom(streams).Draw(t, "stream"), base, now.UnixMilli())
			}
			if rapid.IntRange(0, 9).Draw(t, "reopen") == 0 {
				s.Close()
				if s, err = Open(dir, opt); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

func TestFilterStopsOnCancel(t *testing.T) {
	now := time.Now()
	s := open(t, t.TempDir(), &now, 256)
	s.CreateGroup(Group{Name: "g"})
	s.CreateStream("g", "s")
	for i := 0; i < 20; i++ {
		fill(t, s, "g", "s", i*10, 10, now.UnixMilli())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	all := func(string) bool { return true }
	if _, err := s.Read(ctx, "g", Query{Streams: []string{"s"}, Keep: all, Limits: Limits{Events: 10, Bytes: 1 << 20}}); err != context.Canceled {
		t.Fatalf("got %v", err)
	}
	if p, err := s.Read(context.Background(), "g", Query{Streams: []string{"nope"}, Keep: all, Limits: Limits{Events: 1, Bytes: 1}}); err != nil || len(p.Events) != 0 {
		t.Fatalf("got %v %v", p, err)
	}
	if _, err := s.Read(context.Background(), "nope", Query{Streams: []string{"s"}, Limits: Limits{Events: 1, Bytes: 1}}); err != ErrGroupNotFound {
		t.Fatalf("got %v", err)
	}
}

// Records larger than the read buffer's first size read back whole, by
// Scan, Filter and the scan at open.
func TestBigRecords(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	s := open(t, dir, &now, 0)
	s.CreateGroup(Group{Name: "g"})
	s.CreateStream("g", "s")
	big := strings.Repeat("b", MaxBatchBytes)
	for _, m := range []string{"small", big, "x", strings.Repeat("m", 300<<10), "y", big} {
		if _, err := s.Append("g", "s", []Input{{Timestamp: now.UnixMilli(), Message: m}}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store) {
		var sizes []int
		s.Scan("g", "s", Range{}, 0, func(e Event) bool { sizes = append(sizes, len(e.Message)); return true })
		p, err := s.Read(context.Background(), "g", Query{Streams: []string{"s"}, Keep: func(m string) bool { return len(m) > 100 }, Limits: Limits{Events: 100, Bytes: 1 << 30}})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(sizes) != fmt.Sprint([]int{5, MaxBatchBytes, 1, 300 << 10, 1, MaxBatchBytes}) || len(p.Events) != 3 || p.Events[2].Message != big {
			t.Fatalf("sizes %v, filter %d", sizes, len(p.Events))
		}
	}
	check(s)
	s.Close()
	check(open(t, dir, &now, 0))
}

// A batch is stored in timestamp order, equal timestamps in the order
// given, and the caller's slice is left alone.
func TestAppendSortsBatch(t *testing.T) {
	now := time.Now()
	s := open(t, t.TempDir(), &now, 0)
	s.CreateGroup(Group{Name: "g"})
	s.CreateStream("g", "s")
	in := []Input{{3, "c"}, {1, "a1"}, {2, "b"}, {1, "a2"}}
	if _, err := s.Append("g", "s", in); err != nil {
		t.Fatal(err)
	}
	var got []string
	s.Scan("g", "s", Range{}, 0, func(e Event) bool { got = append(got, e.Message); return true })
	if fmt.Sprint(got) != "[a1 a2 b c]" || in[0].Message != "c" {
		t.Fatalf("stored %v, input %v", got, in)
	}
}

// Segments indexed before the store recorded whether they are in order
// (an index without "sorted") are read whole: the order is right.
func TestReadOldIndexes(t *testing.T) {
	dir := t.TempDir()
	now := time.UnixMilli(1_700_000_000_000)
	s := open(t, dir, &now, 300)
	s.CreateGroup(Group{Name: "g"})
	s.CreateStream("g", "s")
	base := now.UnixMilli() - 1000
	for b := 0; b < 30; b++ {
		fill(t, s, "g", "s", 0, 5, base+int64((b*7)%11)) // batches out of order, ties across batches
	}
	s.Close()
	idx, _ := filepath.Glob(filepath.Join(dir, "g", "*", "*", "*.idx"))
	if len(idx) < 3 {
		t.Fatalf("%d indexes", len(idx))
	}
	for _, p := range idx {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		delete(m, "sorted")
		delete(m, "lastTs")
		b, _ = json.Marshal(m)
		os.WriteFile(p, b, 0o600)
	}
	s = open(t, dir, &now, 300)
	var want []Event
	s.Scan("g", "s", Range{}, 0, func(e Event) bool { e.Stream = "s"; want = append(want, e); return true })
	sortEvents(want)
	var got []Event
	q := Query{Streams: []string{"s"}, Limits: Limits{Events: 7, Bytes: 1 << 20}}
	for {
		p, err := s.Read(context.Background(), "g", q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) == 0 {
			break
		}
		got = append(got, p.Events...)
		q.After = ptrTo(p.Events[len(p.Events)-1].Key())
	}
	if len(want) != 150 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}
