package server

import (
	"context"
	"time"

	"berth.dev/berth/internal/fsm/wire"
)

// Retention of STOPPED tasks: ECS keeps them describable for at least an
// hour. They are collected every DefaultGCInterval.
const (
	DefaultStoppedTaskRetention = time.Hour
	DefaultGCInterval           = time.Minute
)

// housekeeping runs the leader's periodic work until ctx ends: it marks
// every agent disconnected at start (sessions live in memory, so a
// restarted server has none), then collects STOPPED tasks past retention
// and expired clientTokens.
func (s *Server) housekeeping(ctx context.Context, retention, interval time.Duration) {
	if _, err := s.node.Apply(ctx, wire.ResetConnections{Meta: wire.Meta{Now: time.Now()}}); err != nil && ctx.Err() == nil {
		s.log.Warn("reset agent connections", "err", err)
	}
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
