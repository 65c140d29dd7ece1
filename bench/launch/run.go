package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/bench/internal/harness"
	"berth.dev/berth/internal/e2e/testimage"
)

// env is what every run of one invocation shares.
type env struct {
	o       *options
	root    string // temp dir of this invocation
	berth   string // berth binary
	testapp string // test application binary (process runtime)
	docker  *harness.Docker
	imageID string
	runID   string // value of benchLabel on this invocation's containers
	machine harness.Machine
	notes   []string // printed with the report
}

// usage is a process's memory at three moments of a run.
type usage struct {
	idle, peak, after harness.ProcStatus
}

// berthRun is one launch-and-stop run of berth with one runtime.
type berthRun struct {
	runtime string
	rep     int
	res     *launchResult
	server  usage
	agent   usage
	// heapPeak is the server's Go heap in use at the peak (bytes, from its
	// metrics); -1 when unknown.
	heapPeak float64
	// CPU from the first RunTask to all RUNNING, for --settle while every
	// task runs and nothing changes, and from then to all STOPPED.
	launchCPU, steadyCPU, stopCPU harness.CPUWindow
	// availIdle and availPeak are the host's MemAvailable (MiB).
	availIdle, availPeak int64
	regMemory, regCPU    int32
	// api is the server-side mean time of the API calls of the run.
	api string
	err string
}

// swarmRun is one Swarm run.
type swarmRun struct {
	rep int
	res *swarmResult
	err string
}

func benchmark(ctx, hard context.Context, o *options) error {
	root, cl, err := o.Workspace("berth-bench-launch-")
	if err != nil {
		return err
	}
	defer cl.Run()
	e := &env{o: o, root: root, runID: harness.RandomHex(6), machine: harness.MachineInfo(root)}

	if e.berth, err = o.Berth(ctx, root); err != nil {
		return err
	}
	e.machine.Berth = harness.BerthRevision(e.berth)
	if slices.Contains(o.phases, "process") || slices.Contains(o.phases, "awsvpc-process") {
		fmt.Fprintln(os.Stderr, "building the test application ...")
		if e.testapp, err = testimage.BinaryPath(ctx); err != nil {
			return err
		}
	}
	if slices.Contains(o.phases, "docker") || slices.Contains(o.phases, "swarm") || slices.Contains(o.phases, "awsvpc-docker") {
		if e.docker, err = harness.OpenDocker(ctx); err != nil {
			return fmt.Errorf("the docker and swarm runs need a Docker engine (or drop them with --phases process): %w", err)
		}
		defer e.docker.Close()
		fmt.Fprintf(os.Stderr, "building the test application image %s ...\n", o.Image)
		if err := testimage.Build(ctx, o.Image); err != nil {
			return err
		}
		if !o.KeepImage {
			cl.Add(func() {
				if err := testimage.Remove(context.Background(), o.Image); err != nil {
					fmt.Fprintln(os.Stderr, "remove image:", err)
				}
			})
		}
		img, err := e.docker.Cli.ImageInspect(ctx, o.Image)
		if err != nil {
			return err
		}
		e.imageID = img.ID
		e.machine.Docker = e.docker.Version
		// Whatever happens, no container of this invocation survives it.
		e.docker.RemoveLabelledOnCleanup(cl, benchLabel, e.runID)
	}
	fmt.Fprintln(os.Stderr, e.machine.Summary())

	var runs []*berthRun
	var swarms []*swarmRun
	var scale *scaleRun
	var vpc []*vpcRun
	var runErr error
loop:
	for rep := 1; rep <= max(o.repeat, o.processRepeat); rep++ {
		for _, ph := range o.phases {
			if ctx.Err() != nil {
				break loop
			}
			reps := o.repeat
			if ph == "process" {
				reps = o.processRepeat
			}
			if rep > reps {
				continue
			}
			switch ph {
			case "process", "docker":
				n := o.processTasks
				if ph == "docker" {
					n = o.dockerTasks
				}
				fmt.Fprintf(os.Stderr, "run %d/%d: berth, %s runtime, %d tasks ...\n", rep, reps, ph, n)
				r, err := runBerth(ctx, hard, e, ph, n, rep)
				if r != nil {
					runs = append(runs, r)
					printRun(r)
				}
				if errors.Is(err, harness.ErrTimeout) && ctx.Err() == nil {
					// A result, not a failure: the report says how many
					// tasks made it; the other runs go on.
					fmt.Fprintf(os.Stderr, "  %s run %d: %v\n", ph, rep, harness.FirstLine(err))
				} else if err != nil {
					runErr = fmt.Errorf("%s run %d: %w", ph, rep, err)
					break loop
				}
			case "swarm":
				fmt.Fprintf(os.Stderr, "run %d/%d: Docker Swarm, %d replicas ...\n", rep, reps, o.dockerTasks)
				r, err := runSwarmPhase(ctx, hard, e, rep)
				if r != nil {
					swarms = append(swarms, r)
					printSwarm(r)
				}
				if errors.Is(err, harness.ErrTimeout) && ctx.Err() == nil {
					fmt.Fprintf(os.Stderr, "  swarm run %d: %v\n", rep, harness.FirstLine(err))
				} else if err != nil {
					runErr = fmt.Errorf("swarm run %d: %w", rep, err)
					break loop
				}
			}
		}
	}
	for _, ph := range o.phases {
		rt, ok := strings.CutPrefix(ph, "awsvpc-")
		if !ok || runErr != nil || ctx.Err() != nil {
			continue
		}
		fmt.Fprintf(os.Stderr, "awsvpc against bridge, %s runtime: %d rounds of %v tasks ...\n", rt, o.vpcRounds, o.vpcSizes)
		r, err := runAwsvpc(ctx, hard, e, rt)
		vpc = append(vpc, r)
		if err != nil {
			runErr = fmt.Errorf("awsvpc %s run: %w", rt, err)
		}
	}
	if o.stateScale && runErr == nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "state scale: %d fake instances, %d tasks ...\n", o.scaleInstances, o.scaleTasks)
		scale, runErr = runScale(ctx, hard, e)
		if errors.Is(runErr, harness.ErrTimeout) && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "  state-scale run: %v\n", harness.FirstLine(runErr))
			runErr = nil
		} else if runErr != nil {
			runErr = fmt.Errorf("state-scale run: %w", runErr)
		}
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = errors.New("interrupted")
	}
	if len(runs) == 0 && len(swarms) == 0 && scale == nil && len(vpc) == 0 {
		return runErr
	}
	rep := &report{o: o, e: e, runs: runs, swarms: swarms, scale: scale, vpc: vpc}
	if err := harness.WriteReport(rep.text(), rep.markdown(), o.Out); err != nil {
		return err
	}
	return runErr
}

