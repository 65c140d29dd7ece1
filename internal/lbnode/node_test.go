package lbnode

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/lbapi"
	"berth.dev/berth/internal/lbconfig"
)

// engine is a hand-written Engine that records what it is given.
type engine struct {
	mu      sync.Mutex
	applied []uint64
	health  []lbconfig.TargetHealth
	changes chan struct{}
	notify  chan uint64
}

func newEngine() *engine {
	return &engine{changes: make(chan struct{}, 1), notify: make(chan uint64, 16)}
}

func (e *engine) Apply(c *lbconfig.Config) error {
	e.mu.Lock()
	e.applied = append(e.applied, c.Revision)
	e.mu.Unlock()
	e.notify <- c.Revision
	return nil
}

func (e *engine) Health() []lbconfig.TargetHealth {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]lbconfig.TargetHealth(nil), e.health...)
}

func (e *engine) Changes() <-chan struct{} { return e.changes }
func (e *engine) Serving(string) bool      { return true }

func (e *engine) setHealth(h []lbconfig.TargetHealth) {
	e.mu.Lock()
	e.health = h
	e.mu.Unlock()
	select {
	case e.changes <- struct{}{}:
	default:
	}
}

type allow struct{}

func (allow) Authenticate(*http.Request, []byte) (string, error) { return "root", nil }

type source struct {
	mu      sync.Mutex
	cfg     *lbconfig.Config
	changed chan struct{}
}

func (s *source) Config() (*lbconfig.Config, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.changed
}

func (s *source) set(c *lbconfig.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = c
	close(s.changed)
	s.changed = make(chan struct{})
}

func waitRevision(t *testing.T, e *engine, rev uint64) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-e.notify:
			if r == rev {
				return
			}
		case <-deadline:
			t.Fatalf("revision %d never applied", rev)
		}
	}
}

func TestNodeAppliesReportsAndKeepsItsConfiguration(t *testing.T) {
	lb := lbconfig.LoadBalancer{ARN: "arn:lb", Name: "web", Type: lbconfig.TypeApplication, Address: "127.0.1.1"}
	src := &source{cfg: &lbconfig.Config{Revision: 5, LoadBalancers: []lbconfig.LoadBalancer{lb}}, changed: make(chan struct{})}
	activated := make(chan string, 4)
	api := lbapi.New(lbapi.Config{Auth: allow{}, Source: src, Heartbeat: 100 * time.Millisecond,
		Activate: func(_ context.Context, arns []string) {
			for _, a := range arns {
				activated <- a
			}
		}})
	srv := httptest.NewServer(api)
	defer srv.Close()
	state := filepath.Join(t.TempDir(), "lb-config.json")
	eng := newEngine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // before the server closes: it waits for the stream
	done := make(chan struct{})
	node := New(Config{Server: srv.URL, Region: "us-east-1", AccessKeyID: "k", SecretAccessKey: "s", Node: "n1", StateFile: state, Engine: eng, Heartbeat: 100 * time.Millisecond})
	go func() { defer close(done); _ = node.Run(ctx) }()

	waitRevision(t, eng, 5)
	select {
	case a := <-activated:
		if a != "arn:lb" {
			t.Fatalf("activated %q", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the node never said it serves the load balancer")
	}
	changes := api.Health().Changes()
	eng.setHealth([]lbconfig.TargetHealth{{TargetGroupARN: "tg", ID: "10.0.0.1", Port: 80, State: lbconfig.HealthHealthy}})
	for {
		if h, ok := api.Health().TargetHealth("tg", "10.0.0.1", 80); ok && h.State == lbconfig.HealthHealthy {
			break
		}
		select {
		case <-changes:
			changes = api.Health().Changes()
		case <-time.After(10 * time.Second):
			t.Fatal("the health report never reached the server")
		}
	}
	lb.Name = "web2"
	src.set(&lbconfig.Config{Revision: 7, LoadBalancers: []lbconfig.LoadBalancer{lb}})
	waitRevision(t, eng, 7)
	cancel()
	<-done
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept configuration: %v %v", fi, err)
	}

	// The server is gone: a new node serves the kept configuration.
	srv.Close()
	eng2 := newEngine()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	node2 := New(Config{Server: srv.URL, Region: "us-east-1", AccessKeyID: "k", SecretAccessKey: "s", Node: "n1", StateFile: state, Engine: eng2})
	go func() { _ = node2.Run(ctx2) }()
	waitRevision(t, eng2, 7)
}
