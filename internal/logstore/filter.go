package logstore

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Filter: a search of one stream that tests every message where it is
// read and copies only the events it keeps. Segments are searched in
// parallel (as many at once as GOMAXPROCS) and their results are taken in
// sequence order, so the answer is the one a sequential scan gives.
//
// Memory: at most GOMAXPROCS segments are in flight; each holds one read
// buffer (readBuf bytes, pooled) and the events it kept, and stops keeping
// once they reach the page's limits, since the page can take no more from
// it.

// Limits bound one Filter page.
type Limits struct {
	Events   int // at most this many events (at least 1)
	Bytes    int // the page ends once its messages, Overhead bytes each added, reach Bytes (at least 1)
	Overhead int
}

// Page is one Filter answer.
type Page struct {
	Events []Event // in sequence order
	// Complete tells the stream was searched to its end; otherwise the
	// page is full and the search resumes at sequence Next.
	Complete bool
	Next     uint64
}

type segResult struct {
	evs []Event
	err error
}

// Filter returns, in sequence order, the events of a stream in r whose
// sequence is from or more and whose message keep accepts, up to lim.
// keep is called from several goroutines at once, with a message that is
// valid only during the call: it must not keep it.
func (s *Store) Filter(ctx context.Context, groupName, streamName string, r Range, from uint64, keep func(msg string) bool, lim Limits) (Page, error) {
	_, st, err := s.stream(groupName, streamName)
	if err != nil {
		return Page{}, err
	}
	lim.Events, lim.Bytes = max(lim.Events, 1), max(lim.Bytes, 1)
	dir, segs := st.snapshot()
	var todo []segment
	for _, seg := range segs {
		if seg.Count == 0 || seg.First+seg.Count <= from || !r.overlaps(seg) {
			continue
		}
		todo = append(todo, seg)
	}
	var stop atomic.Bool
	results := make([]chan segResult, len(todo))
	launched := 0
	launch := func(upto int) {
		for ; launched < min(upto, len(todo)); launched++ {
			ch := make(chan segResult, 1)
			results[launched] = ch
			go func(seg segment) {
				evs, err := filterSeg(ctx, dir, seg, from, r, keep, lim, &stop)
				ch <- segResult{evs, err}
			}(todo[launched])
		}
	}
	defer func() {
		// Stop the segments still running and wait for them: their
		// buffers go back to the pool, no goroutine outlives the call.
		stop.Store(true)
		for i := range launched {
			if results[i] != nil {
				<-results[i]
			}
		}
	}()
	window := max(runtime.GOMAXPROCS(0), 1)
	var page Page
	bytes := 0
	for i := range todo {
		launch(i + window)
		res := <-results[i]
		results[i] = nil
		if res.err != nil {
			return Page{}, res.err
		}
		for _, ev := range res.evs {
			page.Events = append(page.Events, ev)
			bytes += len(ev.Message) + lim.Overhead
			if len(page.Events) >= lim.Events || bytes >= lim.Bytes {
				page.Next = ev.Seq + 1
				last := segs[len(segs)-1]
				page.Complete = page.Next >= last.First+last.Count
				return page, nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	page.Complete = true
	return page, nil
}

// filterSeg searches one segment, keeping at most a page's worth of
// events. A segment deleted by retention meanwhile reads as empty.
func filterSeg(ctx context.Context, dir string, seg segment, from uint64, r Range, keep func(string) bool, lim Limits, stop *atomic.Bool) ([]Event, error) {
	f, err := os.Open(filepath.Join(dir, segName(seg.First, "seg")))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rr := newRecordReader(io.LimitReader(f, seg.Bytes))
	defer rr.release()
	var out []Event
	bytes := 0
	for seq := seg.First; ; seq++ {
		if seq&4095 == 0 && (stop.Load() || ctx.Err() != nil) {
			return out, ctx.Err()
		}
		rec, err := rr.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if seq < from || !r.has(rec.ts) || !keep(unsafe.String(unsafe.SliceData(rec.msg), len(rec.msg))) {
			continue
		}
		out = append(out, Event{Timestamp: rec.ts, Ingestion: rec.ingest, Message: string(rec.msg), Seq: seq})
		bytes += len(rec.msg) + lim.Overhead
		if len(out) >= lim.Events || bytes >= lim.Bytes {
			return out, nil
		}
	}
}
