package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"berth.dev/berth/internal/taskhttp"
)

// Agent runs tasks on one host.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	store *store
	// dial connects to the server (dialServer; tests give a fake).
	dial func(context.Context, *Config) (controlPlane, error)
	srv  controlPlane

	instanceID     string // ec2InstanceId
	runtimeVersion string
	reporter       *reporter
	finished       *finished
	work           *tally // see WaitSettled

	mu          sync.Mutex
	instanceArn string
	runners     map[string]*runner // by task ARN
	wg          sync.WaitGroup
	shipping    map[string]bool // containers whose awslogs output is being shipped, by runtime ID
	// runCtx is Run's context: runners end with it (their containers go
	// on), so Run can return.
	runCtx context.Context

	connected chan struct{} // closed on first stream open (tests, dev banner)
	connOnce  sync.Once

	syncMu   sync.Mutex
	synced   chan struct{} // see Synced
	syncDone bool          // synced is closed

	noTaskDNS sync.Once // logs that the runtime cannot apply Config.TaskDNS

	// endpoint serves the tasks' credentials and metadata (taskcreds.go).
	endpoint *taskhttp.Server
}

// New checks cfg and returns an agent.
func New(cfg Config) (*Agent, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: cfg.Log.With("component", "agent"), dial: dialServer, runners: map[string]*runner{},
		work: newTally(), connected: make(chan struct{}), synced: make(chan struct{})}
	a.instanceID = cfg.InstanceID
	if a.instanceID == "" {
		a.instanceID = hostInstanceID(cfg.DataDir)
	}
	a.runtimeVersion = cfg.Driver.Name()
	var awsAPI http.Handler
	if cfg.TaskAWSEndpoint {
		var err error
		if awsAPI, err = newAWSProxy(cfg.Server); err != nil {
			return nil, fmt.Errorf("server URL %q: %w", cfg.Server, err)
		}
	}
	ecfg := taskhttp.Config{Key: endpointKey(cfg.SecretAccessKey, a.instanceID),
		Credentials: taskCredentials{a}, AWS: awsAPI, Clock: clockDrift, Log: a.log.With("component", "taskendpoint")}
	if st, ok := cfg.Driver.(taskhttp.StatsSource); ok { // a runtime that reads container statistics
		ecfg.Stats = st
	}
	a.endpoint = taskhttp.New(ecfg)
	return a, nil
}

// Connected is closed once the agent has registered and its stream is open.
func (a *Agent) Connected() <-chan struct{} { return a.connected }

// InstanceArn is the container instance ARN once registered.
func (a *Agent) InstanceArn() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.instanceArn
}

// Run runs the agent until ctx ends. Containers keep running after it
// returns: stopping the agent never stops tasks.
func (a *Agent) Run(ctx context.Context) error {
	st, err := openStore(a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.store = st
	a.runCtx = ctx
	if a.srv, err = a.dial(ctx, &a.cfg); err != nil {
		return err
	}
	a.reporter = newReporter(a.srv, a.cfg.Cluster, a.log, a.work, a.taskReported)
	a.finished = newFinished(a)
	defer a.finished.close()
	defer a.wg.Wait() // the runners, which end with ctx
	// Adopt what still runs before anything else: tasks go on even while
	// the server cannot be reached.
	if n := st.instance().Network; n != nil {
		a.configureNetwork(ctx, *n, false) // the last one the server sent
	}
	if err := a.recover(ctx); err != nil {
		return fmt.Errorf("recover running tasks: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { a.reporter.run(ctx) })
	defer wg.Wait()
	backoff := newBackoff()
	registered := false
	for ctx.Err() == nil {
		if !registered {
			if err := a.register(ctx); err != nil {
				if ctx.Err() != nil {
					break
				}
				a.log.Warn("registration failed; retrying", "err", err)
				backoff.wait(ctx)
				continue
			}
			registered = true
			a.log.Info("registered", "containerInstance", a.InstanceArn(), "cluster", a.cfg.Cluster, "runtime", a.cfg.Driver.Name())
			a.logTaskLimits()
		}
		err := a.stream(ctx, backoff)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, errDeregistered) {
			a.log.Warn("this container instance was deregistered; registering again")
			_ = a.store.setInstance(func(s *instanceState) { s.ContainerInstanceArn = "" })
			registered = false
		} else if err != nil {
			a.log.Warn("stream ended; reconnecting", "err", err)
		}
		backoff.wait(ctx)
	}
	return nil
}

// backoff is a jittered exponential backoff between 100ms and 5s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 100 * time.Millisecond} }

func (b *backoff) reset() { b.d = 100 * time.Millisecond }

func (b *backoff) wait(ctx context.Context) {
	d := b.d/2 + time.Duration(rand.Int64N(int64(b.d)))
	b.d = min(b.d*2, 5*time.Second)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
