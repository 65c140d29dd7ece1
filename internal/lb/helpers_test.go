package lb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

var nextIP atomic.Int32

// loopIP returns a distinct 127.0.0.x address for a test.
func loopIP() string {
	n := nextIP.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 1+n/200, 10+n%200)
}

// freePort returns a port free on ip.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// backend is an HTTP server on a loopback address.
type backend struct {
	srv  *http.Server
	ip   string
	port int
}

func startBackend(t *testing.T, h http.Handler) *backend {
	t.Helper()
	return startBackendWith(t, h, nil)
}

// startBackendWith starts a backend with a server protocol set (nil: HTTP/1).
func startBackendWith(t *testing.T, h http.Handler, protos *http.Protocols) *backend {
	t.Helper()
	ip := loopIP()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{srv: &http.Server{Handler: h, Protocols: protos}, ip: ip, port: l.Addr().(*net.TCPAddr).Port}
	go b.srv.Serve(l)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

// named answers every request with its name (and 200).
func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Backend", name)
		io.WriteString(w, name)
	})
}

func (b *backend) target(id string) lbconfig.Target {
	return lbconfig.Target{ID: id, Address: b.ip, Port: b.port, State: lbconfig.TargetRegistered}
}

// fixture builds configurations for one ALB or NLB.
type fixture struct {
	t    *testing.T
	e    *Engine
	ip   string
	port int
	rev  uint64
	now  func() time.Time
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	ip := loopIP()
	e := New(cfg)
	t.Cleanup(func() { e.Close() })
	return &fixture{t: t, e: e, ip: ip, port: freePort(t, ip)}
}

func (f *fixture) url(path string) string {
	return "http://" + net.JoinHostPort(f.ip, strconv.Itoa(f.port)) + path
}

func (f *fixture) addr() string { return net.JoinHostPort(f.ip, strconv.Itoa(f.port)) }

// alb returns a one-listener ALB config forwarding by the given rules.
func (f *fixture) alb(rules []lbconfig.Rule, tgs ...lbconfig.TargetGroup) *lbconfig.Config {
	for i := range tgs {
		tgs[i].LoadBalancerARN = "lb/app"
	}
	return &lbconfig.Config{
		LoadBalancers: []lbconfig.LoadBalancer{{
			ARN: "lb/app", Name: "app", Type: lbconfig.TypeApplication, Address: f.ip,
			IdleTimeout: 60 * time.Second, HTTP2: true, XFFMode: "append",
			Listeners: []lbconfig.Listener{{ARN: "ln/http", Port: f.port, Protocol: lbconfig.ProtocolHTTP, Rules: rules}},
		}},
		TargetGroups: tgs,
	}
}

func (f *fixture) apply(c *lbconfig.Config) {
	f.t.Helper()
	f.rev++
	c.Revision = f.rev
	if err := f.e.Apply(c); err != nil {
		f.t.Fatal(err)
	}
}

func forward(arns ...string) []lbconfig.Action {
	a := lbconfig.Action{Type: lbconfig.ActionForward}
	for _, arn := range arns {
		a.TargetGroups = append(a.TargetGroups, lbconfig.WeightedTargetGroup{ARN: arn, Weight: 1})
	}
	return []lbconfig.Action{a}
}

func defaultRule(actions []lbconfig.Action) lbconfig.Rule {
	return lbconfig.Rule{ARN: "rule/default", IsDefault: true, Actions: actions}
}

// tg returns an HTTP target group with health checks off (targets healthy).
func tg(arn string, targets ...lbconfig.Target) lbconfig.TargetGroup {
	return lbconfig.TargetGroup{
		ARN: arn, Name: arn, Protocol: lbconfig.ProtocolHTTP, ProtocolVersion: "HTTP1", TargetType: "ip",
		Algorithm: lbconfig.AlgorithmRoundRobin, DeregistrationDelay: 300 * time.Second, Targets: targets,
	}
}

// fastHC is a health check every 20 ms.
func fastHC(healthy, unhealthy int) lbconfig.HealthCheck {
	return lbconfig.HealthCheck{
		Enabled: true, Protocol: lbconfig.ProtocolHTTP, Path: "/health", Interval: 20 * time.Millisecond,
		Timeout: 200 * time.Millisecond, HealthyThreshold: healthy, UnhealthyThreshold: unhealthy, Matcher: "200",
	}
}

// waitFor waits, on the engine's Changes and a short poll, until cond
// holds or fails the test after 10 s.
func waitFor(t *testing.T, e *Engine, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-e.Changes():
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// selfSigned returns a PEM certificate and key for the names.
func selfSigned(t *testing.T, names ...string) lbconfig.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return lbconfig.Certificate{
		ARN:   "cert/" + names[0],
		Chain: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Key:   string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})),
	}
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
