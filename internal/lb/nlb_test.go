package lb

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

func (f *fixture) nlb(proto string, tgs ...lbconfig.TargetGroup) *lbconfig.Config {
	for i := range tgs {
		tgs[i].LoadBalancerARN = "lb/net"
	}
	return &lbconfig.Config{
		LoadBalancers: []lbconfig.LoadBalancer{{
			ARN: "lb/net", Name: "net", Type: lbconfig.TypeNetwork, Address: f.ip,
			Listeners: []lbconfig.Listener{{ARN: "ln/tcp", Port: f.port, Protocol: proto, TCPIdleTimeout: 5 * time.Second,
				Rules: []lbconfig.Rule{defaultRule(forward(tgs[0].ARN))}}},
		}},
		TargetGroups: tgs,
	}
}

// echoServer echoes every connection until the client half-closes, then
// closes.
func echoServer(t *testing.T) lbconfig.Target {
	t.Helper()
	ip := loopIP()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "hello ")
				io.Copy(c, c)
			}()
		}
	}()
	return lbconfig.Target{ID: ip, Address: ip, Port: l.Addr().(*net.TCPAddr).Port, State: lbconfig.TargetRegistered}
}

func tcpTG(arn string, targets ...lbconfig.Target) lbconfig.TargetGroup {
	g := tg(arn, targets...)
	g.Protocol = lbconfig.ProtocolTCP
	g.HealthCheck = lbconfig.HealthCheck{Enabled: true, Protocol: lbconfig.ProtocolTCP, Interval: 20 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2}
	return g
}

