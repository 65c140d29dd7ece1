package lbapi

import (
	"sync"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

type targetKey struct {
	group string
	id    string
	port  int
}

type node struct {
	connected int       // open streams
	seen      time.Time // last report or disconnection
	revision  uint64
	targets   map[targetKey]lbconfig.TargetHealth
}

// Health holds the latest health every node reported, in memory.
type Health struct {
	now func() time.Time
	ttl time.Duration

	mu      sync.Mutex
	nodes   map[string]*node
	changed chan struct{} // closed and replaced on every change
}

// NewHealth returns an empty store; a disconnected node's reports count
// for ttl after it was last heard.
func NewHealth(now func() time.Time, ttl time.Duration) *Health {
	return &Health{now: now, ttl: ttl, nodes: map[string]*node{}, changed: make(chan struct{})}
}

// Changes returns a channel closed at the next change of any report.
func (h *Health) Changes() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

func (h *Health) notify() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *Health) nodeLocked(name string) *node {
	n := h.nodes[name]
	if n == nil {
		n = &node{targets: map[targetKey]lbconfig.TargetHealth{}}
		h.nodes[name] = n
	}
	return n
}

func (h *Health) connect(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.nodeLocked(name)
	n.connected++
	n.seen = h.now()
}

func (h *Health) disconnect(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.nodeLocked(name)
	n.connected--
	n.seen = h.now()
}

func (h *Health) report(rep lbconfig.HealthReport) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.nodeLocked(rep.Node)
	n.seen = h.now()
	n.revision = rep.Revision
	changed := false
	if rep.Full {
		for k := range n.targets {
			found := false
			for _, t := range rep.Targets {
				if (targetKey{t.TargetGroupARN, t.ID, t.Port}) == k {
					found = true
					break
				}
			}
			if !found {
				delete(n.targets, k)
				changed = true
			}
		}
	}
	for _, t := range rep.Targets {
		k := targetKey{t.TargetGroupARN, t.ID, t.Port}
		if old, ok := n.targets[k]; !ok || old.State != t.State || old.Reason != t.Reason || old.Description != t.Description {
			changed = true
		}
		n.targets[k] = t
	}
	if changed {
		h.notify()
	}
}

func (h *Health) fresh(n *node, now time.Time) bool {
	return n.connected > 0 || now.Sub(n.seen) <= h.ttl
}

// TargetHealth merges what the fresh nodes report of one target: unhealthy
// when any says so, else initial when any is still checking, else healthy.
// ok is false when no fresh node reports the target.
func (h *Health) TargetHealth(group, id string, port int) (lbconfig.TargetHealth, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	k := targetKey{group, id, port}
	var out lbconfig.TargetHealth
	found := false
	for _, n := range h.nodes {
		if !h.fresh(n, now) {
			continue
		}
		t, ok := n.targets[k]
		if !ok {
			continue
		}
		if !found || rank(t.State) > rank(out.State) || (rank(t.State) == rank(out.State) && t.Since.After(out.Since)) {
			out = t
		}
		found = true
	}
	return out, found
}

// rank orders states from best to worst.
func rank(state string) int {
	switch state {
	case lbconfig.HealthHealthy:
		return 0
	case lbconfig.HealthInitial:
		return 1
	default:
		return 2
	}
}

// Nodes names the fresh nodes and the configuration revision each serves.
func (h *Health) Nodes() map[string]uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	out := map[string]uint64{}
	for name, n := range h.nodes {
		if h.fresh(n, now) {
			out[name] = n.revision
		}
	}
	return out
}
