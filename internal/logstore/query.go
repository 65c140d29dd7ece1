package logstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"unsafe"
)

// Read: a page of events of one or more streams in read order (Key),
// with bounded memory whatever the number of segments and streams.
//
// Every segment of the streams that can hold an event of the page is a
// unit of work. Units are taken in the order of their smallest timestamp
// (forward; of their largest, backward), searched in parallel (as many at
// once as GOMAXPROCS), each keeping its own first page (selection), and
// their results are merged into the page's selection. Once the page is
// full, a unit whose time span starts after the page's last timestamp
// cannot add to it, and neither can any unit after it: the search stops.
// A segment written in timestamp order (Sorted, the usual case) is read
// forward only until its events go past the page. So a read of a stream
// written in order reads the segments the page covers, as a scan in
// arrival order would; a stream whose segments overlap in time costs a
// read of every overlapping segment per page.
//
// A read without a filter (GetLogEvents) reads its first unit alone, then
// the others in parallel if the page is not full yet, so a page that one
// segment fills reads one segment.
//
// Memory: at most GOMAXPROCS units are in flight, each holding one read
// buffer and at most a page of events; the page's selection holds at most
// a page. A unit is a copy of a segment's index entry.

// Query selects one page.
type Query struct {
	Streams []string // the streams searched; those that do not exist are skipped
	Range   Range
	// After, when set, is where the page continues from, excluded:
	// forward it holds keys after it, backward keys before it.
	After *Key
	// Backward pages go from the newest event (or After) to older ones;
	// the page's events are still in ascending order.
	Backward bool
	// Keep selects events by message; nil keeps all. It is called from
	// several goroutines at once, with a message valid only during the
	// call: it must not retain it.
	Keep   func(msg string) bool
	Limits Limits
}

// Page is one Read answer.
type Page struct {
	Events []Event // ascending key order; Stream set
	// More tells events past the page may exist (they exist when the
	// page stopped at its limits).
	More bool
}

type unit struct {
	stream, dir string
	seg         segment
}

// beyond tells a unit holds no key the query wants after its position.
func (q *Query) beyond(u unit) bool {
	if q.After == nil {
		return false
	}
	if q.Backward {
		return Key{u.seg.MinTS, u.stream, u.seg.First}.Compare(*q.After) >= 0
	}
	return Key{u.seg.MaxTS, u.stream, u.seg.First + u.seg.Count - 1}.Compare(*q.After) <= 0
}

// units lists the segments the query may read, in the order they are
// taken.
func (s *Store) units(groupName string, q *Query) ([]unit, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	g, ok := s.groups[groupName]
	if !ok {
		s.mu.RUnlock()
		return nil, ErrGroupNotFound
	}
	var sts []*stream
	for _, n := range q.Streams {
		if st, ok := g.streams[n]; ok {
			sts = append(sts, st)
		}
	}
	s.mu.RUnlock()
	var out []unit
	for _, st := range sts {
		dir, segs := st.snapshot()
		for _, seg := range segs {
			u := unit{st.name, dir, seg}
			if seg.Count == 0 || !q.Range.overlaps(seg) || q.beyond(u) {
				continue
			}
			out = append(out, u)
		}
	}
	if q.Backward {
		slices.SortFunc(out, func(a, b unit) int {
			return Key{b.seg.MaxTS, b.stream, b.seg.First}.Compare(Key{a.seg.MaxTS, a.stream, a.seg.First})
		})
	} else {
		slices.SortFunc(out, func(a, b unit) int {
			return Key{a.seg.MinTS, a.stream, a.seg.First}.Compare(Key{b.seg.MinTS, b.stream, b.seg.First})
		})
	}
	return out, nil
}

// bound is the page's last timestamp once it is full, shared with the
// units in flight so that they skip what cannot enter.
type bound struct {
	set atomic.Bool
	ts  atomic.Int64
}

func (b *bound) past(ts int64, backward bool) bool {
	if !b.set.Load() {
		return false
	}
	if backward {
		return ts < b.ts.Load()
	}
	return ts > b.ts.Load()
}

type unitResult struct {
	evs  []Event
	more bool
	err  error
}

