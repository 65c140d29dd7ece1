package lb

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

func TestRulesByPathAndHost(t *testing.T) {
	api, web, img := startBackend(t, named("api")), startBackend(t, named("web")), startBackend(t, named("img"))
	f := newFixture(t, Config{})
	rules := []lbconfig.Rule{
		{ARN: "r1", Priority: 1, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldPathPattern, Values: []string{"/api/*"}}}, Actions: forward("tg/api")},
		{ARN: "r2", Priority: 2, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldHostHeader, Values: []string{"img.*.com"}}}, Actions: forward("tg/img")},
		defaultRule(forward("tg/web")),
	}
	f.apply(f.alb(rules, tg("tg/api", api.target("a")), tg("tg/web", web.target("w")), tg("tg/img", img.target("i"))))
	c := newClient()
	for _, tc := range []struct{ host, path, want string }{
		{"", "/api/users", "api"},
		{"", "/API/users", "web"},
		{"img.example.com", "/x", "img"},
		{"IMG.example.com:8080", "/api/x", "api"},
		{"img.example.org", "/x", "web"},
	} {
		req, _ := http.NewRequest("GET", f.url(tc.path), nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tc.want {
			t.Errorf("%s%s: got %q want %q", tc.host, tc.path, body, tc.want)
		}
	}
	if !f.e.Serving("lb/app") {
		t.Error("Serving is false")
	}
}

func TestWeightedForward(t *testing.T) {
	a, b := startBackend(t, named("a")), startBackend(t, named("b"))
	f := newFixture(t, Config{})
	act := []lbconfig.Action{{Type: lbconfig.ActionForward, TargetGroups: []lbconfig.WeightedTargetGroup{{ARN: "tg/a", Weight: 80}, {ARN: "tg/b", Weight: 20}}}}
	f.apply(f.alb([]lbconfig.Rule{defaultRule(act)}, tg("tg/a", a.target("a")), tg("tg/b", b.target("b"))))
	c := newClient()
	counts := map[string]int{}
	const n = 1000
	for range n {
		_, body := get(t, c, f.url("/"))
		counts[body]++
	}
	if got := float64(counts["a"]) / n; got < 0.74 || got > 0.86 {
		t.Errorf("share of a = %.3f, want 0.8 ± 0.06 (%v)", got, counts)
	}
	// Weight 0 never gets anything.
	act[0].TargetGroups[1].Weight = 0
	f.apply(f.alb([]lbconfig.Rule{defaultRule(act)}, tg("tg/a", a.target("a")), tg("tg/b", b.target("b"))))
	for range 100 {
		if _, body := get(t, c, f.url("/")); body != "a" {
			t.Fatalf("weight 0 group got a request")
		}
	}
}

func TestTargetGroupStickiness(t *testing.T) {
	a, b := startBackend(t, named("a")), startBackend(t, named("b"))
	f := newFixture(t, Config{})
	act := []lbconfig.Action{{Type: lbconfig.ActionForward, Stickiness: time.Hour, TargetGroups: []lbconfig.WeightedTargetGroup{{ARN: "tg/a", Weight: 1}, {ARN: "tg/b", Weight: 1}}}}
	f.apply(f.alb([]lbconfig.Rule{defaultRule(act)}, tg("tg/a", a.target("a")), tg("tg/b", b.target("b"))))
	c := newClient()
	resp, first := get(t, c, f.url("/"))
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieTargetGroup {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no AWSALBTG cookie")
	}
	for range 30 {
		req, _ := http.NewRequest("GET", f.url("/"), nil)
		req.AddCookie(cookie)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != first {
			t.Fatalf("sticky group changed: %s then %s", first, body)
		}
	}
}

