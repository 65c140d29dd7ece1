package docker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// healthEvents shares one engine events stream (the health_status events of
// every container) among a driver's health watches, instead of one stream
// per watched container.
//
// Invariants: the stream runs while at least one watch is subscribed and is
// closed when the last one leaves; a subscriber's channel (capacity 1) is
// signalled, never blocked on, for each event of its container, and every
// subscriber is signalled when the stream fails and again when it has been
// opened anew, since events may have been missed in between.
type healthEvents struct {
	open  func(ctx context.Context) client.EventsResult
	retry time.Duration
	log   *slog.Logger

	mu     sync.Mutex
	subs   map[string]map[chan struct{}]struct{} // by full container ID
	cancel context.CancelFunc                    // of the running stream; nil when none
}

func newHealthEvents(cli *client.Client, log *slog.Logger) *healthEvents {
	return &healthEvents{
		open: func(ctx context.Context) client.EventsResult {
			return cli.Events(ctx, client.EventsListOptions{
				// The engine matches "health_status" against "health_status: healthy" and the like.
				Filters: make(client.Filters).Add("type", "container").Add("event", "health_status"),
			})
		},
		retry: healthRetry,
		log:   log,
		subs:  map[string]map[chan struct{}]struct{}{},
	}
}

// subscribe returns a channel signalled on each health event of container
// id (its full ID), and the function that ends the subscription.
func (e *healthEvents) subscribe(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.subs[id] == nil {
		e.subs[id] = map[chan struct{}]struct{}{}
	}
	e.subs[id][ch] = struct{}{}
	if e.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		e.cancel = cancel
		go e.run(ctx)
	}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			delete(e.subs[id], ch)
			if len(e.subs[id]) == 0 {
				delete(e.subs, id)
			}
			if len(e.subs) == 0 && e.cancel != nil {
				e.cancel()
				e.cancel = nil
			}
		})
	}
}

// run reads the stream until ctx ends, opening it again after a failure.
func (e *healthEvents) run(ctx context.Context) {
	for first := true; ctx.Err() == nil; first = false {
		sctx, cancel := context.WithCancel(ctx)
		ev := e.open(sctx)
		if !first {
			e.signal("")
		}
		e.follow(ctx, ev)
		cancel()
		e.signal("")
		select {
		case <-ctx.Done():
		case <-time.After(e.retry):
		}
	}
}

// follow dispatches the stream's events until it fails or ctx ends.
func (e *healthEvents) follow(ctx context.Context, ev client.EventsResult) {
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-ev.Err:
			if ctx.Err() == nil {
				e.log.Debug("container health events", "err", err)
			}
			return
		case m := <-ev.Messages:
			e.signal(m.Actor.ID)
		}
	}
}

// signal wakes the subscribers of container id, or all when id is "".
func (e *healthEvents) signal(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wake := func(chs map[chan struct{}]struct{}) {
		for ch := range chs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	if id != "" {
		wake(e.subs[id])
		return
	}
	for _, chs := range e.subs {
		wake(chs)
	}
}