// Read returns a page of the events of q.Streams in group, in key order.
// Streams deleted meanwhile read as empty.
func (s *Store) Read(ctx context.Context, groupName string, q Query) (Page, error) {
	q.Limits = q.Limits.norm()
	todo, err := s.units(groupName, &q)
	if err != nil {
		return Page{}, err
	}
	sel := newSelection(q.Limits, q.Backward)
	// pruned tells a unit, and every one after it, cannot enter the page.
	pruned := func(u unit) bool {
		if !sel.full() {
			return false
		}
		if q.Backward {
			return u.seg.MaxTS < sel.last().Timestamp
		}
		return u.seg.MinTS > sel.last().Timestamp
	}
	var b bound
	var stop atomic.Bool
	results := make([]chan unitResult, len(todo))
	launched := 0
	launch := func(upto int) {
		for ; launched < min(upto, len(todo)) && !pruned(todo[launched]); launched++ {
			ch := make(chan unitResult, 1)
			results[launched] = ch
			go func(u unit) {
				evs, more, err := readUnit(ctx, u, &q, &b, &stop)
				ch <- unitResult{evs, more, err}
			}(todo[launched])
		}
	}
	defer func() {
		// Stop the units still running and wait for them: their buffers
		// go back to the pool, no goroutine outlives the call.
		stop.Store(true)
		for i := range launched {
			if results[i] != nil {
				<-results[i]
			}
		}
	}()
	// A read that keeps every event (GetLogEvents) usually fills its page
	// from its first segment: that one is read alone, and the others in
	// parallel only if the page is not full after it. A search reads in
	// parallel from the start.
	window := max(runtime.GOMAXPROCS(0), 1)
	first := window
	if q.Keep == nil {
		first = 1
	}
	more := false
	for i := range todo {
		if i == 0 {
			launch(first)
		} else {
			launch(i + window)
		}
		if i >= launched {
			more = true // pruned: this unit and the rest
			break
		}
		res := <-results[i]
		results[i] = nil
		if res.err != nil {
			return Page{}, res.err
		}
		more = more || res.more
		for _, ev := range res.evs {
			sel.add(ev)
		}
		if sel.full() {
			b.ts.Store(sel.last().Timestamp)
			b.set.Store(true)
		}
	}
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	return Page{Events: sel.page(), More: more || sel.more}, nil
}

// readUnit searches one segment, keeping its first page. A segment
// deleted by retention meanwhile reads as empty.
func readUnit(ctx context.Context, u unit, q *Query, b *bound, stop *atomic.Bool) ([]Event, bool, error) {
	f, err := os.Open(filepath.Join(u.dir, segName(u.seg.First, "seg")))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("logstore: %w", err)
	}
	defer f.Close()
	rr := newRecordReader(io.LimitReader(f, u.seg.Bytes))
	defer rr.release()
	sel := newSelection(q.Limits, q.Backward)
	// Forward in a sorted segment, the first event past the page ends it.
	ordered := u.seg.Sorted && !q.Backward
	more := false
	for seq := u.seg.First; ; seq++ {
		if seq&4095 == 0 && (stop.Load() || ctx.Err() != nil) {
			return nil, false, ctx.Err()
		}
		rec, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("logstore: %s: %w", segName(u.seg.First, "seg"), err)
		}
		if !q.Range.has(rec.ts) {
			continue
		}
		k := Key{rec.ts, u.stream, seq}
		if q.After != nil {
			if c := k.Compare(*q.After); (c <= 0 && !q.Backward) || (c >= 0 && q.Backward) {
				continue
			}
		}
		if b.past(rec.ts, q.Backward) {
			more = true
			if ordered {
				break
			}
			continue
		}
		if ordered && sel.full() && !sel.before(k, sel.last()) {
			more = true
			break
		}
		if q.Keep != nil && !q.Keep(unsafe.String(unsafe.SliceData(rec.msg), len(rec.msg))) {
			continue
		}
		if !sel.wants(k) {
			continue
		}
		sel.add(Event{Timestamp: rec.ts, Ingestion: rec.ingest, Message: string(rec.msg), Seq: seq, Stream: u.stream})
	}
	return sel.evs, more || sel.more, nil
}
