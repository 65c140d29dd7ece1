package lb

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/internal/e2e/steadyload"
)

// backend is an HTTP server of the test's own on 127.0.0.1, registered by
// hand as an ip target. GET /health answers its status (200 unless set);
// every other path answers 200 with an echo (echo).
type backend struct {
	name   string
	port   int
	status atomic.Int32

	mu   sync.Mutex
	gate chan struct{} // when not nil, /health waits until it is closed
}

// echo is a backend's answer: VERSION (the backend's name, as the test
// app reports its VERSION, so that load counts by it), the host name (the
// test app's container's), and the request as it reached the backend.
type echo struct {
	Version  string      `json:"VERSION"`
	Hostname string      `json:"hostname"`
	Host     string      `json:"host"`
	Path     string      `json:"path"`
	Header   http.Header `json:"header"`
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.status.Store(http.StatusOK)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		gate := b.gate
		b.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(int(b.status.Load()))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{Version: name, Hostname: name, Host: r.Host, Path: r.URL.Path, Header: r.Header})
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	b.port, _ = strconv.Atoi(p)
	return b
}

// holdHealth makes /health wait until releaseHealth.
func (b *backend) holdHealth() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gate = make(chan struct{})
}

func (b *backend) releaseHealth() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gate != nil {
		close(b.gate)
		b.gate = nil
	}
}

// get sends GET url with Host host (when not "") and returns the status and
// the decoded echo: a backend's, or the test app's VERSION, or else the
// body as Version.
func get(t *testing.T, c *http.Client, url, host string) (int, echo, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, echo{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, echo{}, err
	}
	var ec echo
	switch {
	case json.Unmarshal(body, &ec) != nil:
		ec = echo{Version: string(body)} // a fixed response
	case ec.Version == "":
		ec.Version = steadyload.VersionOf(body) // the test app's echo
	}
	return resp.StatusCode, ec, nil
}

// startTCPEcho runs a TCP server on 127.0.0.1 that writes back what it
// reads, and returns its port.
func startTCPEcho(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			go func() { // ends with its connection (or the deadline)
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(time.Minute))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
