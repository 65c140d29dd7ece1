package main

// The awsvpc runs (--phases awsvpc-process,awsvpc-docker): what the awsvpc
// network mode costs per task against bridge mode, on the same host, agent
// and runtime, in the same run. One server and one agent (--task-network
// on) run in a network namespace of the bench's own, so berth's bridge,
// veths and iptables rules never touch the machine's network; rounds
// alternate the two modes (bridge first in odd rounds, awsvpc first in even
// ones) for every size of --awsvpc-tasks, and the report gives medians and
// the ratio awsvpc/bridge of the time to RUNNING and to STOPPED.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/bench/internal/harness"
	"berth.dev/berth/internal/driver"
)

// vpcAddr is the address of the bench's namespace (server and agent).
const vpcAddr = "10.252.0.1"

// vpcNetwork is RunTask's network configuration of the awsvpc tasks.
var vpcNetwork = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-bench"}}}

// vpcLaunch is one launch-and-stop of n tasks in one network mode.
type vpcLaunch struct {
	mode  string // "bridge" or "awsvpc"
	tasks int
	round int
	res   *launchResult
	// CPU from the first RunTask to all RUNNING, and from then to all
	// STOPPED (no settle in between).
	launchCPU, stopCPU harness.CPUWindow
}

// vpcRun is the awsvpc comparison of one runtime.
type vpcRun struct {
	runtime  string
	launches []*vpcLaunch
	leftover string // what the clean-up found left behind
	err      string
}

// vpcSizes parses --awsvpc-tasks ("50,200").
func vpcSizes(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--awsvpc-tasks: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("--awsvpc-tasks: no size")
	}
	return out, nil
}

// vpcTaskDef is the task definition of mode on runtime rt: the test
// application as in taskDef; awsvpc tasks all serve containerPort 8080 (each
// has its own namespace), bridge tasks publish nothing (the process
// runtime's listen on an ephemeral loopback port of the agent's namespace).
func vpcTaskDef(family, mode, rt, image, binary, runID string, memory, cpu int32) *ecs.RegisterTaskDefinitionInput {
	in := taskDef(family, rt, image, binary, runID, memory, cpu)
	if mode == "awsvpc" {
		in.NetworkMode = types.NetworkModeAwsvpc
		c := &in.ContainerDefinitions[0]
		c.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}}
		if rt == "process" {
			c.Command = []string{"--listen", ":8080"}
		}
	}
	return in
}

