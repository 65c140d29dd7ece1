//go:build linux

package process

import (
	"context"
	"errors"
	"time"
)

// recheckInterval bounds how long Wait and Stop trust a single event
// source before they read the state directory again. Every change they
// wait for comes with an event: the exit of the process the snapshot shows
// alive (its pidfd), or, for a shim this driver launches, its ready pipe
// and its reaping. The periodic re-read is a safety net for changes that
// come with none of these (records another driver writes into the same
// state directory, a start by another driver); at 1,000 waiting
// containers it costs 100 snapshots a second, about 1% of a core.
const recheckInterval = 10 * time.Second

// awaitChange blocks until what snapshot s shows may have changed, the
// deadline passes (zero: none), recheckInterval passes, or ctx ends (its
// error). launched, when not nil, is this driver's launch notification
// taken before s was read: a container not started yet wakes when this
// driver launches a shim.
func (d *Driver) awaitChange(ctx context.Context, s *snapshot, launched <-chan struct{}, deadline time.Time) error {
	now := time.Now()
	limit := now.Add(recheckInterval)
	if !deadline.IsZero() && deadline.Before(limit) {
		limit = deadline
	}
	soon := now.Add(d.poll)
	if soon.After(limit) {
		soon = limit
	}
	var alive *procRef
	switch {
	case s.shimAlive:
		alive = s.shim
	case s.workAlive:
		alive = &s.work.procRef
	}
	switch {
	case alive != nil:
		_, err := waitExit(ctx, *alive, limit)
		if errors.Is(err, errNoPidfd) {
			return d.await(ctx, nil, nil, soon) // no pidfd on this kernel: poll
		}
		return err
	case !s.started:
		return d.await(ctx, launched, nil, limit)
	}
	// Started, and nothing alive on record: the shim is starting (or died
	// before writing its record and is about to be reaped).
	if c := d.child(s.id); c != nil {
		if isClosed(c.ready) {
			return d.await(ctx, nil, c.done, limit)
		}
		return d.await(ctx, c.ready, c.done, limit)
	}
	return d.await(ctx, nil, nil, soon) // started elsewhere: its records are all there is
}

// await blocks until a or b is closed (nil: never), the deadline passes
// (zero: never) or ctx ends (its error).
func (d *Driver) await(ctx context.Context, a, b <-chan struct{}, deadline time.Time) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-a:
	case <-b:
	case <-timeout:
	}
	return nil
}
