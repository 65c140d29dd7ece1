package docker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// fakeStreams hands out event streams the test feeds and fails.
type fakeStreams struct {
	mu      sync.Mutex
	opened  int
	live    int // streams whose context has not ended
	current chan events.Message
	fail    chan error
}

func (f *fakeStreams) open(ctx context.Context) client.EventsResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened++
	f.live++
	msgs, errs := make(chan events.Message), make(chan error, 1)
	f.current, f.fail = msgs, errs
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		f.live--
		f.mu.Unlock()
	}()
	return client.EventsResult{Messages: msgs, Err: errs}
}

func (f *fakeStreams) stats() (opened, live int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened, f.live
}

func (f *fakeStreams) send(t *testing.T, id string) {
	t.Helper()
	f.mu.Lock()
	ch := f.current
	f.mu.Unlock()
	select {
	case ch <- events.Message{Type: events.ContainerEventType, Action: "health_status: healthy", Actor: events.Actor{ID: id}}:
	case <-time.After(10 * time.Second):
		t.Fatal("nobody reads the stream")
	}
}

func newFakeHub() (*healthEvents, *fakeStreams) {
	f := &fakeStreams{}
	return &healthEvents{open: f.open, retry: 10 * time.Millisecond, log: slog.New(slog.DiscardHandler),
		subs: map[string]map[chan struct{}]struct{}{}}, f
}

func signalled(ch <-chan struct{}, within time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(within):
		return false
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHealthEventsOneStreamForAllWatches(t *testing.T) {
	hub, f := newFakeHub()
	a1, unA1 := hub.subscribe("a")
	a2, unA2 := hub.subscribe("a")
	b, unB := hub.subscribe("b")
	waitFor(t, "the stream is open", func() bool { o, _ := f.stats(); return o == 1 })

	f.send(t, "a")
	if !signalled(a1, 5*time.Second) || !signalled(a2, 5*time.Second) {
		t.Fatal("an event of a did not reach both of its watches")
	}
	if signalled(b, 50*time.Millisecond) {
		t.Fatal("an event of a woke the watch of b")
	}
	// Many events, nobody reading: dispatch never blocks.
	for range 5 {
		f.send(t, "b")
	}
	if !signalled(b, 5*time.Second) {
		t.Fatal("events of b did not reach its watch")
	}

	unA1()
	unA1() // ending twice is harmless
	unA2()
	if o, l := f.stats(); o != 1 || l != 1 {
		t.Fatalf("after two of three watches left: %d streams opened, %d open; want 1 and 1", o, l)
	}
	unB()
	waitFor(t, "the last watch leaving closes the stream", func() bool { _, l := f.stats(); return l == 0 })

	// A new watch opens a new stream.
	c, unC := hub.subscribe("c")
	defer unC()
	waitFor(t, "a new stream is open", func() bool { o, l := f.stats(); return o == 2 && l == 1 })
	f.send(t, "c")
	if !signalled(c, 5*time.Second) {
		t.Fatal("an event of c did not reach its watch")
	}
}

func TestHealthEventsReopenAndWakeAllAfterAFailure(t *testing.T) {
	hub, f := newFakeHub()
	a, unA := hub.subscribe("a")
	defer unA()
	b, unB := hub.subscribe("b")
	defer unB()
	waitFor(t, "the stream is open", func() bool { o, _ := f.stats(); return o == 1 })

	f.mu.Lock()
	f.fail <- errors.New("connection reset")
	f.mu.Unlock()
	// Events may have been missed: every watch reads again.
	if !signalled(a, 5*time.Second) || !signalled(b, 5*time.Second) {
		t.Fatal("a failed stream did not wake every watch")
	}
	waitFor(t, "the stream is opened again", func() bool { o, l := f.stats(); return o == 2 && l == 1 })
	for signalled(b, 100*time.Millisecond) { // the wake-ups of the failure and the reopening
	}
	f.send(t, "b")
	if !signalled(b, 5*time.Second) {
		t.Fatal("an event on the new stream did not reach its watch")
	}
}