// runAwsvpc is the awsvpc comparison of runtime rt: namespace, server,
// agent, the alternating rounds, and the clean-up of all of it.
func runAwsvpc(ctx, hard context.Context, e *env, rt string) (r *vpcRun, err error) {
	o := e.o
	r = &vpcRun{runtime: rt}
	defer func() {
		if err != nil {
			r.err = err.Error()
		}
	}()
	dir, err := os.MkdirTemp(e.root, "awsvpc-"+rt+"-")
	if err != nil {
		return r, err
	}
	// Removed last, once nothing is mounted under it any more.
	defer os.RemoveAll(dir)
	ns, err := harness.NewNetNS(fmt.Sprintf("berth-bench-%s-%s", e.runID, rt), vpcAddr)
	if err != nil {
		return r, fmt.Errorf("the awsvpc runs need network namespaces: %w", err)
	}
	defer func() {
		// The server and agent are stopped by now: whatever still runs in
		// the namespace is a leftover (Remove kills it).
		if pids := ns.Pids(); len(pids) > 0 {
			r.leftover = strings.TrimPrefix(r.leftover+fmt.Sprintf(", %d processes in the namespace (killed)", len(pids)), ", ")
			fmt.Fprintf(os.Stderr, "  clean-up: %d processes left in the namespace, killed\n", len(pids))
		}
		if rerr := ns.Remove(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	// A fresh account per run: its cluster ARN labels every container of
	// the run, pause containers included.
	account := fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)
	srv, err := harness.StartServerIn(ctx, ns, e.berth, dir, o.Region, "--account-id", account)
	if err != nil {
		return r, err
	}
	defer srv.StopInto(30*time.Second, &err)
	c, err := harness.NewClient(ctx, srv, o.callers+8)
	if err != nil {
		return r, err
	}
	cluster := "bench-awsvpc-" + rt
	cc, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)})
	if err != nil {
		return r, err
	}
	clusterArn := aws.ToString(cc.Cluster.ClusterArn)
	removeContainers := func() error {
		if e.docker == nil {
			return nil
		}
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, err := e.docker.RemoveLabelled(cctx, driver.LabelCluster, clusterArn)
		return err
	}
	extra := []string{"--stop-timeout", o.stopTimeout.String(), "--task-network", "on", "--host-address", vpcAddr}
	if rt == "docker" {
		extra = append(extra, "--image-pull-behavior", "prefer-cached")
	}
	if o.vpcLogs != "" {
		extra = append(extra, "--log-level", "info")
		defer func() {
			// Deferred before the agent's and server's stop: runs after.
			if err := os.MkdirAll(o.vpcLogs, 0o755); err != nil {
				fmt.Fprintln(os.Stderr, "keep logs:", err)
				return
			}
			for _, name := range []string{"server.log", "agent-" + rt + ".log"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
					dst := filepath.Join(o.vpcLogs, "awsvpc-"+rt+"-"+name)
					if err := os.WriteFile(dst, b, 0o644); err == nil {
						fmt.Fprintf(os.Stderr, "  kept %s\n", dst)
					}
				}
			}
		}()
	}
	ag, err := harness.StartAgentIn(ns, e.berth, srv, dir, cluster, rt, extra...)
	if err != nil {
		return r, err
	}
	defer func() {
		if aerr := ag.Stop(30 * time.Second); aerr != nil && err == nil {
			err = aerr
		}
		var left []string
		if rt == "process" {
			if k := killStrays(ag.DataDir); k > 0 {
				left = append(left, fmt.Sprintf("%d process-runtime processes killed", k))
			}
			if n := harness.UnmountUnder(harness.ProcessNetNSDir(ag.DataDir)); n > 0 {
				left = append(left, fmt.Sprintf("%d task namespace mounts", n))
			}
		}
		if rerr := removeContainers(); rerr != nil && err == nil {
			err = rerr
		}
		r.leftover = strings.Join(left, ", ")
		if r.leftover != "" {
			fmt.Fprintf(os.Stderr, "  clean-up found: %s\n", r.leftover)
		}
		if t := ag.LogTail(3000); err != nil && strings.TrimSpace(t) != "" {
			err = fmt.Errorf("%w\nagent log (end):\n%s", err, t)
		}
	}()
	fmt.Fprintf(os.Stderr, "  namespace %s, server pid %d, agent pid %d, data under %s\n", ns.Name, srv.Pid(), ag.Pid(), dir)
	ci, err := harness.WaitInstance(ctx, c, cluster, ag, 60*time.Second)
	if err != nil {
		return r, err
	}
	maxN := 0
	for _, n := range o.vpcSizes {
		maxN = max(maxN, n)
	}
	if need, have := int64(maxN)*int64(o.memory), int64(harness.Resource(ci, "MEMORY", true)); need > have {
		return r, fmt.Errorf("%d tasks of %d MiB need %d MiB; the agent registered %d MiB (lower --task-memory)", maxN, o.memory, need, have)
	}
	image := o.Image
	if rt == "process" {
		image = "berth-testapp" // recorded, never pulled
	}
	defs := map[string]string{}
	for _, mode := range []string{"bridge", "awsvpc"} {
		family := "bench-" + mode + "-" + rt
		td, err := c.RegisterTaskDefinition(ctx, vpcTaskDef(family, mode, rt, image, e.testapp, e.runID, int32(o.memory), int32(o.cpu)))
		if err != nil {
			return r, err
		}
		defs[mode] = fmt.Sprintf("%s:%d", family, td.TaskDefinition.Revision)
	}
	harness.Sleep(ctx, o.settle)
	for round := 1; round <= o.vpcRounds; round++ {
		modes := []string{"bridge", "awsvpc"}
		if round%2 == 0 {
			modes = []string{"awsvpc", "bridge"}
		}
		for _, n := range o.vpcSizes {
			for _, mode := range modes {
				if ctx.Err() != nil {
					return r, ctx.Err()
				}
				fmt.Fprintf(os.Stderr, "awsvpc %s round %d/%d: %s, %d tasks ...\n", rt, round, o.vpcRounds, mode, n)
				l := &vpcLaunch{mode: mode, tasks: n, round: round}
				var cPeak harness.CPUSample
				lo := launchOpts{
					cluster: cluster, taskDef: defs[mode], count: n, perCall: o.perCall, callers: o.callers,
					poll: o.poll, timeout: o.timeout, startBy: "bench-awsvpc",
					progress: func(s string) { fmt.Fprintf(os.Stderr, "  %s\n", s) },
					onPeak:   func() { cPeak = harness.SampleCPU(srv.Proc, ag.Proc) },
				}
				if mode == "awsvpc" {
					lo.network = vpcNetwork
				}
				c0 := harness.SampleCPU(srv.Proc, ag.Proc)
				res, lerr := launchAndStop(ctx, hard, c, lo)
				l.res = res
				if !cPeak.At.IsZero() {
					l.launchCPU, l.stopCPU = harness.Window(c0, cPeak), harness.Window(cPeak, harness.SampleCPU(srv.Proc, ag.Proc))
				}
				r.launches = append(r.launches, l)
				printVPCLaunch(l)
				if lerr != nil && !errors.Is(lerr, harness.ErrTimeout) {
					return r, lerr
				}
				if !ag.Running() {
					return r, fmt.Errorf("%s exited during the run (%v)", ag.Name, ag.Err)
				}
				// Stopped tasks keep their containers for the agent's
				// clean-up wait (3 h): the next launch starts on an empty
				// engine, as the first did.
				if err := removeContainers(); err != nil {
					return r, err
				}
				harness.Sleep(ctx, o.vpcPause)
			}
		}
	}
	return r, nil
}

