package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"berth.dev/berth/bench/internal/harness"
)

type report struct {
	o      *options
	e      *env
	runs   []*berthRun
	swarms []*swarmRun
	scale  *scaleRun
	vpc    []*vpcRun
}

func (rp *report) byRuntime(rt string) []*berthRun {
	var out []*berthRun
	for _, r := range rp.runs {
		if r.runtime == rt && r.res != nil {
			out = append(out, r)
		}
	}
	return out
}

func (rp *report) swarmDone() []*swarmRun {
	var out []*swarmRun
	for _, s := range rp.swarms {
		if s.res != nil && s.res.running > 0 {
			out = append(out, s)
		}
	}
	return out
}

func kib2mib(k int64) float64 { return float64(k) / 1024 }

// launchRow is one row of the launch table (medians of the runs).
type launchRow struct {
	name                                         string
	tasks, runs                                  int
	running, requested                           int // over all runs
	rate, toRun, seen, runTask, stopRate, toStop float64
	failed                                       int
	launch, steady                               harness.CPUWindow
	swarm                                        bool
	gone                                         float64
}

func (rp *report) launchRows() []launchRow {
	var rows []launchRow
	for _, rt := range []string{"process", "docker"} {
		rs := rp.byRuntime(rt)
		if len(rs) == 0 {
			continue
		}
		row := launchRow{name: "berth, " + rt + " runtime", tasks: rs[0].res.requested, runs: len(rs),
			rate:     harness.Med(rs, func(r *berthRun) float64 { return r.res.rate() }),
			toRun:    harness.Med(rs, func(r *berthRun) float64 { return r.res.toRunning.Seconds() }),
			seen:     harness.Med(rs, func(r *berthRun) float64 { return r.res.toRunningSeen.Seconds() }),
			runTask:  harness.Med(rs, func(r *berthRun) float64 { return r.res.runTaskTime.Seconds() }),
			stopRate: harness.Med(rs, func(r *berthRun) float64 { return r.res.stopRate() }),
			toStop:   harness.Med(rs, func(r *berthRun) float64 { return r.res.toStopped.Seconds() }),
			launch:   harness.MedWindow(harness.Collect(rs, func(r *berthRun) harness.CPUWindow { return r.launchCPU })),
			steady:   harness.MedWindow(harness.Collect(rs, func(r *berthRun) harness.CPUWindow { return r.steadyCPU })),
		}
		for _, r := range rs {
			row.failed += len(r.res.failedToStart) + len(r.res.stuck) + r.res.placementFailures + r.res.runTaskErrors
			row.running += r.res.running
			row.requested += r.res.requested
		}
		rows = append(rows, row)
	}
	if ss := rp.swarmDone(); len(ss) > 0 {
		row := launchRow{name: "Docker Swarm", tasks: ss[0].res.requested, runs: len(ss), swarm: true,
			rate:   harness.Med(ss, func(s *swarmRun) float64 { return s.res.rate() }),
			toRun:  harness.Med(ss, func(s *swarmRun) float64 { return s.res.toRunning.Seconds() }),
			seen:   harness.Med(ss, func(s *swarmRun) float64 { return s.res.toRunningSeen.Seconds() }),
			gone:   harness.Med(ss, func(s *swarmRun) float64 { return s.res.toGone.Seconds() }),
			launch: harness.MedWindow(harness.Collect(ss, func(s *swarmRun) harness.CPUWindow { return s.res.launchCPU })),
		}
		for _, s := range ss {
			row.failed += s.res.failedTasks
			row.running += min(s.res.running, s.res.requested)
			row.requested += s.res.requested
		}
		rows = append(rows, row)
	}
	return rows
}

