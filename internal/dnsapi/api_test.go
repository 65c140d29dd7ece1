package dnsapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/dnsserver"
)

type allow struct{}

func (allow) Authenticate(*http.Request, []byte) (string, error) { return "root", nil }

type deny struct{}

func (deny) Authenticate(*http.Request, []byte) (string, error) {
	return "", apierr.New("UnrecognizedClientException", "The security token included in the request is invalid.")
}

type source struct {
	mu      sync.Mutex
	cfg     *dnsconfig.Config
	changed chan struct{}
}

func newSource(cfg *dnsconfig.Config) *source { return &source{cfg: cfg, changed: make(chan struct{})} }

func (s *source) Current() (*dnsconfig.Config, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.changed
}

func (s *source) set(cfg *dnsconfig.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	close(s.changed)
	s.changed = make(chan struct{})
}

func zone(rev uint64, addr string) *dnsconfig.Config {
	return &dnsconfig.Config{Revision: rev, Zones: []dnsconfig.Zone{{Name: "corp.local.", SOA: dnsconfig.SOA{TTL: 60, Minimum: 5}, NS: []string{"ns.corp.local."},
		RRSets: []dnsconfig.RRSet{{Name: "web.corp.local.", Type: dnsconfig.TypeA, TTL: 10, Routing: dnsconfig.RoutingMultivalue,
			Records: []dnsconfig.Record{{Value: addr, Healthy: true}}}}}}}
}

func TestStreamSendsConfigOnOpenOnChangeAndHeartbeats(t *testing.T) {
	src := newSource(zone(1, "10.0.0.1"))
	srv := httptest.NewServer(New(Config{Auth: allow{}, Source: src, Heartbeat: 50 * time.Millisecond}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+dnsconfig.StreamPath, strings.NewReader(`{"node":"n1"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() *dnsconfig.Config {
		t.Helper()
		if !sc.Scan() {
			t.Fatalf("stream ended: %v", sc.Err())
		}
		if len(sc.Bytes()) == 0 {
			return nil // heartbeat
		}
		var c dnsconfig.Config
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	if c := next(); c == nil || c.Revision != 1 {
		t.Fatalf("first line %+v", c)
	}
	if c := next(); c != nil {
		t.Fatalf("expected a heartbeat, got %+v", c)
	}
	src.set(zone(2, "10.0.0.1")) // same content: not sent
	src.set(zone(3, "10.0.0.2"))
	for {
		c := next()
		if c == nil {
			continue
		}
		if c.Revision != 3 || c.Zones[0].RRSets[0].Records[0].Value != "10.0.0.2" {
			t.Fatalf("changed config %+v", c)
		}
		break
	}
}

func TestStreamRefusesUnauthenticatedAndBadRequests(t *testing.T) {
	srv := httptest.NewServer(New(Config{Auth: deny{}, Source: newSource(nil)}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+dnsconfig.StreamPath, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "UnrecognizedClientException" {
		t.Fatalf("unauthenticated: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	srv2 := httptest.NewServer(New(Config{Auth: allow{}, Source: newSource(nil)}))
	defer srv2.Close()
	resp, err = http.Post(srv2.URL+dnsconfig.StreamPath, "application/json", strings.NewReader(`{"nope":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad body: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv2.URL + dnsconfig.StreamPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

// applier records the revisions it is given.
type applier struct{ got chan uint64 }

func (a applier) Apply(c *dnsconfig.Config) error { a.got <- c.Revision; return nil }

func TestFeedAppliesEveryContentChange(t *testing.T) {
	src := newSource(zone(1, "10.0.0.1"))
	ctx, cancel := context.WithCancel(context.Background())
	a := applier{got: make(chan uint64, 8)}
	done := make(chan error)
	go func() { done <- Feed(ctx, src, a, nil) }()
	if r := <-a.got; r != 1 {
		t.Fatalf("first applied %d", r)
	}
	src.set(zone(2, "10.0.0.1"))
	src.set(zone(3, "10.0.0.3"))
	if r := <-a.got; r != 3 {
		t.Fatalf("applied %d, want only the content change 3", r)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestFeedDrivesADNSServer is the server's own DNS: the state's source fed
// to a dnsserver, answering the change.
func TestFeedDrivesADNSServer(t *testing.T) {
	src := newSource(zone(1, "10.0.0.1"))
	s := dnsserver.New(dnsserver.Options{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	applied := make(chan uint64, 8)
	go func() { _ = Feed(ctx, src, observed{s, applied}, nil) }()
	query := func() string {
		r, err := dns.Exchange(new(dns.Msg).SetQuestion("web.corp.local.", dns.TypeA), s.Addr())
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("%v %v", r, err)
		}
		return r.Answer[0].(*dns.A).A.String()
	}
	<-applied
	if got := query(); got != "10.0.0.1" {
		t.Fatalf("answered %s", got)
	}
	src.set(zone(2, "10.0.0.2"))
	<-applied
	if got := query(); got != "10.0.0.2" {
		t.Fatalf("after the change answered %s", got)
	}
}

type observed struct {
	s    *dnsserver.Server
	done chan uint64
}

func (o observed) Apply(c *dnsconfig.Config) error {
	err := o.s.Apply(c)
	o.done <- c.Revision
	return err
}
