package agent

import (
	"context"
	"sync"
)

// tally counts the agent's unfinished work: the runners' inputs not yet
// acted on (a start, a server update, an event), their runtime calls in
// flight, and the tasks whose latest report the server has not
// acknowledged. A unit of work is counted before the one that caused it is
// discounted, so the count is zero only when everything it caused is done.
type tally struct {
	mu    sync.Mutex
	n     int
	zero  chan struct{} // closed while n == 0
	under bool          // n went below zero once: a counting bug (tests check it)
}

func newTally() *tally {
	z := make(chan struct{})
	close(z)
	return &tally{zero: z}
}

func (t *tally) add(d int) {
	if d == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.n
	t.n += d

	if t.n < 0 {
		t.n, t.under = 0, true
	}
	switch {
	case was == 0 && t.n > 0:
		t.zero = make(chan struct{})
	case was > 0 && t.n == 0:
		close(t.zero)
	}
}

// idle returns a channel closed once the count is zero.
func (t *tally) idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.zero
}

// Synced returns a channel closed once the agent has applied the full task
// list the server sent on its current stream. When the stream ends a new,
// open channel replaces a closed one, so a channel taken while the stream
// is down closes with the next stream's list.
func (a *Agent) Synced() <-chan struct{} {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	return a.synced
}

func (a *Agent) markSynced() {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if !a.syncDone {
		close(a.synced)
		a.syncDone = true
	}
}

func (a *Agent) markUnsynced() {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if a.syncDone {
		a.synced = make(chan struct{})
		a.syncDone = false
	}
}

// WaitSettled returns once the agent has done what it knows to do: it has
// applied the server's full task list on its current stream (waiting for a
// stream when there is none), every runner has acted on everything it was
// told and saw (no event waiting, no runtime call in flight), and the
// server has acknowledged every task's latest report. It is for tests and
// tools: a container that exits afterwards is news, and a clean-up (even
// one due now) runs on its own time; neither is unfinished work.
func (a *Agent) WaitSettled(ctx context.Context) error {
	for {
		synced := a.Synced()
		select {
		case <-synced:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-a.work.idle():
		case <-ctx.Done():
			return ctx.Err()
		}
		if a.Synced() == synced { // no new stream meanwhile
			return nil
		}
	}
}

// TaskStatus returns the status the agent last decided for a task
// (PENDING, RUNNING or STOPPED), and false for a task it does not hold.
func (a *Agent) TaskStatus(taskArn string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r := a.runners[taskArn]; r != nil {
		return r.lastStatus(), true
	}
	if a.finished != nil && a.finished.has(taskArn) {
		return "STOPPED", true
	}
	return "", false
}
