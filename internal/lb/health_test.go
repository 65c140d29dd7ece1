package lb

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

// switchable answers /health with the current status (after the gate
// opens) and everything else with its name.
type switchable struct {
	name   string
	status atomic.Int32
	delay  atomic.Int64
	gate   chan struct{}
	ua     atomic.Value
	host   atomic.Value
	hits   atomic.Int64
}

func newSwitchable(name string) *switchable {
	s := &switchable{name: name, gate: make(chan struct{})}
	s.status.Store(200)
	close(s.gate)
	return s
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/health" {
		s.hits.Add(1)
		w.Write([]byte(s.name))
		return
	}
	<-s.gate
	s.ua.Store(r.UserAgent())
	s.host.Store(r.Host)
	if d := s.delay.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	w.WriteHeader(int(s.status.Load()))
}

func healthOf(e *Engine, id string) lbconfig.TargetHealth {
	for _, h := range e.Health() {
		if h.ID == id {
			return h
		}
	}
	return lbconfig.TargetHealth{}
}

func TestHealthTransitions(t *testing.T) {
	s := newSwitchable("a")
	s.gate = make(chan struct{})
	be := startBackend(t, s)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	f := newFixture(t, Config{Now: now})
	g := tg("tg/a", be.target("t-a"))
	g.HealthCheck = fastHC(3, 2)
	g.HealthCheck.Timeout = 2 * time.Second
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, g)
	f.apply(cfg)

	h := healthOf(f.e, "t-a")
	if h.State != lbconfig.HealthInitial || h.Reason != lbconfig.ReasonInitialHealthChecking || h.Description != "Initial health checks in progress" || !h.Since.Equal(now()) {
		t.Fatalf("new target: %+v", h)
	}
	clock.Add(int64(time.Minute))
	close(s.gate)
	waitFor(t, f.e, "healthy after the first pass", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthHealthy })
	h = healthOf(f.e, "t-a")
	if h.Reason != "" || h.Description != "" || !h.Since.Equal(now()) {
		t.Errorf("healthy: %+v", h)
	}
	if ua := s.ua.Load(); ua != HealthCheckUserAgent {
		t.Errorf("User-Agent %q", ua)
	}
	if host := s.host.Load(); host != be.target("").Address+":"+itoa(be.port) {
		t.Errorf("probe Host %q", host)
	}

	s.status.Store(502)
	waitFor(t, f.e, "unhealthy on 502", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthUnhealthy })
	h = healthOf(f.e, "t-a")
	if h.Reason != lbconfig.ReasonResponseCodeMismatch || h.Description != "Health checks failed with these codes: [502]" {
		t.Errorf("unhealthy: %+v", h)
	}
	// Fail-open: the only target is unhealthy, it still gets traffic.
	if resp, body := get(t, newClient(), f.url("/")); resp.StatusCode != 200 || body != "a" {
		t.Errorf("fail-open: %d %q", resp.StatusCode, body)
	}

	s.status.Store(200)
	waitFor(t, f.e, "healthy after the threshold", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthHealthy })

	// Timeouts.
	s.delay.Store(int64(time.Second))
	cfg.TargetGroups[0].HealthCheck.Timeout = 50 * time.Millisecond
	f.apply(cfg)
	waitFor(t, f.e, "unhealthy on timeout", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthUnhealthy })
	if h = healthOf(f.e, "t-a"); h.Reason != lbconfig.ReasonTimeout || h.Description != "Request timed out" {
		t.Errorf("timeout: %+v", h)
	}
	s.delay.Store(0)
	waitFor(t, f.e, "healthy again", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthHealthy })

	// Connection refused.
	be.srv.Close()
	waitFor(t, f.e, "unhealthy on refused", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthUnhealthy })
	if h = healthOf(f.e, "t-a"); h.Reason != lbconfig.ReasonFailedHealthChecks || h.Description != "Health checks failed" {
		t.Errorf("refused: %+v", h)
	}
	rep := f.e.Report()
	if !rep.Full || rep.Revision != f.rev || len(rep.Targets) != 1 {
		t.Errorf("report %+v", rep)
	}
}

