package agent

import (
	"context"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/taskplan"
)

// enter counts an input; false once the runner has ended.
func (r *runner) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.queued++
	r.a.work.add(1)
	return true
}

// leave discounts n inputs acted on (or never delivered).
func (r *runner) leave(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || n == 0 {
		return
	}
	r.queued -= n
	r.a.work.add(-n)
}

// close discounts what the ended runner left unread.
func (r *runner) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.a.work.add(-r.queued)
	r.queued, r.closed = 0, true
}

// toldForgotten reports whether the runner was told the server forgot the
// task.
func (r *runner) toldForgotten() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.forgetting
}

func (r *runner) setStatus(s string) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

func (r *runner) lastStatus() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status == "" {
		return taskplan.StatusPending
	}
	return r.status
}

// update hands the runner the server's latest view of its task. Only the
// stream's goroutine calls it.
func (r *runner) update(t agentproto.Task) {
	select {
	case <-r.updates:
		r.leave(1) // replaced
	default:
	}
	if !r.enter() {
		return
	}
	select {
	case r.updates <- t:
	default:
		r.leave(1)
	}
}

// forget tells the runner the server no longer lists its task. The caller
// holds a.mu, so the runner has not been handed over to finished.
func (r *runner) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.forgetting {
		r.forgetting = true
		if !r.closed {
			r.queued++
			r.a.work.add(1)
		}
		close(r.forgot)
	}
}

// send delivers an event to run, or drops it once run has returned.
func (r *runner) send(ev event) {
	if !r.enter() {
		return
	}
	select {
	case r.events <- ev:
	case <-r.ended:
		r.leave(1)
	}
}

// sendCtx is send bounded by ctx.
func (r *runner) sendCtx(ctx context.Context, ev event) {
	if !r.enter() {
		return
	}
	select {
	case r.events <- ev:
	case <-r.ended:
		r.leave(1)
	case <-ctx.Done():
		r.leave(1)
	}
}