func TestFixedResponseAndRedirect(t *testing.T) {
	f := newFixture(t, Config{})
	rules := []lbconfig.Rule{
		{ARN: "r1", Priority: 1, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldPathPattern, Values: []string{"/old/*"}}},
			Actions: []lbconfig.Action{{Type: lbconfig.ActionRedirect, Redirect: &lbconfig.Redirect{Protocol: "HTTPS", Port: "443", Path: "/new/#{path}", StatusCode: 301}}}},
		{ARN: "r2", Priority: 2, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldHTTPRequestMethod, Values: []string{"DELETE"}}},
			Actions: []lbconfig.Action{{Type: lbconfig.ActionFixedResponse, FixedResponse: &lbconfig.FixedResponse{StatusCode: 403, ContentType: "application/json", MessageBody: `{"error":"no"}`}}}},
		defaultRule([]lbconfig.Action{{Type: lbconfig.ActionFixedResponse, FixedResponse: &lbconfig.FixedResponse{StatusCode: 200, MessageBody: "hello"}}}),
	}
	f.apply(f.alb(rules))
	c := newClient()
	req, _ := http.NewRequest("GET", f.url("/old/page?x=1"), nil)
	req.Host = "example.com"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://example.com/new/old/page?x=1" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest("DELETE", f.url("/x"), nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || string(body) != `{"error":"no"}` || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Server") != ServerHeader {
		t.Errorf("fixed response: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body2 := get(t, c, f.url("/"))
	if resp.StatusCode != 200 || body2 != "hello" {
		t.Errorf("default fixed response: %d %q", resp.StatusCode, body2)
	}
	// ALB answers TRACE itself with 405.
	req, _ = http.NewRequest("TRACE", f.url("/"), nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 405 || !strings.Contains(string(body), "<title>405 Method Not Allowed</title>") {
		t.Errorf("TRACE: %d %q", resp.StatusCode, body)
	}
}

func TestForwardedHeaders(t *testing.T) {
	seen := make(chan http.Header, 10)
	hosts := make(chan string, 10)
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		hosts <- r.Host
	}))
	f := newFixture(t, Config{})
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", be.target("a")))
	f.apply(cfg)
	c := newClient()
	req, _ := http.NewRequest("GET", f.url("/"), nil)
	req.Host = "app.example.com"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-5f84c7a5-c1e5da68c7d6d4bb0f3d2a41;Custom=x")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "drop me")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-seen
	if got := <-hosts; got != "app.example.com" {
		t.Errorf("Host = %q", got)
	}
	if got := h.Get("X-Forwarded-For"); got != "203.0.113.7, 127.0.0.1" && !strings.HasPrefix(got, "203.0.113.7, 127.") {
		t.Errorf("X-Forwarded-For = %q", got)
	}
	if got := h.Get("X-Forwarded-Proto"); got != "http" {
		t.Errorf("X-Forwarded-Proto = %q", got)
	}
	if got, want := h.Get("X-Forwarded-Port"), f.addr()[strings.LastIndex(f.addr(), ":")+1:]; got != want {
		t.Errorf("X-Forwarded-Port = %q, want %q", got, want)
	}
	if got := h.Get("X-Amzn-Trace-Id"); !strings.HasPrefix(got, "Self=1-") || !strings.HasSuffix(got, ";Root=1-5f84c7a5-c1e5da68c7d6d4bb0f3d2a41;Custom=x") {
		t.Errorf("X-Amzn-Trace-Id = %q", got)
	}
	if h.Get("X-Hop") != "" {
		t.Errorf("hop-by-hop header forwarded")
	}
	// Without a trace header the ALB adds a Root; client port per XFFClientPort.
	cfg.LoadBalancers[0].XFFClientPort = true
	f.apply(cfg)
	req, _ = http.NewRequest("GET", f.url("/"), nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h = <-seen
	<-hosts
	if got := h.Get("X-Amzn-Trace-Id"); !strings.HasPrefix(got, "Root=1-") || len(got) != len("Root=1-5f84c7a5-c1e5da68c7d6d4bb0f3d2a41") {
		t.Errorf("new X-Amzn-Trace-Id = %q", got)
	}
	if got := h.Get("X-Forwarded-For"); !strings.HasPrefix(got, "127.") || !strings.Contains(got, ":") {
		t.Errorf("X-Forwarded-For with client port = %q", got)
	}
	// remove and preserve.
	for mode, want := range map[string]string{"remove": "", "preserve": "198.51.100.1"} {
		cfg.LoadBalancers[0].XFFMode = mode
		f.apply(cfg)
		req, _ = http.NewRequest("GET", f.url("/"), nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.1")
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h = <-seen
		<-hosts
		if got := h.Get("X-Forwarded-For"); got != want {
			t.Errorf("%s: X-Forwarded-For = %q, want %q", mode, got, want)
		}
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	// A minimal upgrade echo: after 101 the backend echoes lines.
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "no upgrade", 400)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		for {
			line, err := rw.ReadString('\n')
			if err != nil {
				return
			}
			rw.WriteString("echo " + line)
			rw.Flush()
		}
	}))
	f := newFixture(t, Config{})
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/ws"))}, tg("tg/ws", be.target("a"))))
	conn, err := net.Dial("tcp", f.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, msg := range []string{"hello\n", "world\n"} {
		io.WriteString(conn, msg)
		got, err := br.ReadString('\n')
		if err != nil || got != "echo "+msg {
			t.Fatalf("echo: %q %v", got, err)
		}
	}
}

