// Command api measures berth's ECS API: a read (DescribeTaskDefinition)
// and a write (RegisterTaskDefinition, one raft commit with fsync) at
// several client concurrencies, with aws-sdk-go-v2 clients that SigV4-sign
// every request.
//
// By default it builds cmd/berth, and for every run starts `berth server`
// with a fresh data dir and generated credentials. With --endpoint it loads
// a running server instead. See docs/benchmarks.md.
//
//	go run ./bench/api                       # read and write at 1 and 50 clients, 10 s each
//	go run ./bench/api --repeat 3 --out docs/bench-results.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

type options struct {
	clients     []int
	ops         []string
	duration    time.Duration
	warmup      time.Duration
	repeat      int
	out         string
	endpoint    string
	keyID       string
	secret      string
	region      string
	serverData  string
	berthBin    string
	dataRoot    string
	sharedSrv   bool
	readTarget  time.Duration
	writeTarget time.Duration
	targetAt    int
}

func main() {
	// A Ctrl-C (or SIGTERM) ends the run in progress, silently: the bench
	// then stops the server it started and exits with the error.
	harness.Main("bench/api", parseFlags, "", "",
		func(ctx, _ context.Context, o *options) error { return benchmark(ctx, o) })
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	o := &options{}
	clients := fs.String("clients", "1,50", "comma-separated numbers of concurrent clients")
	ops := fs.String("ops", "read,write", "operations to measure: read (DescribeTaskDefinition), write (RegisterTaskDefinition)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each run (not measured)")
	fs.IntVar(&o.repeat, "repeat", 1, "runs per configuration; the summary shows the median of each column")
	fs.StringVar(&o.out, "out", "", "append the Markdown report to this file")
	fs.StringVar(&o.endpoint, "endpoint", "", "load a running berth at this URL instead of starting one")
	fs.StringVar(&o.keyID, "access-key-id", "", "access key ID for --endpoint (default $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&o.secret, "secret-access-key", "", "secret access key for --endpoint (default $AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&o.region, "region", "us-east-1", "region to sign for")
	fs.StringVar(&o.serverData, "server-data-dir", "", "with --endpoint: the server's data dir, to count raft log appends (same machine only)")
	fs.StringVar(&o.berthBin, "berth-bin", "", "berth binary to run (default: go build ./cmd/berth)")
	fs.StringVar(&o.dataRoot, "data-root", "", "where the started servers keep their data dirs (default: the system temp dir); put it on the disk you want to measure")
	fs.BoolVar(&o.sharedSrv, "shared-server", false, "start one server for all runs instead of a fresh one per run")
	fs.DurationVar(&o.readTarget, "read-p99-target", 20*time.Millisecond, "p99 target for reads")
	fs.DurationVar(&o.writeTarget, "write-p99-target", 50*time.Millisecond, "p99 target for writes")
	fs.IntVar(&o.targetAt, "target-clients", 50, "the number of clients the targets apply to")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.keyID == "" {
		o.keyID = os.Getenv("AWS_ACCESS_KEY_ID")
	}
	if o.secret == "" {
		o.secret = os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for f := range strings.SplitSeq(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--clients: %q is not a positive number", f)
		}
		o.clients = append(o.clients, n)
	}
	for f := range strings.SplitSeq(*ops, ",") {
		f = strings.TrimSpace(f)
		if _, ok := operations[f]; !ok {
			return nil, fmt.Errorf("--ops: unknown operation %q (read, write)", f)
		}
		o.ops = append(o.ops, f)
	}
	if o.duration <= 0 || o.warmup < 0 || o.repeat < 1 {
		return nil, errors.New("--duration must be positive, --warmup not negative, --repeat at least 1")
	}
	if o.endpoint != "" && (o.keyID == "" || o.secret == "") {
		return nil, errors.New("--endpoint needs --access-key-id and --secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	if o.endpoint == "" && o.serverData != "" {
		return nil, errors.New("--server-data-dir only goes with --endpoint")
	}
	return o, nil
}

func benchmark(ctx context.Context, o *options) error {
	if o.dataRoot == "" {
		o.dataRoot = os.TempDir()
	}
	m := machineInfo(o)
	var newTarget func() (*target, error)
	switch {
	case o.endpoint != "":
		t := &target{endpoint: strings.TrimRight(o.endpoint, "/"), keyID: o.keyID, secret: o.secret,
			region: o.region, dataDir: o.serverData}
		newTarget = func() (*target, error) { return t, nil }
	default:
		bin := o.berthBin
		if bin == "" {
			dir, err := os.MkdirTemp("", "berth-bench-bin-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, "building berth ...")
			if bin, err = buildBerth(dir); err != nil {
				return err
			}
		}
		newTarget = func() (*target, error) { return startServer(bin, o.dataRoot, o.region) }
		if o.sharedSrv {
			t, err := newTarget()
			if err != nil {
				return err
			}
			defer t.stop()
			newTarget = func() (*target, error) {
				return &target{endpoint: t.endpoint, keyID: t.keyID,
					secret: t.secret, region: t.region, dataDir: t.dataDir}, nil
			}
		}
	}
	fmt.Fprintf(os.Stderr, "%s\n", m.summary())

	var results []*result
	for rep := 1; rep <= o.repeat; rep++ {
		for _, name := range o.ops {
			for _, n := range o.clients {
				t, err := newTarget()
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "run %d/%d: %s, %d clients, %s warm-up + %s ... ",
					rep, o.repeat, name, n, o.warmup, o.duration)
				r, err := run(ctx, t, operations[name], n, o.warmup, o.duration)
				if t.stop != nil {
					if serr := t.stop(); serr != nil && err == nil {
						err = fmt.Errorf("stop berth: %w", serr)
					}
				}
				if err != nil {
					fmt.Fprintln(os.Stderr)
					return err
				}
				fmt.Fprintf(os.Stderr, "%.0f req/s, p99 %s, %d errors\n", r.rps(), ms(r.pct(0.99)), r.errors)
				for _, e := range r.firstErrs {
					fmt.Fprintf(os.Stderr, "  error: %s\n", e)
				}
				results = append(results, r)
			}
		}
	}
	rep := newReport(o, m, results)
	return harness.WriteReport(rep.text(), rep.markdown(), o.out)
}
