package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// round is one service's work in a pass.
type round struct {
	svc *state.Service
	in  deploy.Input
	res deploy.Result
	gen int64 // the service's generation once the round is applied
	err error
}

// pass reconciles every ACTIVE or DRAINING service once, from one
// snapshot, and returns when to look again, what to watch meanwhile, and
// how many services had work in it (rounds).
//
// It proposes in three phases, each phase's commands all at once so that
// raft commits them in shared batches (one log append and fsync for many):
// every changed service's ServiceRound; then the starts of every round
// that committed, placed one after another on one view of each cluster
// (so that they do not compete for the same resources) and committed as
// RunTask commands; then each start's outcome (ServicePlacement).
func (s *Services) pass(ctx context.Context) (time.Time, []<-chan struct{}, int) {
	snap := s.cfg.State.Snapshot()
	var services []*state.Service
	clusters := map[string]bool{}
	servicesCh := snap.WatchServices(func(svc *state.Service) bool {
		if st := deref(svc.Shape.Status); st == "ACTIVE" || st == "DRAINING" {
			services = append(services, svc)
			clusters[svc.Cluster] = true
		}
		return true
	})
	watches := []<-chan struct{}{servicesCh, snap.Abandoned()}
	if s.cfg.TargetHealth != nil {
		// Taken before any health is read, so that no change is missed.
		watches = append(watches, s.cfg.TargetHealth.Changes())
	}
	s.seenTasks = map[string]bool{}
	defer func() {
		for id := range s.lastTargets {
			if !s.seenTasks[id] {
				delete(s.lastTargets, id)
			}
		}
	}()
	for cl := range clusters {
		watches = append(watches, snap.WatchClusterTasks(cl, func(*state.Task) bool { return true }))
		watches = append(watches, snap.WatchClusterInstances(cl, func(*state.ContainerInstance) bool { return true }))
	}
	now := s.cfg.Now()
	var wake time.Time
	later := func(w time.Time) {
		if !w.IsZero() && (wake.IsZero() || w.Before(wake)) {
			wake = w
		}
	}
	views := clusterViews{}
	var rounds []*round
	for _, svc := range services {
		in := s.input(snap, views, svc, now)
		res := deploy.Reconcile(in)
		later(res.Wake)
		if res.Changed || len(res.Starts) > 0 {
			rounds = append(rounds, &round{svc: svc, in: in, res: res, gen: svc.Generation})
		}
	}
	if len(rounds) == 0 {
		return wake, watches, 0
	}

	// Phase 1: the rounds.
	var changed []*round
	var cmds []wire.Command
	for _, r := range rounds {
		if r.res.Changed {
			changed = append(changed, r)
			cmds = append(cmds, roundCommand(r.svc, r.svc.Generation, r.res, wire.Meta{Now: now}))
		}
	}
	for i, out := range s.applyAll(ctx, cmds) {
		r := changed[i]
		if out.err != nil {
			r.err = out.err
			continue
		}
		r.gen = out.value.(*state.Service).Generation
	}

	// Phase 2: place and commit the starts of the rounds that applied.
	st := s.newStarts()
	for _, r := range rounds {
		if r.err != nil {
			continue
		}
		for _, start := range r.res.Starts {
			st.plan(r, start)
		}
	}
	st.commit(ctx)

	// Phase 3: the starts' outcomes.
	cmds = cmds[:0]
	var recorded []*round
	for _, p := range st.placed {
		if p.r.err == nil {
			cmds = append(cmds, p.outcome(s.cfg.Now()))
			recorded = append(recorded, p.r)
		}
	}
	for i, out := range s.applyAll(ctx, cmds) {
		if out.err != nil && recorded[i].err == nil {
			recorded[i].err = out.err
		}
	}

	for _, r := range rounds {
		if r.err != nil && ctx.Err() == nil && !errors.Is(r.err, fsm.ErrStaleRound) {
			s.log.Warn("service round failed", "cluster", r.svc.Cluster, "service", r.svc.Name, "err", r.err)
			later(s.cfg.Now().Add(time.Second))
		}
	}
	return wake, watches, len(rounds)
}

// applied is one command's outcome.
type applied struct {
	value any
	err   error
}

// applyAll proposes every command at once and waits for all: raft commits
// commands that wait together in shared batches.
func (s *Services) applyAll(ctx context.Context, cmds []wire.Command) []applied {
	out := make([]applied, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.cfg.Proposer.Apply(ctx, c)
			out[i] = applied{value: v, err: err}
		}()
	}
	wg.Wait()
	return out
}