// runBerth starts a server and an agent of runtime rt, launches n tasks,
// stops them, and stops everything it started.
func runBerth(ctx, hard context.Context, e *env, rt string, n, rep int) (r *berthRun, err error) {
	o := e.o
	dir, err := os.MkdirTemp(e.root, fmt.Sprintf("%s-%d-", rt, rep))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := harness.StartServer(ctx, e.berth, dir, o.Region)
	if err != nil {
		return nil, err
	}
	r = &berthRun{runtime: rt, rep: rep, heapPeak: -1}
	defer func() {
		srv.StopInto(30*time.Second, &err)
		if err != nil {
			r.err = err.Error()
		}
	}()
	c, err := harness.NewClient(ctx, srv, o.callers+8)
	if err != nil {
		return r, err
	}
	cluster := "bench-launch-" + rt
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return r, err
	}
	var extra []string
	extra = append(extra, "--stop-timeout", o.stopTimeout.String())
	if rt == "docker" {
		// The image is local, as for Swarm (--no-resolve-image, image ID):
		// no task asks a registry.
		extra = append(extra, "--image-pull-behavior", "prefer-cached")
	}
	ag, err := harness.StartAgent(e.berth, srv, dir, cluster, rt, extra...)
	if err != nil {
		return r, err
	}
	defer func() {
		if aerr := ag.Stop(30 * time.Second); aerr != nil && err == nil {
			err = aerr
		}
		if rt == "process" {
			if k := killStrays(ag.DataDir); k > 0 {
				fmt.Fprintf(os.Stderr, "  killed %d leftover processes of the process runtime\n", k)
				if err == nil {
					err = fmt.Errorf("%d process-runtime processes were still running after the run", k)
				}
			}
		}
		if rt == "docker" {
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if _, rerr := e.docker.RemoveLabelled(cctx, benchLabel, e.runID); rerr != nil && err == nil {
				err = rerr
			}
		}
		if t := ag.LogTail(3000); err != nil && strings.TrimSpace(t) != "" {
			err = fmt.Errorf("%w\nagent log (end):\n%s", err, t)
		}
	}()
	fmt.Fprintf(os.Stderr, "  server pid %d, agent pid %d, data under %s\n", srv.Pid(), ag.Pid(), dir)
	ci, err := harness.WaitInstance(ctx, c, cluster, ag, 60*time.Second)
	if err != nil {
		return r, err
	}
	r.regMemory, r.regCPU = harness.Resource(ci, "MEMORY", true), harness.Resource(ci, "CPU", true)
	if need := int64(n) * int64(o.memory); need > int64(r.regMemory) {
		return r, fmt.Errorf("%d tasks of %d MiB need %d MiB; the agent registered %d MiB (lower --task-memory)", n, o.memory, need, r.regMemory)
	}
	if need := int64(n) * int64(o.cpu); need > int64(r.regCPU) {
		return r, fmt.Errorf("%d tasks of %d cpu units need %d; the agent registered %d (lower --task-cpu)", n, o.cpu, need, r.regCPU)
	}
	image := o.Image
	if rt == "process" {
		image = "berth-testapp" // recorded, never pulled
	}
	family := "bench-launch-" + rt
	td, err := c.RegisterTaskDefinition(ctx, taskDef(family, rt, image, e.testapp, e.runID, int32(o.memory), int32(o.cpu)))
	if err != nil {
		return r, err
	}
	tdRef := fmt.Sprintf("%s:%d", family, td.TaskDefinition.Revision)

	harness.Sleep(ctx, o.settle)
	r.server.idle, r.agent.idle = harness.ReadProcStatus(srv.Pid()), harness.ReadProcStatus(ag.Pid())
	r.availIdle = harness.MemAvailableMiB()
	var c0, cPeak, cSteady harness.CPUSample
	lo := launchOpts{
		cluster: cluster, taskDef: tdRef, count: n, perCall: o.perCall, callers: o.callers,
		poll: o.poll, timeout: o.timeout, startBy: "bench-launch",
		progress: func(s string) { fmt.Fprintf(os.Stderr, "  %s\n", s) },
		onPeak: func() {
			cPeak = harness.SampleCPU(srv.Proc, ag.Proc)
			r.server.peak, r.agent.peak = harness.ReadProcStatus(srv.Pid()), harness.ReadProcStatus(ag.Pid())
			r.availPeak = harness.MemAvailableMiB()
			r.heapPeak = harness.ServerHeap(ctx, srv)
			// Steady state: every task runs, nothing changes.
			harness.Sleep(ctx, o.settle)
			cSteady = harness.SampleCPU(srv.Proc, ag.Proc)
		},
	}
	c0 = harness.SampleCPU(srv.Proc, ag.Proc)
	m0 := harness.ReadMetrics(ctx, srv)
	res, lerr := launchAndStop(ctx, hard, c, lo)
	r.res = res
	r.api = apiTime(m0, harness.ReadMetrics(hard, srv))
	if !cPeak.At.IsZero() {
		r.launchCPU, r.steadyCPU = harness.Window(c0, cPeak), harness.Window(cPeak, cSteady)
		r.stopCPU = harness.Window(cSteady, harness.SampleCPU(srv.Proc, ag.Proc))
	}
	if lerr == nil || errors.Is(lerr, harness.ErrTimeout) {
		// The tasks were stopped (or given up on): memory after the run.
		harness.Sleep(hard, o.settle)
		r.server.after, r.agent.after = harness.ReadProcStatus(srv.Pid()), harness.ReadProcStatus(ag.Pid())
	}
	if lerr != nil {
		return r, lerr
	}
	if !ag.Running() {
		return r, fmt.Errorf("%s exited during the run (%v)", ag.Name, ag.Err)
	}
	if !srv.Running() {
		return r, fmt.Errorf("berth server exited during the run (%v)", srv.Err)
	}
	return r, nil
}