func printVPCLaunch(l *vpcLaunch) {
	if l.res == nil {
		return
	}
	s := l.res
	fmt.Fprintf(os.Stderr, "  %d/%d RUNNING in %s (%.1f tasks/s); %d/%d STOPPED in %s (%.1f tasks/s)\n  CPU launching: %s\n  CPU stopping: %s\n",
		s.running, s.requested, harness.Secs(s.toRunning), s.rate(), s.stopped, s.launched, harness.Secs(s.toStopped), s.stopRate(), l.launchCPU, l.stopCPU)
	printProblems(s)
}

// vpcRow is the medians of one runtime, size and mode.
type vpcRow struct {
	runtime, mode        string
	tasks, rounds        int
	running, requested   int
	toRun, rate, toStop  float64
	stopRate             float64
	launchCPU, stopCPU   harness.CPUWindow
	ratioRun, ratioStop  float64 // awsvpc rows: ratio of the medians to bridge's
	pairedRun, pairedStp float64 // awsvpc rows: median of the per-round ratios
}

func (r *vpcRun) rows() []vpcRow {
	var out []vpcRow
	sizes := []int{}
	for _, l := range r.launches {
		if !containsInt(sizes, l.tasks) {
			sizes = append(sizes, l.tasks)
		}
	}
	for _, n := range sizes {
		var bridge vpcRow
		for _, mode := range []string{"bridge", "awsvpc"} {
			var ls []*vpcLaunch
			for _, l := range r.launches {
				if l.tasks == n && l.mode == mode && l.res != nil && l.res.complete() {
					ls = append(ls, l)
				}
			}
			row := vpcRow{runtime: r.runtime, mode: mode, tasks: n, rounds: len(ls)}
			for _, l := range r.launches {
				if l.tasks == n && l.mode == mode && l.res != nil {
					row.running += l.res.running
					row.requested += l.res.requested
				}
			}
			if len(ls) > 0 {
				row.toRun = harness.Med(ls, func(l *vpcLaunch) float64 { return l.res.toRunning.Seconds() })
				row.rate = harness.Med(ls, func(l *vpcLaunch) float64 { return l.res.rate() })
				row.toStop = harness.Med(ls, func(l *vpcLaunch) float64 { return l.res.toStopped.Seconds() })
				row.stopRate = harness.Med(ls, func(l *vpcLaunch) float64 { return l.res.stopRate() })
				row.launchCPU = harness.MedWindow(harness.Collect(ls, func(l *vpcLaunch) harness.CPUWindow { return l.launchCPU }))
				row.stopCPU = harness.MedWindow(harness.Collect(ls, func(l *vpcLaunch) harness.CPUWindow { return l.stopCPU }))
			}
			if mode == "bridge" {
				bridge = row
			} else {
				if bridge.toRun > 0 {
					row.ratioRun = row.toRun / bridge.toRun
				}
				if bridge.toStop > 0 {
					row.ratioStop = row.toStop / bridge.toStop
				}
				row.pairedRun, row.pairedStp = r.paired(n)
			}
			if row.requested > 0 {
				out = append(out, row)
			}
		}
	}
	return out
}

