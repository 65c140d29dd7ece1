package demoapp

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"berth.dev/berth/internal/dnstest"
)

// resolverAt is a pure-Go resolver that asks only addr.
func resolverAt(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func TestResolveAnswersAAndSRV(t *testing.T) {
	srv, err := dnstest.Listen("127.0.0.1:0",
		map[string]netip.Addr{"web.test.": netip.MustParseAddr("10.1.2.3")},
		map[string][]dnstest.SRV{"_http._tcp.web.test.": {{Target: "web.test.", Port: 8080, Priority: 1, Weight: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := handleResolve(resolverAt(srv.Addr().String()))

	w := do(t, h, "/resolve?name=web.test.&type=A")
	var a resolveAnswer
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &a) != nil || len(a.Addresses) != 1 || a.Addresses[0] != "10.1.2.3" {
		t.Fatalf("A: %d %s", w.Code, w.Body)
	}
	w = do(t, h, "/resolve?name=_http._tcp.web.test.&type=SRV")
	var s resolveAnswer
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &s) != nil || len(s.SRV) != 1 || s.SRV[0].Target != "web.test." || s.SRV[0].Port != 8080 {
		t.Fatalf("SRV: %d %s", w.Code, w.Body)
	}
	w = do(t, h, "/resolve?name=missing.test.&type=A")
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "no such host") {
		t.Fatalf("unknown name: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "/resolve?name=web.test.&type=MX"); w.Code != http.StatusBadRequest {
		t.Fatalf("type MX: %d", w.Code)
	}
	if w := do(t, h, "/resolve"); w.Code != http.StatusBadRequest {
		t.Fatalf("no name: %d", w.Code)
	}
}

func TestResolveIsServed(t *testing.T) {
	// The server routes /resolve and /fetch; a bad request shows it.
	h := newServer(false, nil)
	if w := do(t, h, "/resolve"); w.Code != http.StatusBadRequest {
		t.Fatalf("/resolve: %d", w.Code)
	}
	if w := do(t, h, "/fetch"); w.Code != http.StatusBadRequest {
		t.Fatalf("/fetch: %d", w.Code)
	}
}

func TestFetchRelaysStatusAndBody(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("short and stout"))
	}))
	defer up.Close()
	h := handleFetch(up.Client())
	w := do(t, h, "/fetch?url="+url.QueryEscape(up.URL+"/x"))
	if w.Code != http.StatusTeapot || w.Body.String() != "short and stout" {
		t.Fatalf("fetch: %d %q", w.Code, w.Body)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	w = do(t, h, "/fetch?url="+url.QueryEscape("http://"+dead+"/"))
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "refused") {
		t.Fatalf("fetch from a closed port: %d %q", w.Code, w.Body)
	}
}