// ratio is berth's Docker-runtime rate over Swarm's (medians), 0 if unknown.
func (rp *report) ratio() float64 {
	d, s := rp.byRuntime("docker"), rp.swarmDone()
	if len(d) == 0 || len(s) == 0 {
		return 0
	}
	sr := harness.Med(s, func(s *swarmRun) float64 { return s.res.rate() })
	if sr == 0 {
		return 0
	}
	return harness.Med(d, func(r *berthRun) float64 { return r.res.rate() }) / sr
}

// cells are the row's columns as text. "runtime" is the CPU of the
// process runtime's shims and workloads, or of the Docker engine and its
// containers; "other" is every other process on the machine.
func (r launchRow) cells() []string {
	c := []string{r.name, fmt.Sprint(r.tasks), fmt.Sprint(r.runs), fmt.Sprintf("%d/%d", r.running, r.requested), harness.F1(r.rate), harness.F2(r.toRun), harness.F2(r.seen)}
	if r.swarm {
		c = append(c, "-", "-", fmt.Sprintf("(service rm → gone %s)", harness.F2(r.gone)), fmt.Sprint(r.failed),
			"-", "-", harness.F2(r.launch.Tasks+r.launch.Engine), harness.F2(r.launch.Other), "-", "-")
		return c
	}
	return append(c, harness.F2(r.runTask), harness.F1(r.stopRate), harness.F2(r.toStop), fmt.Sprint(r.failed),
		harness.F2(r.launch.Server), harness.F2(r.launch.Agent), harness.F2(r.launch.Tasks+r.launch.Engine), harness.F2(r.launch.Other),
		harness.F2(r.steady.Agent), harness.F2(r.steady.Tasks+r.steady.Engine))
}

