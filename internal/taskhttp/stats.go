package taskhttp

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// statsTimeout bounds one container's statistics read.
const statsTimeout = 5 * time.Second

// stats is a container's runtime statistics as the StatsSource gives them
// (Docker's stats JSON), {} when there is no source or it fails.
func (s *Server) stats(ctx context.Context, runtimeID string) json.RawMessage {
	if s.cfg.Stats == nil {
		return json.RawMessage("{}")
	}
	ctx, cancel := context.WithTimeout(ctx, statsTimeout)
	defer cancel()
	b, err := s.cfg.Stats.ContainerStats(ctx, runtimeID)
	if err != nil || !json.Valid(b) {
		s.cfg.Log.Debug("container statistics not read", "container", runtimeID, "err", err)
		return json.RawMessage("{}")
	}
	return b
}

// taskStats is the statistics of every container of a task that the
// runtime created, by runtime ID, read in parallel.
func (s *Server) taskStats(ctx context.Context, containers []ContainerMetadata) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(containers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range containers {
		if c.DockerID == "" {
			continue
		}
		wg.Go(func() {
			b := s.stats(ctx, c.DockerID)
			mu.Lock()
			out[c.DockerID] = b
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
