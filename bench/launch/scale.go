package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/bench/internal/harness"
)

// scaleRun is the state-scale run: one server, many fake agents (fleet.go),
// many tasks.
type scaleRun struct {
	instances, tasks int
	registerTime     time.Duration // RegisterContainerInstance of every instance
	connectTime      time.Duration // opening every agent stream
	res              *launchResult
	// Server memory with nothing, with the instances connected and no task,
	// with every task RUNNING, and with every task STOPPED (still in state:
	// STOPPED tasks are kept an hour).
	idle, instancesOnly, peak, after harness.ProcStatus
	heapIdle, heapInstances          float64
	heapPeak, heapAfter              float64
	serverCPULaunch                  float64
	benchCPULaunch                   float64
	fleetErrors                      int64
	fleetFirstErr                    string
	api                              string // server-side API time
	err                              string
}

func runScale(ctx, hard context.Context, e *env) (r *scaleRun, err error) {
	o := e.o
	r = &scaleRun{instances: o.scaleInstances, tasks: o.scaleTasks, heapIdle: -1, heapInstances: -1, heapPeak: -1, heapAfter: -1}
	if need, have := int64(o.scaleTasks)*int64(o.memory), int64(o.scaleInstances)*int64(o.scaleMemory); need > have {
		return r, fmt.Errorf("%d tasks of %d MiB do not fit on %d instances of %d MiB", o.scaleTasks, o.memory, o.scaleInstances, o.scaleMemory)
	}
	dir, err := os.MkdirTemp(e.root, "scale-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	srv, err := harness.StartServer(ctx, e.berth, dir, o.Region)
	if err != nil {
		return r, err
	}
	defer func() {
		srv.StopInto(60*time.Second, &err)
		if err != nil {
			r.err = err.Error()
		}
	}()
	c, err := harness.NewClient(ctx, srv, o.callers+8)
	if err != nil {
		return r, err
	}
	fc, err := harness.NewClient(ctx, srv, 64)
	if err != nil {
		return r, err
	}
	cluster := "bench-scale"
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return r, err
	}
	family := "bench-scale"
	td, err := c.RegisterTaskDefinition(ctx, taskDef(family, "docker", o.Image, "", e.runID, int32(o.memory), int32(o.cpu)))
	if err != nil {
		return r, err
	}
	harness.Sleep(ctx, o.settle)
	r.idle, r.heapIdle = harness.ReadProcStatus(srv.Pid()), harness.ServerHeap(ctx, srv)

	f := newFleet(srv, fc, cluster)
	start := time.Now()
	if err := f.register(ctx, o.scaleInstances, o.callers, 2048, int32(o.scaleMemory)); err != nil {
		return r, err
	}
	r.registerTime = time.Since(start)
	start = time.Now()
	err = f.connect(ctx, 16)
	defer f.close()
	if err != nil {
		return r, err
	}
	r.connectTime = time.Since(start)
	fmt.Fprintf(os.Stderr, "  registered %d instances in %s, opened their streams in %s\n", len(f.instances), harness.Secs(r.registerTime), harness.Secs(r.connectTime))
	harness.Sleep(ctx, o.settle)
	r.instancesOnly, r.heapInstances = harness.ReadProcStatus(srv.Pid()), harness.ServerHeap(ctx, srv)

	var cpu0, cpuPeak [2]float64
	cpu0 = [2]float64{harness.ProcCPU(srv.Pid()), harness.SelfCPU()}
	m0 := harness.ReadMetrics(ctx, srv)
	res, lerr := launchAndStop(ctx, hard, c, launchOpts{
		cluster: cluster, taskDef: fmt.Sprintf("%s:%d", family, td.TaskDefinition.Revision), count: o.scaleTasks,
		perCall: o.perCall, callers: o.callers, poll: max(o.poll, 2*time.Second), timeout: o.timeout, startBy: "bench-scale",
		progress: func(s string) { fmt.Fprintf(os.Stderr, "  %s\n", s) },
		onPeak: func() {
			cpuPeak = [2]float64{harness.ProcCPU(srv.Pid()), harness.SelfCPU()}
			r.peak, r.heapPeak = harness.ReadProcStatus(srv.Pid()), harness.ServerHeap(ctx, srv)
		},
	})
	r.res = res
	r.api = apiTime(m0, harness.ReadMetrics(hard, srv))
	r.serverCPULaunch, r.benchCPULaunch = cpuPeak[0]-cpu0[0], cpuPeak[1]-cpu0[1]
	r.fleetErrors, r.fleetFirstErr = f.errs.Load(), f.firstError()
	if lerr != nil {
		return r, lerr
	}
	harness.Sleep(ctx, o.settle)
	r.after, r.heapAfter = harness.ReadProcStatus(srv.Pid()), harness.ServerHeap(ctx, srv)
	fmt.Fprintf(os.Stderr, "  %d/%d RUNNING in %s (%.1f tasks/s), %d STOPPED in %s; server RSS idle %s, %d instances %s, peak %s, after %s MiB (VmHWM %s)\n",
		res.running, res.requested, harness.Secs(res.toRunning), res.rate(), res.stopped, harness.Secs(res.toStopped),
		harness.MiB(r.idle.RSSKiB), r.instances, harness.MiB(r.instancesOnly.RSSKiB), harness.MiB(r.peak.RSSKiB), harness.MiB(r.after.RSSKiB), harness.MiB(r.after.HWMKiB))
	printProblems(res)
	if r.fleetErrors > 0 {
		fmt.Fprintf(os.Stderr, "  fake agents: %d errors, first: %s\n", r.fleetErrors, r.fleetFirstErr)
	}
	if !srv.Running() {
		return r, fmt.Errorf("berth server exited during the run (%v)", srv.Err)
	}
	return r, nil
}