func TestMatcherAndDisabledHealth(t *testing.T) {
	for _, tc := range []struct {
		m    string
		code int
		ok   bool
	}{{"200", 200, true}, {"200", 204, false}, {"200,202", 202, true}, {"200-299", 250, true}, {"200-299", 300, false}, {"", 200, true}} {
		if got := matchCode(tc.m, tc.code); got != tc.ok {
			t.Errorf("matchCode(%q, %d) = %v", tc.m, tc.code, got)
		}
	}
	s := newSwitchable("a")
	s.status.Store(500)
	be := startBackend(t, s)
	f := newFixture(t, Config{})
	g := tg("tg/a", be.target("t-a"))
	g.HealthCheck.Enabled = false
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, g))
	if h := healthOf(f.e, "t-a"); h.State != lbconfig.HealthHealthy {
		t.Errorf("health disabled: %+v", h)
	}
}

func TestFailOpenAndHealthyOnly(t *testing.T) {
	a, b := newSwitchable("a"), newSwitchable("b")
	ba, bb := startBackend(t, a), startBackend(t, b)
	f := newFixture(t, Config{})
	g := tg("tg/ab", ba.target("t-a"), bb.target("t-b"))
	g.HealthCheck = fastHC(2, 2)
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/ab"))}, g))
	b.status.Store(500)
	waitFor(t, f.e, "a healthy, b unhealthy", func() bool {
		return healthOf(f.e, "t-a").State == lbconfig.HealthHealthy && healthOf(f.e, "t-b").State == lbconfig.HealthUnhealthy
	})
	c := newClient()
	for range 20 {
		if _, body := get(t, c, f.url("/")); body != "a" {
			t.Fatalf("unhealthy target got a request")
		}
	}
	a.status.Store(500)
	waitFor(t, f.e, "both unhealthy", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthUnhealthy })
	counts := map[string]int{}
	for range 20 {
		resp, body := get(t, c, f.url("/"))
		if resp.StatusCode != 200 {
			t.Fatalf("fail-open: %d", resp.StatusCode)
		}
		counts[body]++
	}
	if counts["a"] == 0 || counts["b"] == 0 {
		t.Errorf("fail-open should use every registered target: %v", counts)
	}
}

func TestNLBHealthReasons(t *testing.T) {
	s := newSwitchable("a")
	s.status.Store(503)
	be := startBackend(t, s)
	f := newFixture(t, Config{})
	g := tg("tg/n", be.target("t-n"))
	g.Protocol = lbconfig.ProtocolTCP
	g.HealthCheck = fastHC(2, 2)
	cfg := f.nlb(lbconfig.ProtocolTCP, g)
	f.apply(cfg)
	waitFor(t, f.e, "NLB target unhealthy", func() bool { return healthOf(f.e, "t-n").State == lbconfig.HealthUnhealthy })
	if h := healthOf(f.e, "t-n"); h.Reason != lbconfig.ReasonFailedHealthChecks || h.Description != "Health checks failed" {
		t.Errorf("NLB reason: %+v", h)
	}
	s.status.Store(200)
	waitFor(t, f.e, "NLB target healthy", func() bool { return healthOf(f.e, "t-n").State == lbconfig.HealthHealthy })
}

func TestHTTPSTargetsAndChecks(t *testing.T) {
	cert := selfSigned(t, "target.internal")
	kp, err := tls.X509KeyPair([]byte(cert.Chain), []byte(cert.Key))
	if err != nil {
		t.Fatal(err)
	}
	s := newSwitchable("secure")
	ip := loopIP()
	l, err := tls.Listen("tcp", net.JoinHostPort(ip, "0"), &tls.Config{Certificates: []tls.Certificate{kp}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	f := newFixture(t, Config{})
	g := tg("tg/tls", lbconfig.Target{ID: "t-s", Address: ip, Port: l.Addr().(*net.TCPAddr).Port, State: lbconfig.TargetRegistered})
	g.Protocol = lbconfig.ProtocolHTTPS
	g.HealthCheck = fastHC(2, 2)
	g.HealthCheck.Protocol = lbconfig.ProtocolHTTPS
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/tls"))}, g))
	waitFor(t, f.e, "HTTPS target healthy", func() bool { return healthOf(f.e, "t-s").State == lbconfig.HealthHealthy })
	if resp, body := get(t, newClient(), f.url("/")); resp.StatusCode != 200 || body != "secure" {
		t.Errorf("HTTPS target: %d %q", resp.StatusCode, body)
	}
}
