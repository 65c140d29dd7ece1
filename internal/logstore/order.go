package logstore

import (
	"cmp"
	"container/heap"
	"slices"
)

// Order: reads answer events in CloudWatch's order, by Key: timestamp,
// then stream name, then sequence. Within one stream that is timestamp
// order, equal timestamps in the order they were stored.

// Key is an event's place in the read order.
type Key struct {
	Timestamp int64
	Stream    string
	Seq       uint64
}

// Compare orders keys: by timestamp, stream name, then sequence.
func (k Key) Compare(o Key) int {
	if c := cmp.Compare(k.Timestamp, o.Timestamp); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Stream, o.Stream); c != 0 {
		return c
	}
	return cmp.Compare(k.Seq, o.Seq)
}

// Key is the event's key.
func (e Event) Key() Key { return Key{e.Timestamp, e.Stream, e.Seq} }

// Limits bound one page.
type Limits struct {
	Events   int // at most this many events (at least 1)
	Bytes    int // the page ends once its messages, Overhead bytes each added, reach Bytes (at least 1)
	Overhead int
}

func (l Limits) norm() Limits {
	l.Events, l.Bytes = max(l.Events, 1), max(l.Bytes, 1)
	return l
}

// selection keeps, of the events offered to it, the first page in the
// read direction: the shortest run of the smallest keys (forward; the
// largest, backward) that reaches the limits, or all of them while they
// do not. It holds at most lim.Events events and, beyond lim.Bytes, one
// message. more tells that an offered event was left out.
type selection struct {
	lim      Limits
	backward bool
	evs      []Event // a heap: the last in read order on top
	bytes    int
	more     bool
}

func newSelection(lim Limits, backward bool) *selection {
	return &selection{lim: lim.norm(), backward: backward}
}

// before tells a comes before b in the read direction.
func (s *selection) before(a, b Key) bool {
	c := a.Compare(b)
	if s.backward {
		return c > 0
	}
	return c < 0
}

func (s *selection) Len() int           { return len(s.evs) }
func (s *selection) Less(i, j int) bool { return s.before(s.evs[j].Key(), s.evs[i].Key()) }
func (s *selection) Swap(i, j int)      { s.evs[i], s.evs[j] = s.evs[j], s.evs[i] }
func (s *selection) Push(x any)         { s.evs = append(s.evs, x.(Event)) }
func (s *selection) Pop() any {
	n := len(s.evs) - 1
	ev := s.evs[n]
	s.evs = s.evs[:n]
	return ev
}

func (s *selection) cost(ev Event) int { return len(ev.Message) + s.lim.Overhead }

// full tells the selection reaches the limits: an event after its last
// can no longer enter.
func (s *selection) full() bool {
	return len(s.evs) >= s.lim.Events || s.bytes >= s.lim.Bytes
}

// last is the selection's last key in read order; only when not empty.
func (s *selection) last() Key { return s.evs[0].Key() }

// wants tells an event of key k would enter the selection.
func (s *selection) wants(k Key) bool {
	if !s.full() {
		return true
	}
	if s.before(k, s.last()) {
		return true
	}
	s.more = true
	return false
}

// add offers an event (its message already copied).
func (s *selection) add(ev Event) {
	if !s.wants(ev.Key()) {
		return
	}
	heap.Push(s, ev)
	s.bytes += s.cost(ev)
	// Drop the last events while the rest still reach the limits.
	for len(s.evs) > 1 {
		top := s.evs[0]
		if len(s.evs)-1 < s.lim.Events && s.bytes-s.cost(top) < s.lim.Bytes {
			break
		}
		heap.Pop(s)
		s.bytes -= s.cost(top)
		s.more = true
	}
}

// page returns the selected events in ascending key order.
func (s *selection) page() []Event {
	out := make([]Event, len(s.evs))
	copy(out, s.evs)
	sortEvents(out)
	return out
}

func sortEvents(evs []Event) {
	slices.SortFunc(evs, func(a, b Event) int { return a.Key().Compare(b.Key()) })
}
