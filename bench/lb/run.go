package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

// proxyRun is one load run of one system.
type proxyRun struct {
	system string
	round  int
	half   bool    // paced at half of berth's full-load rate
	rate   float64 // the pace (half-load runs)
	res    loadResult
	cpu    float64 // cores the proxy used in the run (warm-up included)
	err    string
}

type env struct {
	o       *options
	berth   string
	root    string
	machine harness.Machine
	nginx   string // nginx's version
	proxy   []*proxyRun
	rolling []*rollRun
	rollCfg string
}

func benchmark(ctx, hard context.Context, o *options) error {
	root, cl, err := o.Workspace("berth-bench-lb-")
	if err != nil {
		return err
	}
	defer cl.Run()
	bin, err := o.Berth(ctx, root)
	if err != nil {
		return err
	}
	e := &env{o: o, berth: bin, root: root, machine: harness.MachineInfo(root)}
	e.machine.Berth = harness.BerthRevision(bin)
	if slices.Contains(o.parts, "proxy") {
		if err := e.runProxy(ctx); err != nil {
			return err
		}
	}
	if slices.Contains(o.parts, "rolling") {
		if err := e.runRolling(ctx, hard); err != nil {
			return err
		}
	}
	return harness.WriteReport(e.text(), e.markdown(), o.Out)
}

// runProxy starts the backends, berth and nginx, and runs the rounds.
func (e *env) runProxy(ctx context.Context) error {
	o := e.o
	cl := &harness.Cleanups{}
	defer cl.Run()
	backends, err := startBackends(o.backends, cl)
	if err != nil {
		return err
	}
	urls := map[string][]string{}
	pids := map[string]int{}
	for _, b := range backends {
		urls["direct"] = append(urls["direct"], "http://"+b+"/")
	}
	if slices.Contains(o.systems, "berth") {
		fmt.Fprintln(os.Stderr, "starting berth server and berth lb, creating the ALB ...")
		b, err := startBerth(ctx, e.berth, e.root, o, backends)
		if err != nil {
			return fmt.Errorf("berth: %w", err)
		}
		cl.Add(b.stop)
		urls["berth"], pids["berth"] = []string{b.url}, b.node.Pid()
	}
	if slices.Contains(o.systems, "nginx") {
		n, err := startNginx(ctx, e.root, o.nginxAddr, o.proxyProcs, o.keepalive, backends)
		if err != nil {
			return fmt.Errorf("nginx: %w", err)
		}
		cl.Add(n.stop)
		urls["nginx"], pids["nginx"] = []string{n.url}, n.proc.Pid()
		e.nginx = n.ver
	}
	one := func(sys string, round int, rate float64) *proxyRun {
		r := &proxyRun{system: sys, round: round, half: rate > 0, rate: rate}
		c0 := 0.0
		if pid := pids[sys]; pid > 0 {
			c0 = proxyCPU(pid)
		}
		t0 := time.Now()
		res, err := runLoad(ctx, loadSpec{URLs: urls[sys], Conns: o.conns, Rate: rate, Warmup: o.warmup, Duration: o.duration})
		if pid := pids[sys]; pid > 0 {
			r.cpu = (proxyCPU(pid) - c0) / time.Since(t0).Seconds()
		}
		r.res = res
		if err != nil {
			r.err = err.Error()
		}
		load := "full load"
		if rate > 0 {
			load = fmt.Sprintf("paced at %.0f req/s", rate)
		}
		fmt.Fprintf(os.Stderr, "round %d, %s, %s: %.0f req/s, p50 %.3f ms, p99 %.3f ms, %d errors, proxy CPU %.2f, client CPU %.2f %s\n",
			round, sys, load, res.RPS, res.P50, res.P99, res.Errors, r.cpu, res.ClientCPU, r.err)
		e.proxy = append(e.proxy, r)
		return r
	}
	for round := 1; round <= o.repeat && ctx.Err() == nil; round++ {
		full := map[string]*proxyRun{}
		for _, sys := range o.systems {
			full[sys] = one(sys, round, 0)
		}
		// Half load: half of berth's maximum of this round (the lowest
		// system's when berth is not measured), for every system.
		ref := 0.0
		if b := full["berth"]; b != nil {
			ref = b.res.RPS
		} else {
			for _, r := range full {
				if ref == 0 || r.res.RPS < ref {
					ref = r.res.RPS
				}
			}
		}
		if ref <= 0 {
			continue
		}
		for _, sys := range o.systems {
			one(sys, round, ref/2)
		}
	}
	return ctx.Err()
}
