// Command dns measures berth's DNS server (package dnsserver) against
// dnsmasq (the Debian package) serving the same records, on the same
// machine: queries/s and latency of an A query of a 10-record MULTIVALUE
// Cloud Map service, every record healthy.
//
// Each server runs as its own process on a loopback port: berth's is this
// program again (a child that runs dnsserver with GOMAXPROCS set to
// --server-cores, default 1, as dnsmasq is single-threaded); dnsmasq runs
// in the foreground with --no-resolv --no-hosts and the ten addresses in
// an --addn-hosts file. The load generator is this process: --clients
// goroutines, each a closed-loop UDP client with its own socket (miekg/dns)
// that sends the next query when the previous one is answered. Every run
// is a warm-up, then a measured window; the two servers run interleaved
// for --repeat rounds and the summary shows medians and berth's ratio to
// dnsmasq.
//
// It is a program, not a test: it asserts nothing, it prints what it
// measured. See docs/benchmarks.md.
//
//	go run ./bench/dns                    # 3 rounds, 8 clients, 5 s windows
//	go run ./bench/dns --repeat 1 --duration 3s --out bench-results.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"berth.dev/berth/bench/internal/harness"
	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/dnsserver"
)

// serveEnv makes this program the berth DNS server child: its value is the
// address to listen on.
const serveEnv = "BERTH_BENCH_DNS_SERVE"

const (
	zoneName = "bench.local."
	svcName  = "web.bench.local."
	records  = 10
)

type options struct {
	systems     []string
	repeat      int
	clients     int
	warmup      time.Duration
	duration    time.Duration
	serverCores int
	dnsmasq     string
	out         string
}

func main() {
	if addr := os.Getenv(serveEnv); addr != "" {
		serveMain(addr)
		return
	}
	harness.Main("bench/dns", parseFlags, "interrupted: stopping the servers", "interrupted again", benchmark)
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	o := &options{}
	systems := fs.String("systems", "berth,dnsmasq", "what to load, interleaved: berth, dnsmasq")
	fs.IntVar(&o.repeat, "repeat", 3, "rounds; the summary shows medians")
	fs.IntVar(&o.clients, "clients", 8, "concurrent closed-loop UDP clients")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up of every run (not measured)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured window of every run")
	fs.IntVar(&o.serverCores, "server-cores", 1, "GOMAXPROCS of berth's DNS server process")
	fs.StringVar(&o.dnsmasq, "dnsmasq", "dnsmasq", "dnsmasq binary (apt-get install dnsmasq)")
	fs.StringVar(&o.out, "out", "", "append the Markdown report to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for s := range strings.SplitSeq(*systems, ",") {
		s = strings.TrimSpace(s)
		if s != "berth" && s != "dnsmasq" {
			return nil, fmt.Errorf("--systems: unknown %q (berth, dnsmasq)", s)
		}
		if !slices.Contains(o.systems, s) {
			o.systems = append(o.systems, s)
		}
	}
	if o.repeat < 1 || o.clients < 1 || o.serverCores < 1 || o.duration <= 0 || o.warmup < 0 {
		return nil, errors.New("--repeat, --clients, --server-cores and --duration must be positive, --warmup not negative")
	}
	return o, nil
}

// benchConfig is the service: ten healthy records, MULTIVALUE.
func benchConfig() *dnsconfig.Config {
	set := dnsconfig.RRSet{Name: svcName, Type: dnsconfig.TypeA, TTL: 60, Routing: dnsconfig.RoutingMultivalue}
	for i := range records {
		set.Records = append(set.Records, dnsconfig.Record{Value: addrOf(i), Healthy: true})
	}
	return &dnsconfig.Config{Revision: 1, Zones: []dnsconfig.Zone{{Name: zoneName,
		SOA: dnsconfig.SOA{MName: "ns-1.bench.local.", RName: "hostmaster.bench.local.", Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minimum: 60, TTL: 900},
		NS:  []string{"ns-1.bench.local."}, RRSets: []dnsconfig.RRSet{set}}}}
}

func addrOf(i int) string { return fmt.Sprintf("10.0.0.%d", i+1) }

// serveMain is the berth DNS server child.
func serveMain(addr string) {
	s := dnsserver.New(dnsserver.Options{})
	if err := s.Apply(benchConfig()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := s.Start(addr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("serving on", s.Addr())
	select {} // until the bench kills it
}

// freeAddr is a loopback address with a port free for UDP and TCP now.
func freeAddr() (string, error) {
	for range 10 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", addr)
		pc.Close()
		if err == nil {
			ln.Close()
			return addr, nil
		}
	}
	return "", errors.New("no free loopback port")
}

// system is one server under test.
type system struct {
	name string
	addr string
	proc *harness.Proc
}

func startSystem(ctx context.Context, name string, o *options, dir string) (*system, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &system{name: name, addr: addr}
	logPath := filepath.Join(dir, name+".log")
	switch name {
	case "berth":
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		s.proc, err = harness.StartProc(name, self, nil, []string{serveEnv + "=" + addr, fmt.Sprintf("GOMAXPROCS=%d", o.serverCores)}, logPath)
		if err != nil {
			return nil, err
		}
	case "dnsmasq":
		hosts := filepath.Join(dir, "hosts")
		var b strings.Builder
		for i := range records {
			fmt.Fprintf(&b, "%s %s\n", addrOf(i), strings.TrimSuffix(svcName, "."))
		}
		if err := os.WriteFile(hosts, []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		host, port, _ := net.SplitHostPort(addr)
		args := []string{"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--addn-hosts=" + hosts,
			"--listen-address=" + host, "--bind-interfaces", "--port=" + port, "--pid-file=", "--local-ttl=60", "--log-facility=-"}
		bin, err := exec.LookPath(o.dnsmasq)
		if err != nil {
			return nil, fmt.Errorf("dnsmasq not found (apt-get install dnsmasq): %w", err)
		}
		s.proc, err = harness.StartProc(name, bin, args, nil, logPath)
		if err != nil {
			return nil, err
		}
	}
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w\n%s", name, err, s.proc.LogTail(2048))
	}
	return s, nil
}

// waitReady asks until the server answers the service.
func (s *system) waitReady(ctx context.Context) error {
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !s.proc.Running() {
			return errors.New("exited")
		}
		r, _, err := c.ExchangeContext(ctx, new(dns.Msg).SetQuestion(svcName, dns.TypeA), s.addr)
		if err == nil && len(r.Answer) > 0 {
			return nil
		}
		harness.Sleep(ctx, 50*time.Millisecond)
	}
	return errors.New("not answering after 10s")
}

func (s *system) stop() { _ = s.proc.Stop(5 * time.Second) }

func benchmark(ctx, _ context.Context, o *options) error {
	dir, err := os.MkdirTemp("", "berth-bench-dns-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// dnsmasq reads its hosts file as the user it drops to (nobody).
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	machine := harness.MachineInfo(dir)
	var runs []run
	for round := 1; round <= o.repeat; round++ {
		for _, name := range o.systems {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s, err := startSystem(ctx, name, o, dir)
			if err != nil {
				return err
			}
			r := load(ctx, s.addr, s.proc.Pid(), o)
			s.stop()
			r.system, r.round = name, round
			fmt.Fprintf(os.Stderr, "round %d %-8s %s\n", round, name, r.line())
			runs = append(runs, r)
		}
	}
	text, md := report(o, machine, runs)
	return harness.WriteReport(text, md, o.out)
}
