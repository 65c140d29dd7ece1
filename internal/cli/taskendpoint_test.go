package cli

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/taskendpoint"
)

// The credentials and metadata endpoint is served at the task endpoint's
// port 80 with the task DNS server, and both go, address included, on
// Close.
func TestTaskEndpointServedWithTaskDNS(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("the task endpoint needs root on Linux")
	}
	dnstest.LockTaskEndpoint(t)
	dir := t.TempDir()
	tdns, err := startTaskDNS(context.Background(), slog.New(slog.DiscardHandler), taskDNSConfig{mode: "on", forward: "none",
		server: "http://127.0.0.1:1", region: "us-east-1", keyID: "k", secret: "s", node: "test", stateFile: filepath.Join(dir, "dns.json")})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			tdns.Close()
		}
	})
	if !tdns.endpoint() {
		t.Fatal("port 80 of the task endpoint not bound")
	}
	tdns.serveEndpoint(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + taskendpoint.IP + "/v2/credentials/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d", resp.StatusCode)
	}
	tdns.Close()
	closed = true
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := lo.Addrs()
	for _, a := range addrs {
		if p, ok := a.(*net.IPNet); ok && p.IP.String() == taskendpoint.IP {
			t.Fatal("the task endpoint address is still on lo after Close")
		}
	}
}
