// Command lb measures berth's load balancer.
//
// Proxy: requests/s and latency through an ALB of a `berth lb` node (with
// `berth server` as a separate process, both built from this module),
// side by side with nginx (the Debian package, installed when missing) in
// front of the same backends, and the backends measured directly (the
// floor). The backends are N small Go HTTP servers on loopback ports that
// answer a static 100-byte body with keep-alive. The load generator is a
// Go client in a child process (this program again) with a fixed number of
// keep-alive connections: a warm-up, then a measured window. The three
// systems run interleaved for --repeat rounds, first at full load (closed
// loop), then paced at half of berth's full-load requests/s of that round.
//
// Rolling: a service of 10 tasks of berth's demo image behind an ALB target
// group (health checks every 5 s, deregistration delay 5 s), on `berth dev`
// with the Docker runtime when an engine answers (else the process
// runtime), updated to a new task definition with minimumHealthyPercent
// 100 / maximumPercent 200: time from UpdateService to the deployment
// COMPLETED, beside the floor those settings imply.
//
// It is a program, not a test: it asserts nothing, it prints what it
// measured. See docs/benchmarks.md.
//
//	go run ./bench/lb                        # proxy and rolling, 3 rounds each
//	go run ./bench/lb --parts proxy --duration 5s --repeat 1
//	go run ./bench/lb --out bench-results.md
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

type options struct {
	parts   []string
	systems []string
	repeat  int

	// proxy
	backends   int
	conns      int
	warmup     time.Duration
	duration   time.Duration
	proxyProcs int
	lbGOGC     string
	lbPool     string
	nginxAddr  string
	keepalive  int

	// rolling
	tasks       int
	healthInt   time.Duration
	dereg       time.Duration
	runtimeName string
	devPool     string
	poll        time.Duration
	timeout     time.Duration

	harness.Common
}

func main() {
	if spec := os.Getenv(loadEnv); spec != "" {
		loadMain(spec)
		return
	}
	harness.Main("bench/lb", parseFlags, "interrupted: stopping and cleaning up (interrupt again to stop waiting)",
		"interrupted again: cleaning up without waiting", benchmark)
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("lb", flag.ContinueOnError)
	o := &options{}
	parts := fs.String("parts", "proxy,rolling", "what to measure: proxy (throughput and latency), rolling (a rolling deployment behind an ALB)")
	systems := fs.String("systems", "direct,berth,nginx", "proxy: what to load, interleaved: direct (the backends), berth, nginx")
	fs.IntVar(&o.repeat, "repeat", 3, "rounds of the proxy runs, and rolling deployments; the summary shows medians")
	fs.IntVar(&o.backends, "backends", 4, "proxy: backend HTTP servers")
	fs.IntVar(&o.conns, "conns", 64, "proxy: keep-alive connections of the load generator")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "proxy: warm-up of every run (not measured)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "proxy: measured window of every run")
	fs.IntVar(&o.proxyProcs, "proxy-cores", defaultProcs(), "proxy: cores each proxy may use (berth lb's GOMAXPROCS, nginx's worker_processes)")
	fs.StringVar(&o.lbGOGC, "lb-gogc", "", "proxy: GOGC of the berth lb process (default: its own)")
	fs.StringVar(&o.lbPool, "lb-addresses", "127.0.9.0/24", "proxy: load balancer address pool of the berth server")
	fs.StringVar(&o.nginxAddr, "nginx-address", "127.0.8.1", "proxy: loopback address nginx listens on")
	fs.IntVar(&o.keepalive, "nginx-keepalive", 64, "proxy: nginx's idle keep-alive connections to the backends (per worker)")
	fs.IntVar(&o.tasks, "tasks", 10, "rolling: desired count of the service")
	fs.DurationVar(&o.healthInt, "health-interval", 5*time.Second, "rolling: target group health check interval (5-300 s)")
	fs.DurationVar(&o.dereg, "deregistration-delay", 5*time.Second, "rolling: target group deregistration delay (whole seconds)")
	fs.StringVar(&o.runtimeName, "runtime", "", "rolling: berth dev's runtime, docker or process (default: docker when an engine answers)")
	fs.StringVar(&o.devPool, "dev-lb-addresses", "127.0.10.0/24", "rolling: berth dev's load balancer address pool")
	fs.DurationVar(&o.poll, "poll-interval", 100*time.Millisecond, "rolling: pause between two polls of the service")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "rolling: how long to wait for a service to be steady or a deployment to complete")
	fs.StringVar(&o.BerthBin, "berth-bin", "", "berth binary to run (default: go build ./cmd/berth)")
	fs.StringVar(&o.DataRoot, "data-root", "", "where the runs keep their data dirs (default: the system temp dir)")
	fs.StringVar(&o.Out, "out", "", "append the Markdown report to this file")
	fs.StringVar(&o.Region, "region", "us-east-1", "region of the started servers")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.parts, err = list(*parts, "proxy", "rolling"); err != nil {
		return nil, fmt.Errorf("--parts: %w", err)
	}
	if o.systems, err = list(*systems, "direct", "berth", "nginx"); err != nil {
		return nil, fmt.Errorf("--systems: %w", err)
	}
	switch {
	case len(o.parts) == 0 || len(o.systems) == 0:
		return nil, errors.New("nothing to run: --parts or --systems is empty")
	case o.repeat < 1 || o.backends < 1 || o.conns < 1 || o.tasks < 1 || o.proxyProcs < 1 || o.keepalive < 1:
		return nil, errors.New("--repeat, --backends, --conns, --tasks, --proxy-cores and --nginx-keepalive must be positive")
	case o.duration <= 0 || o.warmup < 0 || o.poll <= 0 || o.timeout <= 0:
		return nil, errors.New("--duration, --poll-interval and --timeout must be positive, --warmup not negative")
	case o.healthInt%time.Second != 0 || o.healthInt < 5*time.Second || o.healthInt > 300*time.Second:
		return nil, errors.New("--health-interval must be whole seconds from 5 to 300")
	case o.dereg%time.Second != 0 || o.dereg < 0 || o.dereg > 3600*time.Second:
		return nil, errors.New("--deregistration-delay must be whole seconds from 0 to 3600")
	case o.runtimeName != "" && o.runtimeName != "docker" && o.runtimeName != "process":
		return nil, errors.New("--runtime is docker or process")
	}
	for _, p := range []string{o.lbPool, o.devPool} {
		if pf, err := netip.ParsePrefix(p); err != nil || !pf.Addr().IsLoopback() {
			return nil, fmt.Errorf("load balancer pool %q: want a loopback CIDR such as 127.0.9.0/24", p)
		}
	}
	if a, err := netip.ParseAddr(o.nginxAddr); err != nil || !a.IsLoopback() {
		return nil, fmt.Errorf("--nginx-address %q: want a loopback address", o.nginxAddr)
	}
	return o, nil
}

// list splits a comma-separated flag value, keeping known names once, in
// order.
func list(v string, known ...string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(known, s) {
			return nil, fmt.Errorf("unknown %q (%s)", s, strings.Join(known, ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
