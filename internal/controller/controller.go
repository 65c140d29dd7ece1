package controller

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Reader gives read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Config wires the service controller.
type Config struct {
	State    Reader
	Proposer Proposer
	Log      *slog.Logger
	Now      func() time.Time
	// Deploy is the reconciler's configuration (settle time, lost-host
	// timeout, ...); zero means deploy.DefaultConfig().
	Deploy *deploy.Config
	// NewTaskID and NewUUID make IDs for the tasks the controller starts.
	NewTaskID func() string
	NewUUID   func() string
}

// Services is the service controller.
type Services struct {
	cfg   Config
	log   *slog.Logger
	rng   *rand.Rand
	views fsm.InstanceViews // placement views of container instances, kept between starts
}

// NewServices returns the service controller.
func NewServices(cfg Config) *Services {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Deploy == nil {
		d := deploy.DefaultConfig()
		cfg.Deploy = &d
	}
	seed := uint64(cfg.Now().UnixNano())
	return &Services{cfg: cfg, log: cfg.Log.With("component", "services"), rng: rand.New(rand.NewPCG(seed, seed>>7))}
}

// Run reconciles services until ctx ends.
func (s *Services) Run(ctx context.Context) {
	for ctx.Err() == nil {
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
		watches := []<-chan struct{}{servicesCh}
		for cl := range clusters {
			watches = append(watches, snap.WatchClusterTasks(cl, func(*state.Task) bool { return true }))
			watches = append(watches, snap.WatchClusterInstances(cl, func(*state.ContainerInstance) bool { return true }))
		}
		wake := time.Time{}
		views := clusterViews{}
		for _, svc := range services {
			w, err := s.reconcile(ctx, snap, views, svc)
			if err != nil && ctx.Err() == nil && !errors.Is(err, fsm.ErrStaleRound) {
				s.log.Warn("service round failed", "cluster", svc.Cluster, "service", svc.Name, "err", err)
				w = s.cfg.Now().Add(time.Second)
			}
			if !w.IsZero() && (wake.IsZero() || w.Before(wake)) {
				wake = w
			}
		}
		if !s.wait(ctx, watches, wake) {
			return
		}
	}
}

// wait blocks until a watch fires, the wake time comes, or ctx ends.
func (s *Services) wait(ctx context.Context, watches []<-chan struct{}, wake time.Time) bool {
	fired := make(chan struct{}, 1)
	stop := make(chan struct{})
	defer close(stop)
	for _, w := range watches {
		go func() {
			select {
			case <-w:
				select {
				case fired <- struct{}{}:
				default:
				}
			case <-stop:
			}
		}()
	}
	var timer <-chan time.Time
	if !wake.IsZero() {
		t := time.NewTimer(max(time.Until(wake), 10*time.Millisecond))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-fired:
	case <-timer:
	}
	return true
}

// reconcile runs one round for svc and returns when to look again.
func (s *Services) reconcile(ctx context.Context, snap *state.Snapshot, views clusterViews, svc *state.Service) (time.Time, error) {
	now := s.cfg.Now()
	in := s.input(snap, views, svc, now)
	res := deploy.Reconcile(in)
	if !res.Changed && len(res.Starts) == 0 {
		return res.Wake, nil
	}
	gen := svc.Generation
	if res.Changed {
		v, err := s.cfg.Proposer.Apply(ctx, roundCommand(svc, gen, res, wire.Meta{Now: now}))
		if err != nil {
			return time.Time{}, err
		}
		gen = v.(*state.Service).Generation
	}
	for _, st := range res.Starts {
		if err := s.start(ctx, svc, gen, st, in.ClusterVersion); err != nil {
			return time.Time{}, err
		}
	}
	return res.Wake, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
