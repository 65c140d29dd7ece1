package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/bench/internal/harness"
)

// newClient returns an ECS client with its own connection pool that signs
// every request with SigV4 and makes one attempt per call, so that errors
// are counted and never hidden by a retry.
func newClient(ctx context.Context, t *target) (*ecs.Client, error) {
	httpc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = 4
	})
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(t.region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(t.keyID, t.secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }),
		config.WithHTTPClient(httpc),
	)
	if err != nil {
		return nil, err
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(t.endpoint) }), nil
}

// An operation is one kind of request the bench measures.
type operation struct {
	name   string // column in the report
	apiOp  string // ECS operation, for the server's metrics
	write  bool
	setup  func(ctx context.Context, c *ecs.Client) error
	invoke func(ctx context.Context, c *ecs.Client, worker, seq int) error
}

const readFamily = "bench-read"

var operations = map[string]operation{
	"read": {
		name: "read", apiOp: "DescribeTaskDefinition",
		setup: func(ctx context.Context, c *ecs.Client) error {
			_, err := c.RegisterTaskDefinition(ctx, webTaskDef(readFamily))
			return err
		},
		invoke: func(ctx context.Context, c *ecs.Client, _, _ int) error {
			_, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(readFamily)})
			return err
		},
	},
	"write": {
		name: "write", apiOp: "RegisterTaskDefinition", write: true,
		invoke: func(ctx context.Context, c *ecs.Client, worker, _ int) error {
			_, err := c.RegisterTaskDefinition(ctx, webTaskDef(fmt.Sprintf("bench-write-%03d", worker)))
			return err
		},
	},
}

// webTaskDef is a small, typical task definition: one web container.
func webTaskDef(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:      aws.String(family),
		NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:              aws.String("web"),
			Image:             aws.String("nginx:1.25"),
			Essential:         aws.Bool(true),
			MemoryReservation: aws.Int32(128),
			PortMappings:      []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(0)}},
			Environment: []types.KeyValuePair{
				{Name: aws.String("MODE"), Value: aws.String("production")},
				{Name: aws.String("WORKERS"), Value: aws.String("4")},
			},
		}},
	}
}

// result is one measured run of one operation at one concurrency.
type result struct {
	op        string
	clients   int
	duration  time.Duration
	ok        int
	errors    int
	firstErrs []string
	lat       []time.Duration // successful requests, sorted
	// From the server, over the measured window (zero when unknown).
	appends    uint64        // raft log appends (bolt commits)
	hasAppends bool          //
	serverMean float64       // seconds per request, server-side
	hasServer  bool          //
	serverCPU  float64       // CPU seconds the server used
	benchCPU   float64       // CPU seconds this process used
	hostCPU    float64       // CPU seconds all processes used; <0 unknown
	window     time.Duration // over which the CPU and server counters were read
}

func (r *result) rps() float64 { return float64(r.ok) / r.duration.Seconds() }

func (r *result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p+0.5) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

func (r *result) maxLat() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[len(r.lat)-1]
}

// run sends op from n concurrent clients for warmup+dur and measures the
// requests that start within dur after the warm-up.
func run(ctx context.Context, t *target, op operation, n int, warmup, dur time.Duration) (*result, error) {
	clients := make([]*ecs.Client, n)
	for i := range clients {
		c, err := newClient(ctx, t)
		if err != nil {
			return nil, err
		}
		clients[i] = c
	}
	if op.setup != nil {
		if err := op.setup(ctx, clients[0]); err != nil {
			return nil, fmt.Errorf("set up %s: %w", op.name, err)
		}
	}
	type workerOut struct {
		lat  []time.Duration
		errs int
		msgs []string
	}
	outs := make([]workerOut, n)
	start := time.Now()
	measureFrom := start.Add(warmup)
	stopAt := measureFrom.Add(dur)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outs[w]
			o.lat = make([]time.Duration, 0, 4096)
			for seq := 0; ; seq++ {
				t0 := time.Now()
				if !t0.Before(stopAt) || ctx.Err() != nil {
					return
				}
				err := op.invoke(ctx, clients[w], w, seq)
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					o.errs++
					if len(o.msgs) < 3 {
						o.msgs = append(o.msgs, err.Error())
					}
					continue
				}
				o.lat = append(o.lat, d)
			}
		}()
	}
	// Read the server's counters when the measured window opens.
	time.Sleep(time.Until(measureFrom))
	windowStart := time.Now()
	before := readServerStats(ctx, t)
	cpuBefore := harness.SelfCPU()
	hostBefore := hostCPU()
	wg.Wait()
	after := readServerStats(ctx, t)
	window := time.Since(windowStart)
	r := &result{op: op.name, clients: n, duration: dur, benchCPU: harness.SelfCPU() - cpuBefore, hostCPU: -1, window: window}
	if hostAfter := hostCPU(); hostBefore >= 0 && hostAfter >= 0 {
		r.hostCPU = hostAfter - hostBefore
	}
	for _, o := range outs {
		r.lat = append(r.lat, o.lat...)
		r.errors += o.errs
		for _, m := range o.msgs {
			if len(r.firstErrs) < 3 {
				r.firstErrs = append(r.firstErrs, m)
			}
		}
	}
	r.ok = len(r.lat)
	slices.Sort(r.lat)
	if before.hasTx && after.hasTx {
		r.appends, r.hasAppends = after.boltTx-before.boltTx, true
	}
	if before.OK && after.OK {
		if dc := after.OpCount[op.apiOp] - before.OpCount[op.apiOp]; dc > 0 {
			r.serverMean = (after.OpSum[op.apiOp] - before.OpSum[op.apiOp]) / dc
			r.hasServer = true
		}
		r.serverCPU = after.CPU - before.CPU
	}
	return r, ctx.Err()
}

// hostCPU is the busy CPU time of the whole machine from /proc/stat, in
// seconds summed over all CPUs; -1 when unknown. Unlike
// harness.HostCPUSecs it counts steal time as busy.
func hostCPU() float64 {
	f := harness.HostCPUTicks()
	if len(f) < 8 {
		return -1
	}
	var busy float64
	// user nice system idle iowait irq softirq steal: all but idle and iowait.
	for _, i := range []int{0, 1, 2, 5, 6, 7} {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return -1
		}
		busy += v
	}
	return busy / 100 // USER_HZ is 100 on Linux
}
