package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

func TestReadMetricsAt(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte("# HELP x\n\nprocess_cpu_seconds_total 1.5\n" +
			`berth_api_request_duration_seconds_sum{operation="RunTask"} 2` + "\n" +
			`berth_api_request_duration_seconds_count{operation="RunTask"} 4` + "\n"))
	}))
	defer srv.Close()
	m := ReadMetricsAt(context.Background(), srv.URL)
	if !m.OK || m.CPU != 1.5 || m.OpSum["RunTask"] != 2 || m.OpCount["RunTask"] != 4 || m.HeapInuse != -1 {
		t.Errorf("ReadMetricsAt = %+v", m)
	}
	status.Store(http.StatusInternalServerError)
	if m := ReadMetricsAt(context.Background(), srv.URL); m.OK {
		t.Errorf("ReadMetricsAt of a 500 answer is OK: %+v", m)
	}
	if m := ReadMetricsAt(context.Background(), "http://127.0.0.1:1"); m.OK {
		t.Errorf("ReadMetricsAt of no server is OK: %+v", m)
	}
}

func TestReadyEndpoint(t *testing.T) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() || r.URL.Path != "/healthz" {
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	if got := ReadyEndpoint(dir); got != "" {
		t.Errorf("ReadyEndpoint without an endpoint file = %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "endpoint"), []byte(srv.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ReadyEndpoint(dir); got != "" {
		t.Errorf("ReadyEndpoint of an unhealthy server = %q", got)
	}
	healthy.Store(true)
	if got := ReadyEndpoint(dir); got != srv.URL {
		t.Errorf("ReadyEndpoint = %q, want %q", got, srv.URL)
	}
}

func TestHostCPUTicks(t *testing.T) {
	if f := HostCPUTicks(); len(f) < 8 {
		t.Errorf("HostCPUTicks = %q, want user ... steal at least", f)
	}
	if HostCPUSecs() < 0 {
		t.Error("HostCPUSecs unknown")
	}
}
