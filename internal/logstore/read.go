package logstore

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// Range selects events by timestamp: Start inclusive, End exclusive; zero
// means unbounded.
type Range struct {
	Start, End int64
}

func (r Range) has(ts int64) bool {
	return (r.Start == 0 || ts >= r.Start) && (r.End == 0 || ts < r.End)
}

func (r Range) overlaps(seg segment) bool {
	return (r.Start == 0 || seg.MaxTS >= r.Start) && (r.End == 0 || seg.MinTS < r.End)
}

func (st *stream) snapshot() (dir string, segs []segment) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	segs = make([]segment, len(st.segs))
	for i, s := range st.segs {
		segs[i] = *s
	}
	return st.dir, segs
}

// scanSeg calls fn for the events of one segment from seq from on, up to its
// indexed length (the open segment may grow meanwhile). A segment deleted
// by retention meanwhile reads as empty.
func scanSeg(dir string, seg segment, from uint64, r Range, fn func(Event) bool) (bool, error) {
	f, err := os.Open(filepath.Join(dir, segName(seg.First, "seg")))
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	more := true
	err = readRecords(io.LimitReader(f, seg.Bytes), func(ev Event, _ int) bool {
		ev.Seq += seg.First
		if ev.Seq < from || !r.has(ev.Timestamp) {
			return true
		}
		more = fn(ev)
		return more
	})
	if err != nil {
		return false, err
	}
	return more, nil
}

// Scan calls fn, in storage (arrival) order, not in Read's order, for the events of a stream in r whose
// sequence is from or more, until fn returns false.
func (s *Store) Scan(groupName, streamName string, r Range, from uint64, fn func(Event) bool) error {
	_, st, err := s.stream(groupName, streamName)
	if err != nil {
		return err
	}
	dir, segs := st.snapshot()
	for _, seg := range segs {
		if seg.Count == 0 || seg.First+seg.Count <= from || !r.overlaps(seg) {
			continue
		}
		more, err := scanSeg(dir, seg, from, r, fn)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// Next is the sequence the next appended event of a stream gets.
func (s *Store) Next(groupName, streamName string) (uint64, error) {
	_, st, err := s.stream(groupName, streamName)
	if err != nil {
		return 0, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.next, nil
}
