package lb

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"berth.dev/berth/internal/lbconfig"
)

// TestFastPathKeepsConnections: sequential GETs, HEADs and 204s through
// the proxy share one connection to the target.
func TestFastPathKeepsConnections(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{} // the proxy's addresses towards the target
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "hello")
	}))
	f := newFixture(t, Config{})
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", be.target("a"))))
	c := newClient()
	for i := range 30 {
		switch i % 3 {
		case 0:
			if resp, body := get(t, c, f.url("/")); resp.StatusCode != 200 || body != "hello" {
				t.Fatalf("GET: %d %q", resp.StatusCode, body)
			}
		case 1:
			resp, err := c.Head(f.url("/"))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("HEAD: %v %v", resp, err)
			}
			resp.Body.Close()
		case 2:
			if resp, body := get(t, c, f.url("/empty")); resp.StatusCode != 204 || body != "" {
				t.Fatalf("GET /empty: %d %q", resp.StatusCode, body)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := len(conns); n != 1 {
		t.Fatalf("%d connections to the target for 30 sequential requests, want 1", n)
	}
}

// TestFastPathRetriesStaleConnection: a target that closes every
// connection after one answer, without saying so, costs no request: the
// request that finds its reused connection closed goes again on a new one.
func TestFastPathRetriesStaleConnection(t *testing.T) {
	ip := loopIP()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var served atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				served.Add(1)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	f := newFixture(t, Config{})
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a",
		lbconfig.Target{ID: "a", Address: ip, Port: port, State: lbconfig.TargetRegistered})))
	c := newClient()
	for i := range 20 {
		if resp, body := get(t, c, f.url("/"+strconv.Itoa(i))); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if n := served.Load(); n < 20 {
		t.Fatalf("the target served %d requests, want 20", n)
	}
}

// TestFastPathForwardsEarlyHints: a 103 before the answer reaches the
// client.
func TestFastPathForwardsEarlyHints(t *testing.T) {
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "page")
	}))
	f := newFixture(t, Config{})
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", be.target("a"))))
	var hints []string
	req, _ := http.NewRequest(http.MethodGet, f.url("/"), nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, strconv.Itoa(code)+" "+h.Get("Link"))
			return nil
		},
	}))
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "page" {
		t.Fatalf("answer %d %q", resp.StatusCode, body)
	}
	if len(hints) != 1 || hints[0] != "103 </style.css>; rel=preload" {
		t.Fatalf("1xx answers seen by the client: %q", hints)
	}
}