func (rp *report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", rp.e.machine.Summary())
	rows := rp.launchRows()
	if len(rows) > 0 {
		fmt.Fprintf(&b, "Launch to RUNNING (medians of the runs)\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "run\ttasks\truns\tRUNNING\ttasks/s\tto RUNNING s\tlast seen s\tRunTask calls s\tstop tasks/s\tto STOPPED s\tfailed\t"+
			"launching: server\tagent\truntime\tother\tall running: agent\truntime\t")
		for _, r := range rows {
			for _, c := range r.cells() {
				fmt.Fprintf(tw, "%s\t", c)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		if x := rp.ratio(); x > 0 {
			fmt.Fprintf(&b, "berth Docker runtime / Swarm: %.2f×\n", x)
		}
		b.WriteString("\n")
	}
	if mem := rp.memoryRows(); len(mem) > 0 {
		fmt.Fprintf(&b, "Memory (RSS, MiB, medians)\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "process\trun\tidle\tpeak\tafter\tVmHWM\t")
		for _, m := range mem {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", m[0], m[1], m[2], m[3], m[4], m[5])
		}
		tw.Flush()
		b.WriteString("\n")
	}
	if s := rp.scale; s != nil && s.res != nil {
		fmt.Fprintf(&b, "State scale: %d fake instances, %d tasks\n", s.instances, s.tasks)
		for _, l := range rp.scaleLines() {
			fmt.Fprintf(&b, "  %s\n", l)
		}
		b.WriteString("\n")
	}
	b.WriteString(rp.vpcText())
	if !rp.onlyVPC() {
		fmt.Fprintf(&b, "Targets (measured, not asserted)\n")
		for _, t := range rp.targets() {
			fmt.Fprintf(&b, "  %s\n", t)
		}
	}
	return b.String()
}

// onlyVPC reports whether the awsvpc runs are all there is to report.
func (rp *report) onlyVPC() bool {
	return len(rp.runs) == 0 && len(rp.swarms) == 0 && rp.scale == nil
}

// memoryRows: process, run, idle, peak, after, VmHWM (MiB, medians).
func (rp *report) memoryRows() [][6]string {
	var out [][6]string
	for _, rt := range []string{"process", "docker"} {
		rs := rp.byRuntime(rt)
		if len(rs) == 0 {
			continue
		}
		peak := fmt.Sprintf("%s (%d tasks)", rt, rs[0].res.requested)
		for _, who := range []string{"server", "agent"} {
			u := func(r *berthRun) usage {
				if who == "server" {
					return r.server
				}
				return r.agent
			}
			out = append(out, [6]string{who, peak,
				harness.F1(harness.MedPos(rs, func(r *berthRun) float64 { return kib2mib(u(r).idle.RSSKiB) })),
				harness.F1(harness.MedPos(rs, func(r *berthRun) float64 { return kib2mib(u(r).peak.RSSKiB) })),
				harness.F1(harness.MedPos(rs, func(r *berthRun) float64 { return kib2mib(u(r).after.RSSKiB) })),
				harness.F1(harness.MedPos(rs, func(r *berthRun) float64 { return kib2mib(max(u(r).after.HWMKiB, u(r).peak.HWMKiB)) })),
			})
		}
	}
	return out
}

func (rp *report) scaleLines() []string {
	s := rp.scale
	l := s.res
	heap := func(x float64) string {
		if x < 0 {
			return "?"
		}
		return harness.F1(x / (1 << 20))
	}
	lines := []string{
		fmt.Sprintf("register %d instances: %s; open their %d agent streams: %s", s.instances, harness.Secs(s.registerTime), s.instances, harness.Secs(s.connectTime)),
		fmt.Sprintf("%d/%d tasks RUNNING in %s: %.1f tasks/s (control plane only: fake agents report RUNNING at once); server CPU %.2f cores, bench CPU %.2f cores",
			l.running, l.requested, harness.Secs(l.toRunning), l.rate(), s.serverCPULaunch/max(l.toRunningSeen.Seconds(), 1e-9), s.benchCPULaunch/max(l.toRunningSeen.Seconds(), 1e-9)),
		fmt.Sprintf("RunTask calls (all %d): %s; %d STOPPED in %s: %.1f tasks/s", l.requested/max(rp.o.perCall, 1), harness.Secs(l.runTaskTime), l.stopped, harness.Secs(l.toStopped), l.stopRate()),
		fmt.Sprintf("server-side API time (mean per call, launch and stop): %s", s.api),
		fmt.Sprintf("server RSS MiB: idle %s; %d instances, no task %s; %d tasks RUNNING %s; all STOPPED (kept in state) %s; VmHWM %s",
			harness.MiB(s.idle.RSSKiB), s.instances, harness.MiB(s.instancesOnly.RSSKiB), l.running, harness.MiB(s.peak.RSSKiB), harness.MiB(s.after.RSSKiB), harness.MiB(max(s.after.HWMKiB, s.peak.HWMKiB))),
		fmt.Sprintf("server Go heap in use MiB: idle %s; instances %s; tasks RUNNING %s; STOPPED %s",
			heap(s.heapIdle), heap(s.heapInstances), heap(s.heapPeak), heap(s.heapAfter)),
	}
	if n := len(l.stuck) + len(l.failedToStart) + l.placementFailures + l.runTaskErrors + len(l.notStopped); n > 0 || s.fleetErrors > 0 {
		lines = append(lines, fmt.Sprintf("problems: %d stuck, %d failed to start, %d placement failures, %d RunTask errors, %d not stopped, %d fake-agent errors",
			len(l.stuck), len(l.failedToStart), l.placementFailures, l.runTaskErrors, len(l.notStopped), s.fleetErrors))
	}
	return lines
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

func (rp *report) targets() []string {
	o := rp.o
	var out []string
	if rs := rp.byRuntime("process"); len(rs) > 0 {
		rate := harness.Med(rs, func(r *berthRun) float64 { return r.res.rate() })
		s := fmt.Sprintf("process runtime ≥ %.0f tasks/s to RUNNING (%d tasks): %.1f tasks/s, %s", o.targetProcessRate, rs[0].res.requested, rate, verdict(rate >= o.targetProcessRate))
		if rate < o.targetProcessRate && rate > 0 {
			s += fmt.Sprintf(" (%.1f%% of the target)", 100*rate/o.targetProcessRate)
		}
		for _, r := range rs {
			if !r.res.complete() {
				s += fmt.Sprintf("; run %d: only %d of %d tasks RUNNING within %s", r.rep, r.res.running, r.res.requested, o.timeout)
			}
		}
		out = append(out, s)
	} else {
		out = append(out, "process runtime rate: not measured (--phases process)")
	}
	if x := rp.ratio(); x > 0 {
		out = append(out, fmt.Sprintf("Docker runtime ≥ %.1f× Swarm on the same engine: %.2f×, %s", o.targetRatio, x, verdict(x >= o.targetRatio)))
	} else {
		out = append(out, "Docker runtime / Swarm: not measured (--phases docker,swarm)")
	}
	if s := rp.scale; s != nil && s.res != nil {
		rss := kib2mib(s.peak.RSSKiB)
		hwm := kib2mib(max(s.after.HWMKiB, s.peak.HWMKiB))
		out = append(out, fmt.Sprintf("server RSS ≤ %.0f MiB with %d tasks and %d instances: %.1f MiB with all RUNNING (peak VmHWM %.1f MiB), %s",
			o.targetServerMiB, s.res.running, s.instances, rss, hwm, verdict(hwm <= o.targetServerMiB)))
	} else {
		out = append(out, "server RSS at 10,000 tasks and 1,000 instances: not measured (--state-scale)")
	}
	var idle []float64
	for _, rt := range []string{"process", "docker"} {
		if rs := rp.byRuntime(rt); len(rs) > 0 {
			v := harness.Med(rs, func(r *berthRun) float64 { return kib2mib(r.agent.idle.RSSKiB) })
			idle = append(idle, v)
			out = append(out, fmt.Sprintf("agent RSS ≤ %.0f MiB idle (%s runtime): %.1f MiB, %s", o.targetAgentMiB, rt, v, verdict(v <= o.targetAgentMiB)))
		}
	}
	if len(idle) == 0 {
		out = append(out, "agent idle RSS: not measured")
	}
	return out
}

func (rp *report) markdown() string {
	var b strings.Builder
	m := rp.e.machine
	fmt.Fprintf(&b, "### bench/launch, %s\n\n", m.When.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "%s. Tasks: the test application, one container, memory %d MiB, cpu %d; RunTask count %d from %d concurrent callers.\n\n",
		m.Summary(), rp.o.memory, rp.o.cpu, rp.o.perCall, rp.o.callers)
	if rows := rp.launchRows(); len(rows) > 0 {
		b.WriteString("| run | tasks | runs | RUNNING (all runs) | tasks/s to RUNNING | to RUNNING s | last seen s | RunTask calls s | stop tasks/s | to STOPPED s | failed | " +
			"launching: server cores | agent | runtime | other | all running: agent cores | runtime |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(r.cells(), " | "))
		}
		if x := rp.ratio(); x > 0 {
			fmt.Fprintf(&b, "\nberth Docker runtime / Swarm (ratio of the medians): **%.2f×**\n", x)
		}
		b.WriteString("\n")
	}
	if mem := rp.memoryRows(); len(mem) > 0 {
		b.WriteString("| RSS MiB (median) | run | idle | peak (all RUNNING) | after (all STOPPED) | VmHWM |\n|---|---|---:|---:|---:|---:|\n")
		for _, r := range mem {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3], r[4], r[5])
		}
		b.WriteString("\n")
	}
	if s := rp.scale; s != nil && s.res != nil {
		fmt.Fprintf(&b, "State scale (%d fake instances, %d tasks):\n\n", s.instances, s.tasks)
		for _, l := range rp.scaleLines() {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		b.WriteString("\n")
	}
	b.WriteString(rp.vpcMarkdown())
	if rp.onlyVPC() {
		return b.String()
	}
	b.WriteString("Targets (measured, not asserted):\n\n")
	for _, t := range rp.targets() {
		fmt.Fprintf(&b, "- %s\n", t)
	}
	if len(rp.runs) == 0 && len(rp.swarms) == 0 {
		return b.String()
	}
	b.WriteString("\nEvery run:\n\n| run | # | tasks/s | to RUNNING s | last seen s | to STOPPED s | server RSS idle/peak/after MiB | agent RSS idle/peak/after MiB | host MemAvailable drop at peak MiB | problems |\n|---|---:|---:|---:|---:|---:|---|---|---:|---|\n")
	for _, r := range rp.runs {
		if r.res == nil {
			fmt.Fprintf(&b, "| berth %s | %d | - | - | - | - | - | - | - | %s |\n", r.runtime, r.rep, harness.OneLine(r.err))
			continue
		}
		l := r.res
		fmt.Fprintf(&b, "| berth %s | %d | %s | %s | %s | %s | %s/%s/%s | %s/%s/%s | %d | %s |\n", r.runtime, r.rep, harness.F1(l.rate()), harness.F2(l.toRunning.Seconds()),
			harness.F2(l.toRunningSeen.Seconds()), harness.F2(l.toStopped.Seconds()),
			harness.MiB(r.server.idle.RSSKiB), harness.MiB(r.server.peak.RSSKiB), harness.MiB(r.server.after.RSSKiB),
			harness.MiB(r.agent.idle.RSSKiB), harness.MiB(r.agent.peak.RSSKiB), harness.MiB(r.agent.after.RSSKiB),
			r.availIdle-r.availPeak, problems(r))
	}
	for _, s := range rp.swarms {
		if s.res == nil {
			fmt.Fprintf(&b, "| Swarm | %d | - | - | - | - | - | - | - | %s |\n", s.rep, harness.OneLine(s.err))
			continue
		}
		p := "none"
		if s.res.failedTasks > 0 {
			p = fmt.Sprintf("%d failed tasks: %s", s.res.failedTasks, s.res.failures[0])
		}
		if s.err != "" {
			p = harness.OneLine(s.err)
		}
		fmt.Fprintf(&b, "| Swarm | %d | %s | %s | %s | (rm→gone %s) | - | - | - | %s |\n", s.rep, harness.F1(s.res.rate()), harness.F2(s.res.toRunning.Seconds()),
			harness.F2(s.res.toRunningSeen.Seconds()), harness.F2(s.res.toGone.Seconds()), p)
	}
	if len(rp.runs) > 0 {
		b.WriteString("\nServer-side API time per run (calls × mean latency, from the server's metrics):\n\n")
		for _, r := range rp.runs {
			fmt.Fprintf(&b, "- berth %s #%d: %s\n", r.runtime, r.rep, r.api)
		}
	}
	return b.String()
}

func problems(r *berthRun) string {
	l := r.res
	var p []string
	if l.runTaskErrors > 0 {
		p = append(p, fmt.Sprintf("%d RunTask errors", l.runTaskErrors))
	}
	if l.placementFailures > 0 {
		p = append(p, fmt.Sprintf("%d placement failures", l.placementFailures))
	}
	if len(l.failedToStart) > 0 {
		p = append(p, fmt.Sprintf("%d stopped before RUNNING", len(l.failedToStart)))
	}
	if len(l.stuck) > 0 {
		p = append(p, fmt.Sprintf("%d never RUNNING (%s)", len(l.stuck), statusCounts(l.stuck)))
	}
	if len(l.notStopped) > 0 {
		p = append(p, fmt.Sprintf("%d never STOPPED (%s)", len(l.notStopped), statusCounts(l.notStopped)))
	}
	if l.stopErrors > 0 {
		p = append(p, fmt.Sprintf("%d StopTask errors", l.stopErrors))
	}
	if r.err != "" {
		p = append(p, harness.OneLine(r.err))
	}
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, "; ")
}
