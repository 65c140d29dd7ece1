package dnsnode

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"berth.dev/berth/internal/dnsapi"
	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/dnsserver"
)

type allow struct{}

func (allow) Authenticate(*http.Request, []byte) (string, error) { return "root", nil }

type source struct {
	mu      sync.Mutex
	cfg     *dnsconfig.Config
	changed chan struct{}
}

func (s *source) Current() (*dnsconfig.Config, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.changed
}

func (s *source) set(c *dnsconfig.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = c
	close(s.changed)
	s.changed = make(chan struct{})
}

func zone(rev uint64, addr string) *dnsconfig.Config {
	return &dnsconfig.Config{Revision: rev, Zones: []dnsconfig.Zone{{Name: "corp.local.", SOA: dnsconfig.SOA{TTL: 60, Minimum: 5}, NS: []string{"ns.corp.local."},
		RRSets: []dnsconfig.RRSet{{Name: "web.corp.local.", Type: dnsconfig.TypeA, TTL: 10, Routing: dnsconfig.RoutingMultivalue,
			Records: []dnsconfig.Record{{Value: addr, Healthy: true}}}}}}}
}

// control is the berth server's stream endpoint on a fixed loopback
// address, which can be stopped and started again.
type control struct {
	addr string
	api  http.Handler
	srv  *http.Server
	done chan struct{}
}

func (c *control) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	c.srv = &http.Server{Handler: c.api}
	c.done = make(chan struct{})
	go func() { defer close(c.done); _ = c.srv.Serve(ln) }()
}

func (c *control) stop() {
	_ = c.srv.Close() // closes the streams too
	<-c.done
}

// installs runs a node whose installs are reported on the channel.
func runNode(t *testing.T, ctx context.Context, cp *control, state string, s *dnsserver.Server) (chan uint64, chan struct{}) {
	installed := make(chan uint64, 16)
	node := New(Config{Server: "http://" + cp.addr, Region: "us-east-1", AccessKeyID: "k", SecretAccessKey: "s", Node: "n1",
		StateFile: state, DNS: s, Heartbeat: 100 * time.Millisecond,
		OnInstall: func(c *dnsconfig.Config) { installed <- c.Revision }})
	done := make(chan struct{})
	go func() { defer close(done); _ = node.Run(ctx) }()
	return installed, done
}

func waitRevision(t *testing.T, ch chan uint64, rev uint64) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case r := <-ch:
			if r == rev {
				return
			}
		case <-deadline:
			t.Fatalf("revision %d never installed", rev)
		}
	}
}

func lookup(t *testing.T, addr string) string {
	t.Helper()
	r, err := dns.Exchange(new(dns.Msg).SetQuestion("web.corp.local.", dns.TypeA), addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 {
		t.Fatalf("answer %v", r)
	}
	return r.Answer[0].(*dns.A).A.String()
}

func dnsServer(t *testing.T) *dnsserver.Server {
	s := dnsserver.New(dnsserver.Options{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestNodeServesTheKeptConfigurationWhileTheServerIsAway(t *testing.T) {
	src := &source{cfg: zone(5, "10.0.0.5"), changed: make(chan struct{})}
	cp := &control{addr: "127.0.0.1:0", api: dnsapi.New(dnsapi.Config{Auth: allow{}, Source: src, Heartbeat: 100 * time.Millisecond})}
	cp.start(t)
	state := filepath.Join(t.TempDir(), "dns-config.json")

	s1 := dnsServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	installed, done := runNode(t, ctx, cp, state, s1)
	waitRevision(t, installed, 5)
	if got := lookup(t, s1.Addr()); got != "10.0.0.5" {
		t.Fatalf("answered %s", got)
	}
	// The control plane goes away: the node keeps answering.
	cp.stop()
	if got := lookup(t, s1.Addr()); got != "10.0.0.5" {
		t.Fatalf("with the server away answered %s", got)
	}
	cancel()
	<-done
	fi, err := os.Stat(state)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept configuration: %v %v", fi, err)
	}

	// A restarted node serves the kept configuration before the server
	// returns, then picks up the server's change.
	s2 := dnsServer(t)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	installed2, done2 := runNode(t, ctx2, cp, state, s2)
	waitRevision(t, installed2, 5)
	if got := lookup(t, s2.Addr()); got != "10.0.0.5" {
		t.Fatalf("kept configuration answered %s", got)
	}
	src.set(zone(6, "10.0.0.6"))
	cp.start(t)
	defer cp.stop()
	waitRevision(t, installed2, 6)
	if got := lookup(t, s2.Addr()); got != "10.0.0.6" {
		t.Fatalf("after the server returned answered %s", got)
	}
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var kept dnsconfig.Config
	if err := json.Unmarshal(b, &kept); err != nil || kept.Revision != 6 {
		t.Fatalf("kept revision %d %v", kept.Revision, err)
	}
	cancel2()
	<-done2
}

func TestNodeIgnoresOlderConfigurationsWithinAStream(t *testing.T) {
	src := &source{cfg: zone(5, "10.0.0.5"), changed: make(chan struct{})}
	cp := &control{addr: "127.0.0.1:0", api: dnsapi.New(dnsapi.Config{Auth: allow{}, Source: src, Heartbeat: 100 * time.Millisecond})}
	cp.start(t)
	defer cp.stop()
	s := dnsServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	installed, done := runNode(t, ctx, cp, "", s)
	waitRevision(t, installed, 5)
	src.set(zone(4, "10.0.0.4"))
	src.set(zone(7, "10.0.0.7"))
	waitRevision(t, installed, 7)
	if got := lookup(t, s.Addr()); got != "10.0.0.7" {
		t.Fatalf("answered %s", got)
	}
	cancel()
	<-done
}

func TestNodeWithACorruptKeptFileWaitsForTheServer(t *testing.T) {
	state := filepath.Join(t.TempDir(), "dns-config.json")
	if err := os.WriteFile(state, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := &source{cfg: zone(3, "10.0.0.3"), changed: make(chan struct{})}
	cp := &control{addr: "127.0.0.1:0", api: dnsapi.New(dnsapi.Config{Auth: allow{}, Source: src})}
	cp.start(t)
	defer cp.stop()
	s := dnsServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	installed, done := runNode(t, ctx, cp, state, s)
	waitRevision(t, installed, 3)
	cancel()
	<-done
	if _, err := os.Stat(state); errors.Is(err, os.ErrNotExist) {
		t.Fatal("configuration not kept")
	}
}
