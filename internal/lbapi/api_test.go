package lbapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/lbconfig"
)

type allow struct{}

func (allow) Authenticate(*http.Request, []byte) (string, error) { return "root", nil }

type deny struct{}

func (deny) Authenticate(*http.Request, []byte) (string, error) {
	return "", apierr.New("UnrecognizedClientException", "The security token included in the request is invalid.")
}

// source is a hand-written Source whose configuration the test sets.
type source struct {
	mu      sync.Mutex
	cfg     *lbconfig.Config
	changed chan struct{}
}

func newSource(cfg *lbconfig.Config) *source { return &source{cfg: cfg, changed: make(chan struct{})} }

func (s *source) Config() (*lbconfig.Config, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.changed
}

func (s *source) set(cfg *lbconfig.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	close(s.changed)
	s.changed = make(chan struct{})
}

func post(t *testing.T, ctx context.Context, url string, body any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestStreamSendsConfigOnOpenAndOnChange(t *testing.T) {
	src := newSource(&lbconfig.Config{Revision: 1})
	api := New(Config{Auth: allow{}, Source: src, Heartbeat: 50 * time.Millisecond})
	srv := httptest.NewServer(api)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp := post(t, ctx, srv.URL+lbconfig.PathStream, lbconfig.StreamRequest{Node: "n1"})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() lbconfig.Message {
		t.Helper()
		if !sc.Scan() {
			t.Fatalf("stream ended: %v", sc.Err())
		}
		var m lbconfig.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := next(); m.Type != lbconfig.MessageConfig || m.Config.Revision != 1 {
		t.Fatalf("first message %+v", m)
	}
	if m := next(); m.Type != lbconfig.MessageHeartbeat {
		t.Fatalf("expected a heartbeat, got %+v", m)
	}
	// A new revision of the same content is not sent again; new content is.
	src.set(&lbconfig.Config{Revision: 2})
	src.set(&lbconfig.Config{Revision: 3, LoadBalancers: []lbconfig.LoadBalancer{{ARN: "lb"}}})
	for {
		m := next()
		if m.Type == lbconfig.MessageHeartbeat {
			continue
		}
		if m.Config.Revision != 3 || len(m.Config.LoadBalancers) != 1 {
			t.Fatalf("changed config %+v", m.Config)
		}
		break
	}
	if nodes := api.Health().Nodes(); len(nodes) != 1 {
		t.Fatalf("nodes while connected: %v", nodes)
	}
}

func TestStreamRefusesUnauthenticatedAndNamelessNodes(t *testing.T) {
	srv := httptest.NewServer(New(Config{Auth: deny{}, Source: newSource(nil)}))
	defer srv.Close()
	resp := post(t, context.Background(), srv.URL+lbconfig.PathStream, lbconfig.StreamRequest{Node: "n1"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "UnrecognizedClientException" {
		t.Fatalf("unauthenticated: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	srv2 := httptest.NewServer(New(Config{Auth: allow{}, Source: newSource(nil)}))
	defer srv2.Close()
	resp = post(t, context.Background(), srv2.URL+lbconfig.PathStream, lbconfig.StreamRequest{})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("nameless node: %d", resp.StatusCode)
	}
}

func TestReportActivatesAndMergesHealth(t *testing.T) {
	var activated []string
	api := New(Config{Auth: allow{}, Source: newSource(nil), Activate: func(_ context.Context, arns []string) { activated = append(activated, arns...) }})
	srv := httptest.NewServer(api)
	defer srv.Close()
	changes := api.Health().Changes()
	resp := post(t, context.Background(), srv.URL+lbconfig.PathHealth, lbconfig.HealthReport{Node: "n1", Full: true, Serving: []string{"lb1"},
		Targets: []lbconfig.TargetHealth{{TargetGroupARN: "tg", ID: "10.0.0.1", Port: 80, State: lbconfig.HealthHealthy}}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	select {
	case <-changes:
	default:
		t.Fatal("a new report did not signal a change")
	}
	if len(activated) != 1 || activated[0] != "lb1" {
		t.Fatalf("activated %v", activated)
	}
	if h, ok := api.Health().TargetHealth("tg", "10.0.0.1", 80); !ok || h.State != lbconfig.HealthHealthy {
		t.Fatalf("health %+v %v", h, ok)
	}
	// A second node that finds the target unhealthy wins.
	api.Health().report(lbconfig.HealthReport{Node: "n2", Full: true, Targets: []lbconfig.TargetHealth{{TargetGroupARN: "tg", ID: "10.0.0.1", Port: 80,
		State: lbconfig.HealthUnhealthy, Reason: lbconfig.ReasonTimeout, Description: "Request timed out"}}})
	if h, _ := api.Health().TargetHealth("tg", "10.0.0.1", 80); h.State != lbconfig.HealthUnhealthy || h.Reason != lbconfig.ReasonTimeout {
		t.Fatalf("merged health %+v", h)
	}
	// A full report without the target drops it.
	api.Health().report(lbconfig.HealthReport{Node: "n2", Full: true})
	api.Health().report(lbconfig.HealthReport{Node: "n1", Full: true})
	if _, ok := api.Health().TargetHealth("tg", "10.0.0.1", 80); ok {
		t.Fatal("a target no node reports still has health")
	}
}

func TestStaleNodesStopCounting(t *testing.T) {
	now := time.Unix(1000, 0)
	h := NewHealth(func() time.Time { return now }, 30*time.Second)
	h.report(lbconfig.HealthReport{Node: "n1", Targets: []lbconfig.TargetHealth{{TargetGroupARN: "tg", ID: "a", Port: 1, State: lbconfig.HealthHealthy}}})
	if _, ok := h.TargetHealth("tg", "a", 1); !ok {
		t.Fatal("fresh report not found")
	}
	now = now.Add(31 * time.Second)
	if _, ok := h.TargetHealth("tg", "a", 1); ok {
		t.Fatal("a report older than the TTL from a disconnected node still counts")
	}
	h.connect("n1")
	if _, ok := h.TargetHealth("tg", "a", 1); !ok {
		t.Fatal("a connected node's report does not count")
	}
}
