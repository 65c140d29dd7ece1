package server

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/fsm/wire"
)

// fakeLeadership is a leaderNode whose leadership the test sets.
type fakeLeadership struct {
	mu      sync.Mutex
	leading bool
	changed chan struct{}
}

func (f *fakeLeadership) Leadership() (bool, time.Time, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leading, time.Time{}, f.changed
}

func (f *fakeLeadership) set(leading bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leading = leading
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeLeadership) Barrier(context.Context) error { return nil }

func (f *fakeLeadership) Apply(context.Context, wire.Command) (any, error) { return nil, nil }

// The leader's work runs only while the node leads: it starts when the node
// becomes leader, its context ends when the node stops leading, and it
// starts again at the next leadership.
func TestRunWhileLeading(t *testing.T) {
	node := &fakeLeadership{changed: make(chan struct{})}
	started := make(chan struct{})
	stopped := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runWhileLeading(ctx, node, slog.New(slog.DiscardHandler), func(ctx context.Context) {
			started <- struct{}{}
			<-ctx.Done()
			stopped <- struct{}{}
		})
	}()
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not happen", what)
		}
	}
	// Not leading: nothing runs. Becoming leader is the first event the
	// work can see, so a start before it fails the test below.
	node.set(true)
	wait(started, "the start at the first leadership")
	node.set(false)
	wait(stopped, "the stop when leadership was lost")
	select {
	case <-started:
		t.Fatal("the work started again while the node does not lead")
	default:
	}
	node.set(true)
	wait(started, "the start at the second leadership")
	cancel()
	wait(stopped, "the stop when the server closes")
	wait(done, "runWhileLeading's return")
}