// paired is the median, over the rounds where both modes of n tasks
// completed, of awsvpc's time over bridge's (to RUNNING, to STOPPED).
func (r *vpcRun) paired(n int) (float64, float64) {
	var run, stop []float64
	for round := 1; ; round++ {
		var b, a *launchResult
		found := false
		for _, l := range r.launches {
			if l.round != round || l.tasks != n {
				continue
			}
			found = true
			if l.res == nil || !l.res.complete() {
				continue
			}
			if l.mode == "bridge" {
				b = l.res
			} else {
				a = l.res
			}
		}
		if !found {
			break
		}
		if a != nil && b != nil && b.toRunning > 0 && b.toStopped > 0 {
			run = append(run, a.toRunning.Seconds()/b.toRunning.Seconds())
			stop = append(stop, a.toStopped.Seconds()/b.toStopped.Seconds())
		}
	}
	return harness.Median(run), harness.Median(stop)
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (r vpcRow) cells() []string {
	ratio := func(x float64) string {
		if r.mode != "awsvpc" || x == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f×", x)
	}
	return []string{r.runtime, fmt.Sprint(r.tasks), r.mode, fmt.Sprint(r.rounds), fmt.Sprintf("%d/%d", r.running, r.requested),
		harness.F2(r.toRun), harness.F1(r.rate), ratio(r.ratioRun), ratio(r.pairedRun),
		harness.F2(r.toStop), harness.F1(r.stopRate), ratio(r.ratioStop), ratio(r.pairedStp),
		harness.F2(r.launchCPU.Agent), harness.F2(r.launchCPU.Server), harness.F2(r.launchCPU.Tasks + r.launchCPU.Engine), harness.F2(r.launchCPU.Other),
		harness.F2(r.stopCPU.Agent)}
}

var vpcHeader = []string{"runtime", "tasks", "mode", "rounds", "RUNNING (all rounds)", "to RUNNING s", "tasks/s", "awsvpc/bridge (medians)", "awsvpc/bridge (paired)",
	"to STOPPED s", "stop tasks/s", "awsvpc/bridge (medians)", "awsvpc/bridge (paired)",
	"launching: agent cores", "server", "runtime", "other", "stopping: agent cores"}

// vpcText is the awsvpc part of the text report.
func (rp *report) vpcText() string {
	if len(rp.vpc) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "awsvpc against bridge (medians of %d alternating rounds)\n", rp.o.vpcRounds)
	if rows := rp.vpcRows(); len(rows) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, strings.Join(vpcHeader, "\t")+"\t")
		for _, row := range rows {
			fmt.Fprintln(tw, strings.Join(row.cells(), "\t")+"\t")
		}
		tw.Flush()
	}
	for _, v := range rp.vpc {
		if v.err != "" {
			fmt.Fprintf(&b, "  %s runtime: %s\n", v.runtime, harness.FirstLine(errors.New(v.err)))
		}
	}
	for _, t := range rp.vpcTargets() {
		fmt.Fprintf(&b, "  %s\n", t)
	}
	b.WriteString("\n")
	return b.String()
}

// vpcMarkdown is the awsvpc part of the Markdown report.
func (rp *report) vpcMarkdown() string {
	if len(rp.vpc) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "awsvpc against bridge: %d rounds, each launching every size in both modes (bridge first in odd rounds, awsvpc first in even ones), one server and one agent (`--task-network on`) in a network namespace; medians of the rounds where every task reached RUNNING; \"paired\" is the median of the per-round ratios.\n\n", rp.o.vpcRounds)
	if rows := rp.vpcRows(); len(rows) > 0 {
		b.WriteString("| " + strings.Join(vpcHeader, " | ") + " |\n|---|---:|---|" + strings.Repeat("---:|", len(vpcHeader)-3) + "\n")
		for _, row := range rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row.cells(), " | "))
		}
		b.WriteString("\n")
	}
	for _, t := range rp.vpcTargets() {
		fmt.Fprintf(&b, "- %s\n", t)
	}
	b.WriteString("\nEvery awsvpc-comparison launch (seconds to RUNNING / to STOPPED):\n\n")
	for _, v := range rp.vpc {
		var parts []string
		for _, l := range v.launches {
			if l.res == nil {
				continue
			}
			p := fmt.Sprintf("r%d %s %d: %s/%s", l.round, l.mode, l.tasks, harness.F2(l.res.toRunning.Seconds()), harness.F2(l.res.toStopped.Seconds()))
			if !l.res.complete() || len(l.res.notStopped) > 0 {
				p += fmt.Sprintf(" (%d/%d RUNNING, %d not STOPPED)", l.res.running, l.res.requested, len(l.res.notStopped))
			}
			parts = append(parts, p)
		}
		fmt.Fprintf(&b, "- %s: %s\n", v.runtime, strings.Join(parts, "; "))
		if v.leftover != "" {
			fmt.Fprintf(&b, "  - clean-up found: %s\n", v.leftover)
		}
		if v.err != "" {
			fmt.Fprintf(&b, "  - error: %s\n", harness.OneLine(v.err))
		}
	}
	b.WriteString("\n")
	return b.String()
}

func (rp *report) vpcRows() []vpcRow {
	var rows []vpcRow
	for _, v := range rp.vpc {
		rows = append(rows, v.rows()...)
	}
	return rows
}

// vpcTargets: awsvpc costs at most --target-awsvpc-ratio × bridge per task.
func (rp *report) vpcTargets() []string {
	var out []string
	for _, v := range rp.vpc {
		for _, row := range v.rows() {
			if row.mode != "awsvpc" || row.ratioRun == 0 {
				continue
			}
			out = append(out, fmt.Sprintf("awsvpc ≤ %.1f× bridge per task to RUNNING (%s runtime, %d tasks): %.2f× (paired %.2f×), %s",
				rp.o.targetVPCRatio, v.runtime, row.tasks, row.ratioRun, row.pairedRun, verdict(row.ratioRun <= rp.o.targetVPCRatio)))
		}
	}
	return out
}