// runSwarmPhase is one Swarm run: join (if needed), service, leave.
func runSwarmPhase(ctx, hard context.Context, e *env, rep int) (r *swarmRun, err error) {
	o := e.o
	r = &swarmRun{rep: rep}
	sess, initTime, err := e.docker.JoinSwarm(ctx)
	if err != nil {
		r.err = err.Error()
		return r, err
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		took, lerr := sess.Leave(lctx)
		if r.res != nil {
			r.res.leaveTime = took
		}
		if lerr != nil && err == nil {
			err = lerr
		}
		if err != nil {
			r.err = err.Error()
		}
	}()
	name := fmt.Sprintf("berth-bench-launch-%s-%d", e.runID, rep)
	res, err := runSwarm(ctx, e.docker, name, e.imageID, e.runID, o.dockerTasks, int64(o.memory), o.poll, o.timeout)
	res.initTime = initTime
	r.res = res
	return r, err
}

// launchOps are the API operations whose server-side time a launch run
// reports.
var launchOps = []string{"RunTask", "SubmitTaskStateChange", "SubmitContainerStateChange", "DescribeTasks", "StopTask"}

// apiTime is the server-side time of the API calls between two samples:
// "RunTask 100 × 3.1 ms, ..." for the operations the launch uses.
func apiTime(a, b harness.MetricsSample) string { return harness.APITime(a, b, launchOps...) }

