package controller

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/lbconfig"
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
	// Metrics, when set, receives the controller's metrics (see metrics.go).
	Metrics prometheus.Registerer
	// TargetHealth is the load balancers' view of the targets registered
	// for service tasks (nil: every target is still in its initial
	// checks).
	TargetHealth TargetHealth
	// Roles checks the task and execution roles of the tasks services
	// launch (nil: none are checked); a role ECS tasks cannot assume fails
	// the launch with ECS's event.
	Roles RoleChecker
}

// RoleChecker says whether ECS tasks may assume a role (stsapi's
// CheckTaskRole).
type RoleChecker interface {
	CheckTaskRole(roleARNOrName string) error
}

// TargetHealth is what the load-balancer nodes report of targets.
type TargetHealth interface {
	// TargetHealth is one target's health; ok is false when no node
	// reports it yet.
	TargetHealth(targetGroupARN, id string, port int) (h lbconfig.TargetHealth, ok bool)
	// Changes returns a channel closed at the next change of any target.
	Changes() <-chan struct{}
}

// Services is the service controller.
type Services struct {
	cfg   Config
	log   *slog.Logger
	rng   *rand.Rand
	views fsm.InstanceViews // placement views of container instances, kept between starts
	// leaderSince is when this server's leadership began (see Run).
	leaderSince time.Time
	metrics     *metrics
	// lastTargets is the last health seen of each live task's targets, by
	// task ID: a task that stopped on its own is judged by it (its targets
	// are deregistered by then). Leader-local, dropped with the task.
	lastTargets map[string][]deploy.Target
	seenTasks   map[string]bool // the tasks of services with load balancers seen in this pass
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
	m := newMetrics()
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(m.duration, m.rounds)
	}
	return &Services{cfg: cfg, log: cfg.Log.With("component", "services"), rng: rand.New(rand.NewPCG(seed, seed>>7)), metrics: m,
		lastTargets: map[string][]deploy.Target{}}
}

// Run reconciles services until ctx ends. It runs only while this server
// leads: leaderSince is when the leadership began (after the leader's
// barrier). An agent that is disconnected counts as disconnected since no
// earlier than leaderSince, because a new leader cannot know when another
// server last heard from it: every agent gets a full lost-host timeout
// after a restart or an election before its host is declared lost.
func (s *Services) Run(ctx context.Context, leaderSince time.Time) {
	s.leaderSince = leaderSince
	for ctx.Err() == nil {
		start := time.Now()
		wake, watches, rounds := s.pass(ctx)
		s.metrics.observe(time.Since(start), rounds)
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
