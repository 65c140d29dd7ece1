package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/internal/agentproto"
)

// Agent runs tasks on one host.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	store *store
	ecs   *ecs.Client
	creds aws.Credentials
	http  *http.Client

	instanceID     string // ec2InstanceId
	instanceArn    string
	runtimeVersion string
	reporter       *reporter

	mu      sync.Mutex
	runners map[string]*runner // by task ARN
	wg      sync.WaitGroup
	// runCtx is Run's context: runners end with it (their containers go
	// on), so Run can return.
	runCtx context.Context

	connected chan struct{} // closed on first stream open (tests, dev banner)
	connOnce  sync.Once
}

// New checks cfg and returns an agent.
func New(cfg Config) (*Agent, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: cfg.Log.With("component", "agent"), runners: map[string]*runner{},
		http: &http.Client{}, connected: make(chan struct{})}
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
	if a.ecs, a.creds, err = newECSClient(ctx, &a.cfg); err != nil {
		return err
	}
	a.reporter = newReporter(a)
	// Adopt what still runs before anything else: tasks go on even while
	// the server cannot be reached.
	if err := a.recover(ctx); err != nil {
		return fmt.Errorf("recover running tasks: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.reporter.run(ctx)
	}()
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
			a.log.Info("registered", "containerInstance", a.instanceArn, "cluster", a.cfg.Cluster, "runtime", a.cfg.Driver.Name())
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
	a.wg.Wait()
	return nil
}

var errDeregistered = errors.New("container instance deregistered")

// stream opens the push stream and handles its messages until it ends.
func (a *Agent) stream(ctx context.Context, backoff *backoff) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := a.signedRequest(ctx, http.MethodPost, agentproto.PathStream,
		agentproto.StreamRequest{Cluster: a.cfg.Cluster, ContainerInstanceArn: a.instanceArn})
	if err != nil {
		return err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := apiError(resp)
		if resp.StatusCode == http.StatusBadRequest {
			return fmt.Errorf("%w: %v", errDeregistered, err)
		}
		return err
	}
	backoff.reset()
	a.connOnce.Do(func() { close(a.connected) })
	a.reporter.resync()
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		for sc.Scan() {
			select {
			case lines <- append([]byte(nil), sc.Bytes()...):
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	silence := time.NewTimer(3 * agentproto.HeartbeatInterval)
	defer silence.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			if err == nil {
				err = errors.New("stream closed by the server")
			}
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
// forgot them, e.g. after this host was declared lost) and clean up.
func (a *Agent) reconcile(m agentproto.Message) {
	want := make(map[string]bool, len(m.Tasks))
	for _, t := range m.Tasks {
		want[t.TaskArn] = true
		a.mu.Lock()
		r := a.runners[t.TaskArn]
		if r == nil {
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
	var gone []*runner
	a.mu.Lock()
	if m.Full {
		for arn, r := range a.runners {
			if !want[arn] {
				gone = append(gone, r)
			}
		}
	}
	for _, arn := range m.Removed {
		if r := a.runners[arn]; r != nil {
			gone = append(gone, r)
		}
	}
	a.mu.Unlock()
	for _, r := range gone {
		r.forget()
	}
}

func (a *Agent) startRunner(r *runner) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		r.run(a.runCtx)
		a.mu.Lock()
		if a.runners[r.arn] == r {
			delete(a.runners, r.arn)
		}
		a.mu.Unlock()
	}()
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
