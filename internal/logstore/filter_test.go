package logstore

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Property: Filter's pages, followed from token to token, give exactly
// the events a sequential Scan keeps, in the same order, whatever the
// segment size, range, start and limits.
func TestFilterAgreesWithScan(t *testing.T) {
	root := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		dir, err := os.MkdirTemp(root, "s")
		if err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1_700_000_000_000)
		s, err := Open(dir, Options{Now: func() time.Time { return now }, SegmentBytes: int64(rapid.IntRange(64, 4096).Draw(t, "segBytes")), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		s.CreateGroup(Group{Name: "g"})
		s.CreateStream("g", "s")
		base := now.UnixMilli() - 10_000
		for b, nb := 0, rapid.IntRange(0, 12).Draw(t, "batches"); b < nb; b++ {
			var in []Input
			for i, n := 0, rapid.IntRange(1, 40).Draw(t, "events"); i < n; i++ {
				in = append(in, Input{Timestamp: base + int64(rapid.IntRange(0, 100).Draw(t, "ts")),
					Message: rapid.SampledFrom([]string{"a", "b", "ab", "ccc", strings.Repeat("x", 50)}).Draw(t, "msg")})
			}
			if _, err := s.Append("g", "s", in); err != nil {
				t.Fatal(err)
			}
		}
		var r Range
		if rapid.Bool().Draw(t, "ranged") {
			r = Range{Start: base + int64(rapid.IntRange(0, 50).Draw(t, "start")), End: base + int64(rapid.IntRange(50, 101).Draw(t, "end"))}
		}
		from := uint64(rapid.IntRange(0, 30).Draw(t, "from"))
		keep := func(m string) bool { return strings.Contains(m, "a") || strings.HasPrefix(m, "xx") }
		var want []Event
		if err := s.Scan("g", "s", r, from, func(e Event) bool {
			if keep(e.Message) {
				want = append(want, e)
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		lim := Limits{Events: rapid.IntRange(1, 50).Draw(t, "limEvents"), Bytes: rapid.IntRange(1, 2000).Draw(t, "limBytes"), Overhead: 26}
		var got []Event
		for pages := 0; ; pages++ {
			if pages > len(want)+1 {
				t.Fatalf("%d pages for %d events", pages, len(want))
			}
			p, err := s.Filter(context.Background(), "g", "s", r, from, keep, lim)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Events) > lim.Events {
				t.Fatalf("page of %d events, limit %d", len(p.Events), lim.Events)
			}
			got = append(got, p.Events...)
			if p.Complete {
				break
			}
			if len(p.Events) == 0 || p.Next != p.Events[len(p.Events)-1].Seq+1 {
				t.Fatalf("incomplete page %+v", p)
			}
			from = p.Next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("filter %v\nscan %v", got, want)
		}
	})
}

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
	if _, err := s.Filter(ctx, "g", "s", Range{}, 0, func(string) bool { return true }, Limits{Events: 10, Bytes: 1 << 20}); err != context.Canceled {
		t.Fatalf("got %v", err)
	}
	if _, err := s.Filter(context.Background(), "g", "nope", Range{}, 0, func(string) bool { return true }, Limits{Events: 1, Bytes: 1}); err != ErrStreamNotFound {
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
		p, err := s.Filter(context.Background(), "g", "s", Range{}, 0, func(m string) bool { return len(m) > 100 }, Limits{Events: 100, Bytes: 1 << 30})
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
