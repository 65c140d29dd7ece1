package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"berth.dev/berth/internal/controller"
	"berth.dev/berth/internal/fsm/wire"
)

// Retention of STOPPED tasks: ECS keeps them describable for at least an
// hour. They are collected every DefaultGCInterval.
const (
	DefaultStoppedTaskRetention = time.Hour
	DefaultGCInterval           = time.Minute
)

// leaderWork is what this server does while it leads: everything that
// proposes commands on its own (the service controller, lost-host
// detection within it, garbage collection).
type leaderWork struct {
	services  *controller.Services
	epoch     string // session ID prefix of this process's agent streams
	retention time.Duration
	gc        time.Duration
}

// leaderNode is what the leader's loops need of the consensus layer.
type leaderNode interface {
	Leadership() (leading bool, since time.Time, changed <-chan struct{})
	Barrier(ctx context.Context) error
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// lead runs the leader's work while this node leads, until ctx ends: it
// starts when the node becomes leader and stops when it stops leading.
func (s *Server) lead(ctx context.Context, w leaderWork) {
	runWhileLeading(ctx, s.node, s.log, func(ctx context.Context) { s.leaderLoops(ctx, w) })
}

// runWhileLeading runs work while node leads, until ctx ends: work starts
// when the node becomes leader, and its context ends when the node stops
// leading; runWhileLeading waits for it to return before it looks again.
func runWhileLeading(ctx context.Context, node leaderNode, log *slog.Logger, work func(context.Context)) {
	for ctx.Err() == nil {
		leading, _, changed := node.Leadership()
		if !leading {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return
			}
		}
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			work(lctx)
		}()
		select {
		case <-changed:
			log.Info("leadership changed; stopping the leader's loops")
		case <-ctx.Done():
		}
		cancel()
		<-done
	}
}

// leaderLoops runs the leader's loops until ctx ends. First a barrier, so
// that they see every entry committed before this leadership; then the
// agent sessions of other server processes are marked disconnected. The
// moment that is done is when this leader started hearing from agents:
// the service controller counts an agent's disconnection from no earlier
// than it, so every agent gets a full lost-host timeout after a restart or
// an election to reconnect before its host is declared lost.
func (s *Server) leaderLoops(ctx context.Context, w leaderWork) {
	for {
		err := s.node.Barrier(ctx)
		if err == nil {
			_, err = s.node.Apply(ctx, wire.ResetConnections{Meta: wire.Meta{Now: time.Now()}, Except: w.epoch})
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("taking up leadership; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	since := time.Now()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		w.services.Run(ctx, since)
	}()
	go func() {
		defer wg.Done()
		s.collectGarbage(ctx, w.retention, w.gc)
	}()
	wg.Wait()
}

// collectGarbage removes STOPPED tasks past retention and expired
// clientTokens every interval until ctx ends.
func (s *Server) collectGarbage(ctx context.Context, retention, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		n, err := s.node.Apply(ctx, wire.CollectGarbage{Meta: wire.Meta{Now: now}, TasksBefore: now.Add(-retention)})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("collect garbage", "err", err)
			}
			continue
		}
		if n.(int) > 0 {
			s.log.Info("removed stopped tasks", "count", n)
		}
	}
}
