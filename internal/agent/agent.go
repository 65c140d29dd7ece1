package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"berth.dev/berth/internal/agentproto"
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
	// runCtx is Run's context: runners end with it (their containers go
	// on), so Run can return.
	runCtx context.Context

	connected chan struct{} // closed on first stream open (tests, dev banner)
	connOnce  sync.Once

	syncMu   sync.Mutex
	synced   chan struct{} // see Synced
	syncDone bool          // synced is closed
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

var errDeregistered = errors.New("container instance deregistered")

// streamer opens the server's push stream (package agentproto).
type streamer interface {
	// OpenStream opens the stream; an error wrapping errDeregistered means
	// the instance is no longer registered.
	OpenStream(ctx context.Context, req agentproto.StreamRequest) (messageStream, error)
}

// messageStream yields the stream's lines (JSON agentproto.Message) until
// it ends; Close unblocks a Next under way.
type messageStream interface {
	Next() ([]byte, error)
	Close() error
}

// stream opens the push stream and handles its messages until it ends.
func (a *Agent) stream(ctx context.Context, backoff *backoff) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := a.srv.OpenStream(ctx, agentproto.StreamRequest{Cluster: a.cfg.Cluster, ContainerInstanceArn: a.InstanceArn()})
	if err != nil {
		return err
	}
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	readerDone := make(chan struct{})
	defer func() {
		cancel()
		s.Close()
		<-readerDone
		a.markUnsynced()
	}()
	backoff.reset()
	a.connOnce.Do(func() { close(a.connected) })
	a.reporter.resync()
	go func() {
		defer close(readerDone)
		for {
			line, err := s.Next()
			if err != nil {
				readErr <- err
				return
			}
			select {
			case lines <- line:
			case <-ctx.Done():
				return
			}
		}
	}()
	silence := time.NewTimer(3 * agentproto.HeartbeatInterval)
	defer silence.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case <-silence.C:
			return errors.New("stream silent for too long")
		case line := <-lines:
			silence.Reset(3 * agentproto.HeartbeatInterval)
			var m agentproto.Message
			if err := json.Unmarshal(line, &m); err != nil {
				a.log.Warn("bad stream message", "err", err)
				continue
			}
			switch m.Type {
			case agentproto.TypeTasks:
				a.reconcile(m)
				if m.Full {
					a.markSynced()
				}
			case agentproto.TypeLogs:
				if m.Logs != nil {
					go a.uploadLogs(context.WithoutCancel(ctx), *m.Logs)
				}
			case agentproto.TypeDeregistered:
				return errDeregistered
			}
		}
	}
}

// reconcile applies a Tasks message: new tasks start, changed ones update,
// and tasks that left the server's set (Removed, or missing from a Full
// message) are forgotten: their runners stop what still runs (the server
// forgot them, e.g. after this host was declared lost) and clean up. A
// finished task (STOPPED here) is never started again, whatever the
// message says: the server may list it until it has its STOPPED report.
func (a *Agent) reconcile(m agentproto.Message) {
	want := make(map[string]bool, len(m.Tasks))
	for _, t := range m.Tasks {
		want[t.TaskArn] = true
		a.mu.Lock()
		r := a.runners[t.TaskArn]
		if r == nil {
			if a.finished.has(t.TaskArn) {
				a.mu.Unlock()
				continue
			}
			if t.Definition == nil {
				a.mu.Unlock()
				a.log.Warn("the server sent a task update for an unknown task", "task", t.TaskArn)
				continue
			}
			r = a.newRunner(t, nil)
			a.runners[t.TaskArn] = r
			a.startRunner(r)
		}
		a.mu.Unlock()
		r.update(t)
	}
	// Under a.mu a runner is either running (it is told) or handed over to
	// finished (which is told): see startRunner.
	var unlisted []string
	a.mu.Lock()
	if m.Full {
		for arn, r := range a.runners {
			if !want[arn] {
				r.forget()
			}
		}
		unlisted = a.finished.listedExcept(want)
	}
	for _, arn := range m.Removed {
		if r := a.runners[arn]; r != nil {
			r.forget()
		} else {
			unlisted = append(unlisted, arn)
		}
	}
	a.mu.Unlock()
	for _, arn := range unlisted {
		a.finished.unlisted(arn)
	}
}

// startRunner runs r; when it ends with its task STOPPED, finished takes
// the task over, in the critical section (a.mu) that removes the runner,
// still listed unless the runner was told the server forgot the task.
func (a *Agent) startRunner(r *runner) {
	a.wg.Go(func() {
		done := r.run(a.runCtx)
		a.mu.Lock()
		defer a.mu.Unlock()
		forgotten := r.close()
		if a.runners[r.arn] == r {
			delete(a.runners, r.arn)
		}
		if done {
			a.finished.add(r.arn, !forgotten)
		}
	})
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
