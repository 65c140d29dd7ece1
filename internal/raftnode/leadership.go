package raftnode

import (
	"sync"
	"time"
)

// leadership is what this node knows of its own leadership: whether it
// leads, since when, and a channel closed at the next change.
type leadership struct {
	mu      sync.Mutex
	leading bool
	since   time.Time
	changed chan struct{}
}

func newLeadership() *leadership { return &leadership{changed: make(chan struct{})} }

func (l *leadership) set(leading bool, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leading == leading {
		return
	}
	l.leading, l.since = leading, at
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *leadership) get() (bool, time.Time, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading, l.since, l.changed
}

// watchLeadership follows raft's leadership notifications until Close.
func (n *Node) watchLeadership(notify <-chan bool) {
	defer close(n.watched)
	for {
		select {
		case leading := <-notify:
			n.lead.set(leading, time.Now())
		case <-n.stop:
			return
		}
	}
}

// Leadership reports whether this node leads, since when it has led (or
// stopped leading), and a channel closed at the next change. Background
// work that proposes commands runs only while the node leads; callers wait
// for Barrier before acting on a new leadership, so they see every entry
// committed before it.
func (n *Node) Leadership() (leading bool, since time.Time, changed <-chan struct{}) {
	return n.lead.get()
}