func TestHTTP2OverTLSAndH2C(t *testing.T) {
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Forwarded-Proto"))
	}))
	f := newFixture(t, Config{})
	cert := selfSigned(t, "app.example.com")
	other := selfSigned(t, "other.example.com")
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", be.target("a")))
	tlsPort := freePort(t, f.ip)
	cfg.LoadBalancers[0].Listeners = append(cfg.LoadBalancers[0].Listeners, lbconfig.Listener{
		ARN: "ln/https", Port: tlsPort, Protocol: lbconfig.ProtocolHTTPS, Certificates: []string{cert.ARN, other.ARN},
		SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", Rules: []lbconfig.Rule{defaultRule(forward("tg/a"))},
	})
	cfg.Certificates = []lbconfig.Certificate{cert, other}
	f.apply(cfg)

	var p http.Protocols
	p.SetHTTP2(true)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "other.example.com"}, Protocols: &p}
	c := &http.Client{Transport: tr}
	resp, err := c.Get("https://" + net.JoinHostPort(f.ip, itoa(tlsPort)) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != "https" {
		t.Errorf("h2 over TLS: proto %s body %q", resp.Proto, body)
	}
	if cn := resp.TLS.PeerCertificates[0].Subject.CommonName; cn != "other.example.com" {
		t.Errorf("SNI chose %s", cn)
	}
	if resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x", resp.TLS.Version)
	}
	// Unknown SNI gets the default (first) certificate.
	conn, err := tls.Dial("tcp", net.JoinHostPort(f.ip, itoa(tlsPort)), &tls.Config{InsecureSkipVerify: true, ServerName: "unknown.test"})
	if err != nil {
		t.Fatal(err)
	}
	if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "app.example.com" {
		t.Errorf("default certificate %s", cn)
	}
	conn.Close()
	// The policy's minimum version is enforced.
	if _, err := tls.Dial("tcp", net.JoinHostPort(f.ip, itoa(tlsPort)), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 accepted under a TLS 1.2 policy")
	}

	// h2c prior knowledge on the plain HTTP listener.
	var hp http.Protocols
	hp.SetUnencryptedHTTP2(true)
	c2 := &http.Client{Transport: &http.Transport{Protocols: &hp}}
	resp, err = c2.Get(f.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != "http" {
		t.Errorf("h2c: proto %s body %q", resp.Proto, body)
	}

	// Certificates swap without a rebind.
	third := selfSigned(t, "third.example.com")
	cfg.Certificates = append(cfg.Certificates, third)
	cfg.LoadBalancers[0].Listeners[1].Certificates = []string{third.ARN}
	f.apply(cfg)
	conn, err = tls.Dial("tcp", net.JoinHostPort(f.ip, itoa(tlsPort)), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "third.example.com" {
		t.Errorf("swapped certificate %s", cn)
	}
	conn.Close()
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestErrors(t *testing.T) {
	f := newFixture(t, Config{ConnectTimeout: 300 * time.Millisecond})
	// A port nobody listens on: connection refused.
	refused := lbconfig.Target{ID: "r", Address: f.ip, Port: freePort(t, f.ip), State: lbconfig.TargetRegistered}
	slow := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	// A backend that closes the connection without answering.
	hang := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	rules := []lbconfig.Rule{
		{ARN: "r1", Priority: 1, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldPathPattern, Values: []string{"/refused"}}}, Actions: forward("tg/refused")},
		{ARN: "r2", Priority: 2, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldPathPattern, Values: []string{"/slow"}}}, Actions: forward("tg/slow")},
		{ARN: "r3", Priority: 3, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldPathPattern, Values: []string{"/closed"}}}, Actions: forward("tg/closed")},
		defaultRule(forward("tg/empty")),
	}
	cfg := f.alb(rules, tg("tg/refused", refused), tg("tg/slow", slow.target("s")), tg("tg/closed", hang.target("h")), tg("tg/empty"))
	cfg.LoadBalancers[0].IdleTimeout = 300 * time.Millisecond
	f.apply(cfg)
	c := newClient()
	for path, want := range map[string]int{"/": 503, "/refused": 502, "/slow": 504, "/closed": 502} {
		resp, body := get(t, c, f.url(path))
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		if resp.Header.Get("Server") != ServerHeader || !strings.Contains(body, "<title>"+statusText[want]+"</title>") {
			t.Errorf("%s: error page %v %q", path, resp.Header, body)
		}
	}
}