func roundTrip(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	switch c := c.(type) {
	case *net.TCPConn:
		c.CloseWrite()
	case *tls.Conn:
		c.CloseWrite()
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNLBTCP(t *testing.T) {
	f := newFixture(t, Config{})
	f.apply(f.nlb(lbconfig.ProtocolTCP, tcpTG("tg/echo", echoServer(t))))
	waitFor(t, f.e, "echo healthy", func() bool { return len(f.e.Health()) == 1 && f.e.Health()[0].State == lbconfig.HealthHealthy })
	c, err := net.Dial("tcp", f.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := roundTrip(t, c, "world"); got != "hello world" {
		t.Errorf("echo %q", got)
	}
	if !f.e.Serving("lb/net") {
		t.Error("not serving")
	}
}

func TestNLBTLSTermination(t *testing.T) {
	f := newFixture(t, Config{})
	cert := selfSigned(t, "nlb.example.com")
	cfg := f.nlb(lbconfig.ProtocolTLS, tcpTG("tg/echo", echoServer(t)))
	cfg.LoadBalancers[0].Listeners[0].Certificates = []string{cert.ARN}
	cfg.LoadBalancers[0].Listeners[0].SSLPolicy = "ELBSecurityPolicy-TLS13-1-3-2021-06"
	cfg.Certificates = []lbconfig.Certificate{cert}
	f.apply(cfg)
	c, err := tls.Dial("tcp", f.addr(), &tls.Config{InsecureSkipVerify: true, ServerName: "nlb.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("version %x", v)
	}
	if got := roundTrip(t, c, "secure"); got != "hello secure" {
		t.Errorf("echo %q", got)
	}
}

func TestNLBSpreadsFlows(t *testing.T) {
	f := newFixture(t, Config{})
	a, b := echoServer(t), echoServer(t)
	f.apply(f.nlb(lbconfig.ProtocolTCP, tcpTG("tg/echo", a, b)))
	waitFor(t, f.e, "both healthy", func() bool {
		h := f.e.Health()
		return len(h) == 2 && h[0].State == lbconfig.HealthHealthy && h[1].State == lbconfig.HealthHealthy
	})
	for range 20 {
		c, err := net.Dial("tcp", f.addr())
		if err != nil {
			t.Fatal(err)
		}
		if got := roundTrip(t, c, "x"); got != "hello x" {
			t.Fatalf("echo %q", got)
		}
		c.Close()
	}
}

func TestTLSVersions(t *testing.T) {
	for policy, want := range map[string][2]uint16{
		"":                                    {tls.VersionTLS10, tls.VersionTLS12},
		"ELBSecurityPolicy-2016-08":           {tls.VersionTLS10, tls.VersionTLS12},
		"ELBSecurityPolicy-TLS-1-2-2017-01":   {tls.VersionTLS12, tls.VersionTLS12},
		"ELBSecurityPolicy-TLS13-1-2-2021-06": {tls.VersionTLS12, tls.VersionTLS13},
		"ELBSecurityPolicy-TLS13-1-3-2021-06": {tls.VersionTLS13, tls.VersionTLS13},
		"ELBSecurityPolicy-TLS-1-1-2017-01":   {tls.VersionTLS11, tls.VersionTLS12},
		"no-such-policy":                      {tls.VersionTLS10, tls.VersionTLS12},
	} {
		if lo, hi := TLSVersions(policy); lo != want[0] || hi != want[1] {
			t.Errorf("%q: %x-%x", policy, lo, hi)
		}
	}
}

func TestNLBIdleTimeoutAndConnectionTermination(t *testing.T) {
	f := newFixture(t, Config{})
	g := tcpTG("tg/echo", echoServer(t))
	g.ConnectionTermination = true
	cfg := f.nlb(lbconfig.ProtocolTCP, g)
	cfg.LoadBalancers[0].Listeners[0].TCPIdleTimeout = 300 * time.Millisecond
	f.apply(cfg)
	waitFor(t, f.e, "echo healthy", func() bool { return len(f.e.Health()) == 1 && f.e.Health()[0].State == lbconfig.HealthHealthy })

	// Idle for longer than the idle timeout: closed.
	c, err := net.Dial("tcp", f.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello " {
		t.Fatalf("greeting %q %v", buf, err)
	}
	start := time.Now()
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("idle connection not closed (read %d)", n)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", d)
	}

	// An active connection to a draining target is closed at DrainUntil
	// when ConnectionTermination is on.
	cfg.LoadBalancers[0].Listeners[0].TCPIdleTimeout = 10 * time.Second
	f.apply(cfg)
	c2, err := net.Dial("tcp", f.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c2, buf); err != nil {
		t.Fatal(err)
	}
	tt := cfg.TargetGroups[0].Targets[0]
	tt.State = lbconfig.TargetDraining
	tt.DrainUntil = time.Now().Add(300 * time.Millisecond)
	cfg.TargetGroups[0].Targets = []lbconfig.Target{tt}
	f.apply(cfg)
	io.WriteString(c2, "still here")
	got := make([]byte, 10)
	if _, err := io.ReadFull(c2, got); err != nil || string(got) != "still here" {
		t.Fatalf("draining connection stopped early: %q %v", got, err)
	}
	start = time.Now()
	if _, err := c2.Read(buf); err == nil {
		t.Fatal("connection not closed at DrainUntil")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v", d)
	}
}

func TestNLBSourceIPStickiness(t *testing.T) {
	f := newFixture(t, Config{})
	a, b := echoServer(t), echoServer(t)
	g := tcpTG("tg/echo", a, b)
	g.StickinessType = "source_ip"
	g.StickinessDuration = time.Hour
	f.apply(f.nlb(lbconfig.ProtocolTCP, g))
	waitFor(t, f.e, "both healthy", func() bool {
		h := f.e.Health()
		return len(h) == 2 && h[0].State == lbconfig.HealthHealthy && h[1].State == lbconfig.HealthHealthy
	})
	ta := f.e.targets[targetKey{"tg/echo", a.Address, a.Port}]
	tb := f.e.targets[targetKey{"tg/echo", b.Address, b.Port}]
	var first *targetRT
	for range 10 {
		c, err := net.Dial("tcp", f.addr())
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		var on *targetRT
		switch {
		case ta.outstanding.Load() == 1:
			on = ta
		case tb.outstanding.Load() == 1:
			on = tb
		}
		if on == nil {
			t.Fatal("connection on no target")
		}
		if first == nil {
			first = on
		} else if on != first {
			t.Fatal("source_ip stickiness moved the client")
		}
		c.Close()
		waitFor(t, f.e, "connection closed", func() bool { return ta.outstanding.Load()+tb.outstanding.Load() == 0 })
	}
}

func TestNLBUnhealthyTargetLosesItsConnections(t *testing.T) {
	f := newFixture(t, Config{})
	a, b := echoServer(t), echoServer(t)
	// Health is checked on a separate port, the same on both targets'
	// addresses; closing a's makes a unhealthy while b stays healthy.
	accept := func(l net.Listener) {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}
	hcA, err := net.Listen("tcp", net.JoinHostPort(a.Address, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer hcA.Close()
	port := hcA.Addr().(*net.TCPAddr).Port
	hcB, err := net.Listen("tcp", net.JoinHostPort(b.Address, itoa(port)))
	if err != nil {
		t.Skipf("health port taken on b: %v", err)
	}
	defer hcB.Close()
	go accept(hcA)
	go accept(hcB)
	cfg := f.nlb(lbconfig.ProtocolTCP, tcpTG("tg/echo", a, b))
	cfg.TargetGroups[0].HealthCheck.Port = port
	f.apply(cfg)
	waitFor(t, f.e, "both healthy", func() bool {
		h := f.e.Health()
		return len(h) == 2 && h[0].State == lbconfig.HealthHealthy && h[1].State == lbconfig.HealthHealthy
	})
	ta := f.e.targets[targetKey{"tg/echo", a.Address, a.Port}]
	var onA net.Conn
	for range 50 {
		c, err := net.Dial("tcp", f.addr())
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if ta.outstanding.Load() == 1 {
			onA = c
			break
		}
		c.Close()
	}
	if onA == nil {
		t.Fatal("no connection landed on a")
	}
	defer onA.Close()
	hcA.Close()
	waitFor(t, f.e, "a unhealthy", func() bool { return healthOf(f.e, a.ID).State == lbconfig.HealthUnhealthy })
	buf := make([]byte, 1)
	onA.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := onA.Read(buf); err == nil {
		t.Error("the connection to the unhealthy target is still open")
	}
}
