package lb

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

// TestThroughput compares requests/s through the proxy with requests/s
// straight to the backend (LB_BENCH=1 go test -run Throughput -v; without
// -race). LB_BENCH_CONC sets the concurrency (64).
func TestThroughput(t *testing.T) {
	if os.Getenv("LB_BENCH") == "" {
		t.Skip("set LB_BENCH=1")
	}
	conc := 64
	if v, err := strconv.Atoi(os.Getenv("LB_BENCH_CONC")); err == nil {
		conc = v
	}
	body := []byte("hello, world\n")
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
	f := newFixture(t, Config{})
	f.apply(f.alb([]lbconfig.Rule{defaultRule(forward("tg/a"))}, tg("tg/a", be.target("a"))))
	direct := "http://" + hostPort(be.ip, be.port) + "/"
	// The load runs in a child process (this test binary again), as hey
	// or wrk would, so that it does not share the engine's scheduler and GC.
	run := func(url string) float64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadClient$")
		cmd.Env = append(os.Environ(), "LB_LOAD_URL="+url, "LB_LOAD_CONC="+strconv.Itoa(conc))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("load client: %v", err)
		}
		var n float64
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "RATE "); ok {
				n, _ = strconv.ParseFloat(v, 64)
			}
		}
		return n
	}
	d := run(direct)
	p := run(f.url("/"))
	t.Logf("concurrency %d: direct %.0f req/s, through the proxy %.0f req/s (%.2f×)", conc, d, p, p/d)
	if nginx, err := exec.LookPath("nginx"); err == nil {
		url := startNginx(t, nginx, hostPort(be.ip, be.port))
		n := run(url)
		p2 := run(f.url("/"))
		t.Logf("nginx %.0f req/s, the proxy again %.0f req/s (%.2f× nginx)", n, p2, p2/n)
	}
}

// TestLoadClient is the load generator TestThroughput starts.
func TestLoadClient(t *testing.T) {
	url := os.Getenv("LB_LOAD_URL")
	if url == "" {
		t.Skip("run by TestThroughput")
	}
	conc, _ := strconv.Atoi(os.Getenv("LB_LOAD_CONC"))
	tr := &http.Transport{MaxIdleConnsPerHost: conc, DisableCompression: true}
	c := &http.Client{Transport: tr}
	var n atomic.Int64
	const d = 3 * time.Second
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				resp, err := c.Get(url)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("RATE %.0f\n", float64(n.Load())/d.Seconds())
}

// startNginx runs nginx as a keep-alive reverse proxy to backend and
// returns its URL.
func startNginx(t *testing.T, nginx, backend string) string {
	dir := t.TempDir()
	ip := loopIP()
	port := freePort(t, ip)
	conf := fmt.Sprintf(`worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  upstream be { server %[2]s; keepalive 256; }
  server {
    listen %[3]s:%[4]d;
    keepalive_requests 1000000;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }
  }
}
`, dir, backend, ip, port)
	if err := os.WriteFile(dir+"/nginx.conf", []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-c", dir+"/nginx.conf", "-p", dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() {
		// SIGTERM: the master stops its workers (a SIGKILL would leave
		// them running, orphaned).
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	url := "http://" + hostPort(ip, port) + "/"
	for range 100 {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return url
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("nginx did not start")
	return ""
}