func TestConnectTimeoutIs504(t *testing.T) {
	f := newFixture(t, Config{ConnectTimeout: 300 * time.Millisecond})
	target := silentTarget(t)
	cfg := f.alb([]lbconfig.Rule{defaultRule(forward("tg/bh"))}, tg("tg/bh", target))
	f.apply(cfg)
	start := time.Now()
	resp, _ := get(t, newClient(), f.url("/"))
	if resp.StatusCode != 504 {
		t.Errorf("connect timeout: %d, want 504", resp.StatusCode)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// silentTarget returns a loopback target whose connects hang: a socket
// listening with a full accept queue that never accepts (Linux drops the
// SYNs then).
func silentTarget(t *testing.T) lbconfig.Target {
	t.Helper()
	ip := loopIP()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	addr := &syscall.SockaddrInet4{}
	copy(addr.Addr[:], net.ParseIP(ip).To4())
	if err := syscall.Bind(fd, addr); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	port := sa.(*syscall.SockaddrInet4).Port
	hp := net.JoinHostPort(ip, strconv.Itoa(port))
	// Fill the accept queue.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", hp, 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	if c, err := net.DialTimeout("tcp", hp, 200*time.Millisecond); err == nil {
		c.Close()
		if runtime.GOOS == "linux" {
			t.Fatal("a connect to a full accept queue completed: the target is not silent")
		}
		t.Skip("this platform completes connects to a full accept queue")
	}
	return lbconfig.Target{ID: "silent", Address: ip, Port: port, State: lbconfig.TargetRegistered}
}

func TestALBRequestErrors(t *testing.T) {
	seen := make(chan http.Header, 4)
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r.Header.Clone() }))
	f := newFixture(t, Config{})
	h2 := tg("tg/h2", be.target("a"))
	h2.ProtocolVersion = "GRPC"
	rules := []lbconfig.Rule{
		{ARN: "r1", Priority: 1, Conditions: []lbconfig.Condition{{Field: lbconfig.FieldPathPattern, Values: []string{"/grpc/*"}}}, Actions: forward("tg/h2")},
		defaultRule(forward("tg/a")),
	}
	cfg := f.alb(rules, tg("tg/a", be.target("a")), h2)
	cfg.LoadBalancers[0].DropInvalidHeaders = true
	f.apply(cfg)
	c := newClient()
	req, _ := http.NewRequest("GET", f.url("/"), nil)
	req.Header.Set("X-Forwarded-For", strings.TrimSuffix(strings.Repeat("10.0.0.1, ", 31), ", "))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 463 {
		t.Errorf("31 XFF addresses: %d, want 463", resp.StatusCode)
	}
	if resp, _ := get(t, c, f.url("/grpc/x")); resp.StatusCode != 464 {
		t.Errorf("HTTP/1.1 to a gRPC group: %d, want 464", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", f.url("/"), nil)
	req.Header["X_Under"] = []string{"dropped"}
	req.Header.Set("X-Fine", "kept")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-seen
	if h.Get("X-Fine") != "kept" || len(h["X_Under"]) != 0 {
		t.Errorf("drop invalid headers: %v", h)
	}
}

func TestHTTP2TargetGroup(t *testing.T) {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	be := startBackendWith(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}), &p)
	f := newFixture(t, Config{})
	g := tg("tg/h2", be.target("a"))
	g.ProtocolVersion = "HTTP2"
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/h2"))}, g))
	c := &http.Client{Transport: &http.Transport{Protocols: &p}}
	resp, err := c.Get(f.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "HTTP/2.0" {
		t.Errorf("HTTP2 group: %d %q", resp.StatusCode, body)
	}
}
