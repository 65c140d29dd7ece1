package lb

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

// slowBackend answers /slow after release is closed (or d), signalling started.
type slowBackend struct {
	name    string
	started chan struct{}
	release chan struct{}
	hits    atomic.Int64
}

func (s *slowBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/slow" {
		s.started <- struct{}{}
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	s.hits.Add(1)
	io.WriteString(w, s.name)
}

func newSlow(name string) *slowBackend {
	return &slowBackend{name: name, started: make(chan struct{}, 100), release: make(chan struct{})}
}

func TestDraining(t *testing.T) {
	old, nw := newSlow("old"), newSlow("new")
	bo, bn := startBackend(t, old), startBackend(t, nw)
	f := newFixture(t, Config{})
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", bo.target("old")))
	f.apply(cfg)
	c := newClient()

	type result struct {
		code int
		body string
	}
	slowGet := func() chan result {
		ch := make(chan result, 1)
		go func() {
			resp, err := c.Get(f.url("/slow"))
			if err != nil {
				ch <- result{code: -1, body: err.Error()}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ch <- result{resp.StatusCode, string(b)}
		}()
		return ch
	}
	first := slowGet()
	<-old.started
	// Deregister old (draining for a while), register new.
	drained := bo.target("old")
	drained.State = lbconfig.TargetDraining
	drained.DrainUntil = time.Now().Add(10 * time.Second)
	cfg.TargetGroups[0].Targets = []lbconfig.Target{drained, bn.target("new")}
	f.apply(cfg)
	for range 10 {
		if _, body := get(t, c, f.url("/")); body != "new" {
			t.Fatalf("draining target got a new request")
		}
	}
	close(old.release)
	if r := <-first; r.code != 200 || r.body != "old" {
		t.Errorf("in-flight request on the draining target: %+v", r)
	}
	if h := f.e.Health(); len(h) != 1 || h[0].ID != "new" {
		t.Errorf("health should list only the registered target: %+v", h)
	}

	// A request still running when the deregistration delay ends gets 502.
	cfg.TargetGroups[0].Targets = []lbconfig.Target{bn.target("new")}
	f.apply(cfg)
	second := slowGet()
	<-nw.started
	cut := bn.target("new")
	cut.State = lbconfig.TargetDraining
	cut.DrainUntil = time.Now().Add(200 * time.Millisecond)
	cfg.TargetGroups[0].Targets = []lbconfig.Target{cut, bo.target("old")}
	f.apply(cfg)
	select {
	case r := <-second:
		if r.code != 502 {
			t.Errorf("request cut at DrainUntil: %+v, want 502", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("request not cut at DrainUntil")
	}
}

func TestSlowStart(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	a, b := newSwitchable("a"), newSwitchable("b")
	ba, bb := startBackend(t, a), startBackend(t, b)
	f := newFixture(t, Config{Now: now})
	g := tg("tg/ss", ba.target("t-a"))
	g.HealthCheck = fastHC(2, 2)
	g.SlowStart = 100 * time.Second
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/ss"))}, g)
	f.apply(cfg)
	waitFor(t, f.e, "a healthy", func() bool { return healthOf(f.e, "t-a").State == lbconfig.HealthHealthy })
	// The first target of an empty group does not ramp.
	if at := f.e.targets[targetKey{"tg/ss", ba.ip, ba.port}].slowStartAt.Load(); at != 0 {
		t.Errorf("first target ramps")
	}
	cfg.TargetGroups[0].Targets = append(cfg.TargetGroups[0].Targets, bb.target("t-b"))
	f.apply(cfg)
	waitFor(t, f.e, "b healthy", func() bool { return healthOf(f.e, "t-b").State == lbconfig.HealthHealthy })
	c := newClient()
	share := func() float64 {
		n := 0
		for range 600 {
			if _, body := get(t, c, f.url("/")); body == "b" {
				n++
			}
		}
		return float64(n) / 600
	}
	if s := share(); s > 0.05 {
		t.Errorf("at the start of the ramp b gets %.3f", s)
	}
	clock.Add(int64(50 * time.Second)) // weight 0.5: share 1/3
	if s := share(); s < 0.25 || s > 0.42 {
		t.Errorf("half-way b gets %.3f, want ~0.33", s)
	}
	clock.Add(int64(60 * time.Second)) // ramp over: round robin
	if s := share(); s < 0.45 || s > 0.55 {
		t.Errorf("after the ramp b gets %.3f, want 0.5", s)
	}
}

func TestLeastOutstandingPrefersIdle(t *testing.T) {
	busy, idle := newSlow("busy"), newSlow("idle")
	bb, bi := startBackend(t, busy), startBackend(t, idle)
	close(idle.release)
	f := newFixture(t, Config{})
	g := tg("tg/lor", bb.target("busy"), bi.target("idle"))
	g.Algorithm = lbconfig.AlgorithmLeastOutstanding
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/lor"))}, g))
	c := newClient()
	var wg sync.WaitGroup
	defer func() { close(busy.release); wg.Wait() }()
	// Park one request on busy.
	for {
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			resp, err := c.Get(f.url("/slow"))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		select {
		case <-busy.started:
		case <-done:
			continue // it went to idle
		}
		break
	}
	for range 30 {
		if _, body := get(t, c, f.url("/")); body != "idle" {
			t.Fatalf("least outstanding chose the busy target")
		}
	}
}

func TestTargetStickiness(t *testing.T) {
	a, b, c3 := startBackend(t, named("a")), startBackend(t, named("b")), startBackend(t, named("c"))
	f := newFixture(t, Config{})
	g := tg("tg/st", a.target("a"), b.target("b"), c3.target("c"))
	g.StickinessType = "lb_cookie"
	g.StickinessDuration = time.Hour
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/st"))}, g)
	f.apply(cfg)
	c := newClient()
	resp, first := get(t, c, f.url("/"))
	cookie := findCookie(resp, CookieTarget)
	if cookie == nil {
		t.Fatal("no AWSALB cookie")
	}
	withCookie := func(ck *http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest("GET", f.url("/"), nil)
		req.AddCookie(ck)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for range 20 {
		resp, body := withCookie(cookie)
		if body != first {
			t.Fatalf("sticky target changed %s -> %s", first, body)
		}
		if findCookie(resp, CookieTarget) == nil {
			t.Fatal("cookie not refreshed")
		}
	}
	// A forged cookie is ignored (and replaced).
	seen := map[string]bool{}
	for range 9 {
		resp, body := withCookie(&http.Cookie{Name: CookieTarget, Value: "forged"})
		seen[body] = true
		if findCookie(resp, CookieTarget) == nil {
			t.Fatal("forged cookie not rewritten")
		}
	}
	if len(seen) < 2 {
		t.Errorf("forged cookie pinned a target: %v", seen)
	}
	// The sticky target drains: a new one is chosen, the cookie rewritten.
	for i := range cfg.TargetGroups[0].Targets {
		tt := &cfg.TargetGroups[0].Targets[i]
		if tt.ID == first {
			tt.State = lbconfig.TargetDraining
			tt.DrainUntil = time.Now().Add(time.Minute)
		}
	}
	f.apply(cfg)
	resp, body := withCookie(cookie)
	if body == first || findCookie(resp, CookieTarget) == nil {
		t.Errorf("draining sticky target: got %s, cookie %v", body, findCookie(resp, CookieTarget))
	}
}

func findCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestApplyKeepsClientConnections(t *testing.T) {
	a, b := startBackend(t, named("a")), startBackend(t, named("b"))
	f := newFixture(t, Config{})
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", a.target("a")), tg("tg/b", b.target("b"))))
	c := newClient()
	reused := func() (bool, string) {
		var r bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { r = i.Reused }})
		req, _ := http.NewRequestWithContext(ctx, "GET", f.url("/"), nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return r, string(body)
	}
	if _, body := reused(); body != "a" {
		t.Fatalf("got %s", body)
	}
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/b"))}, tg("tg/a", a.target("a")), tg("tg/b", b.target("b"))))
	r, body := reused()
	if !r || body != "b" {
		t.Errorf("after Apply: reused=%v body=%s", r, body)
	}
	// An older or equal revision is a no-op.
	old := f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", a.target("a")), tg("tg/b", b.target("b")))
	old.Revision = f.rev
	if err := f.e.Apply(old); err != nil {
		t.Fatal(err)
	}
	if _, body := reused(); body != "b" {
		t.Errorf("stale revision applied")
	}
}

func TestBindFailureServesTheRest(t *testing.T) {
	a := startBackend(t, named("a"))
	f := newFixture(t, Config{})
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", a.target("a")))
	cfg.LoadBalancers = append(cfg.LoadBalancers, lbconfig.LoadBalancer{
		ARN: "lb/busy", Type: lbconfig.TypeApplication, Address: a.ip,
		Listeners: []lbconfig.Listener{{ARN: "ln/busy", Port: a.port, Protocol: lbconfig.ProtocolHTTP, Rules: []lbconfig.Rule{defaultRule(forward("tg/a"))}}},
	})
	cfg.Revision = 1
	if err := f.e.Apply(cfg); err == nil {
		t.Error("binding a taken port did not fail")
	}
	if f.e.Serving("lb/busy") || !f.e.Serving("lb/app") {
		t.Errorf("serving: busy=%v app=%v", f.e.Serving("lb/busy"), f.e.Serving("lb/app"))
	}
	if _, body := get(t, newClient(), f.url("/")); body != "a" {
		t.Errorf("got %s", body)
	}
}

// TestRollingSwapDropsNothing is the product's promise: register new
// targets, drain the old ones, stop them, under concurrent load, and no
// request fails.
func TestRollingSwapDropsNothing(t *testing.T) {
	var olds, news []*backend
	var oldS, newS []*switchable
	for i := range 2 {
		s := newSwitchable("old")
		olds, oldS = append(olds, startBackend(t, s)), append(oldS, s)
		s = newSwitchable("new")
		news, newS = append(news, startBackend(t, s)), append(newS, s)
		_ = i
	}
	f := newFixture(t, Config{})
	mk := func(targets ...lbconfig.Target) *lbconfig.Config {
		g := tg("tg/svc", targets...)
		g.HealthCheck = fastHC(2, 2)
		return f.alb([]lbconfig.Rule{defaultRule(forward("tg/svc"))}, g)
	}
	f.apply(mk(olds[0].target("o0"), olds[1].target("o1")))
	waitFor(t, f.e, "old healthy", func() bool {
		return healthOf(f.e, "o0").State == lbconfig.HealthHealthy && healthOf(f.e, "o1").State == lbconfig.HealthHealthy
	})

	ctx, cancel := context.WithCancel(context.Background())
	var failures, total atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient()
			for ctx.Err() == nil {
				resp, err := c.Get(f.url("/"))
				total.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, resp.Status)
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // load runs against the old targets
	f.apply(mk(olds[0].target("o0"), olds[1].target("o1"), news[0].target("n0"), news[1].target("n1")))
	waitFor(t, f.e, "new healthy", func() bool {
		return healthOf(f.e, "n0").State == lbconfig.HealthHealthy && healthOf(f.e, "n1").State == lbconfig.HealthHealthy
	})
	drain := func(tt lbconfig.Target) lbconfig.Target {
		tt.State = lbconfig.TargetDraining
		tt.DrainUntil = time.Now().Add(2 * time.Second)
		return tt
	}
	f.apply(mk(drain(olds[0].target("o0")), drain(olds[1].target("o1")), news[0].target("n0"), news[1].target("n1")))
	time.Sleep(50 * time.Millisecond) // requests already in flight finish
	before := oldS[0].hits.Load() + oldS[1].hits.Load()
	time.Sleep(200 * time.Millisecond)
	if after := oldS[0].hits.Load() + oldS[1].hits.Load(); after != before {
		t.Errorf("draining targets got %d new requests", after-before)
	}
	for _, b := range olds {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.srv.Shutdown(sctx)
		scancel()
	}
	f.apply(mk(news[0].target("n0"), news[1].target("n1")))
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d requests failed (first: %v)", n, total.Load(), firstErr.Load())
	}
	if newS[0].hits.Load() == 0 || newS[1].hits.Load() == 0 {
		t.Errorf("new targets unused")
	}
	t.Logf("%d requests, none failed", total.Load())
}

func TestRemovedListenerFinishesInFlight(t *testing.T) {
	s := newSlow("a")
	be := startBackend(t, s)
	f := newFixture(t, Config{})
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", be.target("a")))
	f.apply(cfg)
	c := newClient()
	done := make(chan int, 1)
	go func() {
		resp, err := c.Get(f.url("/slow"))
		if err != nil {
			done <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-s.started
	// A new listener takes the port over under another ARN (a rebind).
	cfg.LoadBalancers[0].Listeners[0].ARN = "ln/other"
	cfg.LoadBalancers[0].Listeners[0].Rules = []lbconfig.Rule{defaultRule([]lbconfig.Action{{Type: lbconfig.ActionFixedResponse, FixedResponse: &lbconfig.FixedResponse{StatusCode: 200, MessageBody: "other"}}})}
	f.apply(cfg)
	if _, body := get(t, newClient(), f.url("/")); body != "other" {
		t.Errorf("new listener answered %q", body)
	}
	close(s.release)
	if code := <-done; code != 200 {
		t.Errorf("in-flight request on the removed listener: %d", code)
	}
	// Removing the load balancer closes its socket.
	f.apply(&lbconfig.Config{})
	if f.e.Serving("lb/app") {
		t.Error("still serving")
	}
	waitFor(t, f.e, "socket closed", func() bool {
		conn, err := net.DialTimeout("tcp", f.addr(), time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAppCookieStickiness(t *testing.T) {
	mk := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				http.SetCookie(w, &http.Cookie{Name: "SESSION", Value: name})
			}
			io.WriteString(w, name)
		})
	}
	a, b := startBackend(t, mk("a")), startBackend(t, mk("b"))
	f := newFixture(t, Config{})
	g := tg("tg/app", a.target("a"), b.target("b"))
	g.StickinessType = "app_cookie"
	g.AppCookieName = "SESSION"
	g.StickinessDuration = time.Hour
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/app"))}, g))
	c := newClient()
	if resp, _ := get(t, c, f.url("/")); findCookie(resp, CookieApp) != nil {
		t.Error("AWSALBAPP issued without the application cookie")
	}
	resp, first := get(t, c, f.url("/login"))
	ck := findCookie(resp, CookieApp)
	if ck == nil || findCookie(resp, "SESSION") == nil {
		t.Fatal("no AWSALBAPP-0 cookie alongside the application's")
	}
	for range 10 {
		req, _ := http.NewRequest("GET", f.url("/"), nil)
		req.AddCookie(ck)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != first {
			t.Fatalf("app cookie stickiness moved %s -> %s", first, body)
		}
	}
}

func TestCloseIsBounded(t *testing.T) {
	s := newSlow("a")
	be := startBackend(t, s)
	f := newFixture(t, Config{ShutdownTimeout: 200 * time.Millisecond})
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", be.target("a"))))
	done := make(chan error, 1)
	go func() {
		resp, err := newClient().Get(f.url("/slow"))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-s.started
	start := time.Now()
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the hanging request was not ended")
	}
	if err := f.e.Apply(&lbconfig.Config{Revision: 99}); err == nil {
		t.Error("Apply after Close succeeded")
	}
}