func printRun(r *berthRun) {
	if r.res == nil {
		return
	}
	l := r.res
	fmt.Fprintf(os.Stderr, "  %d/%d RUNNING in %s (%.1f tasks/s; last seen at %s); RunTask calls took %s; %d/%d STOPPED in %s\n",
		l.running, l.requested, harness.Secs(l.toRunning), l.rate(), harness.Secs(l.toRunningSeen), harness.Secs(l.runTaskTime), l.stopped, l.launched, harness.Secs(l.toStopped))
	fmt.Fprintf(os.Stderr, "  server RSS idle %s, peak %s, after %s MiB; agent RSS idle %s, peak %s, after %s MiB\n",
		harness.MiB(r.server.idle.RSSKiB), harness.MiB(r.server.peak.RSSKiB), harness.MiB(r.server.after.RSSKiB),
		harness.MiB(r.agent.idle.RSSKiB), harness.MiB(r.agent.peak.RSSKiB), harness.MiB(r.agent.after.RSSKiB))
	fmt.Fprintf(os.Stderr, "  CPU launching: %s\n  CPU all running: %s\n  CPU stopping: %s\n  server-side API time: %s\n",
		r.launchCPU, r.steadyCPU, r.stopCPU, r.api)
	printProblems(l)
}

func printProblems(l *launchResult) {
	if n := l.runTaskErrors + l.placementFailures + l.stopErrors; n > 0 {
		fmt.Fprintf(os.Stderr, "  %d RunTask errors, %d placement failures, %d StopTask errors\n", l.runTaskErrors, l.placementFailures, l.stopErrors)
	}
	if l.describeErrors > 0 {
		fmt.Fprintf(os.Stderr, "  %d of %d DescribeTasks polls failed (asked again at the next poll)\n", l.describeErrors, l.describeCalls)
	}
	for _, e := range l.firstErrors {
		fmt.Fprintf(os.Stderr, "  error: %s\n", e)
	}
	if len(l.failedToStart) > 0 {
		fmt.Fprintf(os.Stderr, "  %d tasks stopped before RUNNING, e.g. %s\n", len(l.failedToStart), l.failedToStart[0])
	}
	if len(l.stuck) > 0 {
		fmt.Fprintf(os.Stderr, "  %d tasks never RUNNING (%s), e.g. %s\n", len(l.stuck), statusCounts(l.stuck), l.stuck[0])
	}
	if len(l.notStopped) > 0 {
		fmt.Fprintf(os.Stderr, "  %d tasks never STOPPED (%s), e.g. %s\n", len(l.notStopped), statusCounts(l.notStopped), l.notStopped[0])
	}
}

func printSwarm(r *swarmRun) {
	if r.res == nil {
		return
	}
	s := r.res
	fmt.Fprintf(os.Stderr, "  %d/%d running in %s (%.1f tasks/s; seen at %s); service rm → containers gone %s; swarm init %s, leave %s\n  CPU launching: %s\n",
		s.running, s.requested, harness.Secs(s.toRunning), s.rate(), harness.Secs(s.toRunningSeen), harness.Secs(s.toGone), harness.Secs(s.initTime), harness.Secs(s.leaveTime), s.launchCPU)
	if s.failedTasks > 0 {
		fmt.Fprintf(os.Stderr, "  %d Swarm tasks failed, e.g. %s\n", s.failedTasks, s.failures[0])
	}
}
