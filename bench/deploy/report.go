package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

type report struct {
	o       *options
	e       *env
	results []*result
}

// done are the completed runs of cfg and system.
func (rp *report) done(cfg config, system string) []*result {
	var out []*result
	for _, r := range rp.results {
		if r.cfg == cfg && r.system == system && r.ok() {
			out = append(out, r)
		}
	}
	return out
}

// medSecs is the median of f over rs, in seconds (unknown values, 0, left
// out).
func medSecs(rs []*result, f func(*result) time.Duration) float64 {
	return harness.MedPos(rs, func(r *result) float64 { return f(r).Seconds() })
}

// row is one configuration and system: medians of its runs.
type row struct {
	cfg     config
	system  string
	runs    int
	failed  int
	floor   float64
	create  float64
	first   float64 // first v2 task created
	last    float64 // last v2 container started
	toHlth  float64 // container start → healthy
	healthy float64 // all v2 healthy
	stopped float64 // all v1 stopped
	conv    float64
	compl   float64
	settle  float64
	minH    int
	maxL    int
	other   float64
}

func (rp *report) rows() []row {
	var rows []row
	for _, c := range rp.o.configs {
		p, _ := makePlan(c, rp.o.tasks)
		for _, sys := range rp.o.systems {
			rs := rp.done(c, sys)
			rw := row{cfg: c, system: sys, runs: len(rs), floor: p.floor(rp.o.healthInterval).Seconds(), minH: -1, maxL: -1}
			for _, r := range rp.results {
				if r.cfg == c && r.system == sys && !r.ok() {
					rw.failed++
				}
			}
			if len(rs) == 0 {
				if rw.failed > 0 {
					rows = append(rows, rw)
				}
				continue
			}
			rw.create = medSecs(rs, func(r *result) time.Duration { return r.create })
			rw.first = medSecs(rs, func(r *result) time.Duration { return r.firstNew })
			rw.last = medSecs(rs, func(r *result) time.Duration { return r.lastStart })
			rw.toHlth = medSecs(rs, func(r *result) time.Duration { return r.startToHealthy })
			rw.healthy = medSecs(rs, func(r *result) time.Duration { return r.allHealthy })
			rw.stopped = medSecs(rs, func(r *result) time.Duration { return r.oldStopped })
			rw.conv = medSecs(rs, func(r *result) time.Duration { return r.converged() })
			rw.compl = medSecs(rs, func(r *result) time.Duration { return r.completed })
			rw.settle = harness.Med(rs, func(r *result) float64 { return r.settle().Seconds() })
			rw.other = harness.Med(rs, func(r *result) float64 { return r.cpu.Other })
			rw.minH, rw.maxL = rs[0].minHealthy, rs[0].maxLive
			for _, r := range rs {
				rw.minH, rw.maxL = min(rw.minH, r.minHealthy), max(rw.maxL, r.maxLive)
			}
			rows = append(rows, rw)
		}
	}
	return rows
}

func systemName(s string) string {
	if s == "swarm" {
		return "Docker Swarm"
	}
	return "berth"
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

var header = []string{"config", "system", "runs", "create s", "first v2 task s", "last v2 start s", "start→healthy s",
	"all v2 healthy s", "v1 stopped s", "converged s", "COMPLETED s", "floor s", "COMPLETED / floor", "settle s", "healthy ≥ / live ≤", "other CPU"}

func (r row) cells() []string {
	c := []string{r.cfg.String(), systemName(r.system), fmt.Sprintf("%d", r.runs)}
	if r.failed > 0 {
		c[2] += fmt.Sprintf(" (+%d failed)", r.failed)
	}
	if r.runs == 0 {
		for len(c) < len(header) {
			c = append(c, "-")
		}
		return c
	}
	return append(c, harness.F1(r.create), harness.F2(r.first), harness.F2(r.last), harness.F2(r.toHlth),
		harness.F2(r.healthy), harness.F2(r.stopped), harness.F2(r.conv), harness.F2(r.compl), harness.F1(r.floor),
		ratio(r.compl, r.floor), harness.F2(r.settle), fmt.Sprintf("%d / %d", r.minH, r.maxL), harness.F2(r.other))
}

// ratios are berth / Swarm per configuration, on COMPLETED and converged.
func (rp *report) ratios() []string {
	var out []string
	rows := rp.rows()
	for _, c := range rp.o.configs {
		var b, s *row
		for i := range rows {
			if rows[i].cfg == c && rows[i].runs > 0 {
				if rows[i].system == "berth" {
					b = &rows[i]
				} else {
					s = &rows[i]
				}
			}
		}
		if b == nil || s == nil {
			continue
		}
		out = append(out, fmt.Sprintf("%s: berth / Swarm %s on COMPLETED (%.2f s / %.2f s), %s on converged (%.2f s / %.2f s); berth / floor %s, Swarm / floor %s",
			c, ratio(b.compl, s.compl), b.compl, s.compl, ratio(b.conv, s.conv), b.conv, s.conv, ratio(b.compl, b.floor), ratio(s.compl, s.floor)))
	}
	return out
}

func (rp *report) settings() string {
	o := rp.o
	return fmt.Sprintf("%d tasks of the test application (%d MiB); container health check `%s` every %s, timeout %s, %d retries, start period %s; "+
		"images %s (%s) → %s (%s); Swarm --update-delay 0s --update-monitor %s --update-failure-action pause; poll every %s",
		o.tasks, o.memory, strings.Join(healthCommand(), " "), o.healthInterval, o.healthTimeout, o.healthRetries, o.healthStartPeriod,
		rp.e.images.v1Tag, harness.ShortID(rp.e.images.v1ID), rp.e.images.v2Tag, harness.ShortID(rp.e.images.v2ID), o.swarmMonitor, o.poll)
}

func (rp *report) plans() []string {
	var out []string
	for _, c := range rp.o.configs {
		p, _ := makePlan(c, rp.o.tasks)
		out = append(out, fmt.Sprintf("%s: %s; floor %d × %s = %s", c, p, p.waves, rp.o.healthInterval, p.floor(rp.o.healthInterval)))
	}
	return out
}

func (rp *report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n", rp.e.machine.Summary(), rp.settings())
	for _, p := range rp.plans() {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	b.WriteString("\nRolling update v1 → v2, seconds from the update request (medians of the runs)\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range rp.rows() {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t")+"\t")
	}
	tw.Flush()
	b.WriteString("\n")
	for _, l := range rp.ratios() {
		fmt.Fprintf(&b, "%s\n", l)
	}
	return b.String()
}

func (rp *report) markdown() string {
	var b strings.Builder
	m := rp.e.machine
	fmt.Fprintf(&b, "### bench/deploy, %s\n\n", m.When.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "%s. %s.\n\n", m.Summary(), rp.settings())
	for _, p := range rp.plans() {
		fmt.Fprintf(&b, "- %s\n", p)
	}
	b.WriteString("\nSeconds from the update request, medians of the runs:\n\n")
	fmt.Fprintf(&b, "| %s |\n|---|---|%s\n", strings.Join(header, " | "), strings.Repeat("---:|", len(header)-2))
	for _, r := range rp.rows() {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r.cells(), " | "))
	}
	if rs := rp.ratios(); len(rs) > 0 {
		b.WriteString("\n")
		for _, l := range rs {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	b.WriteString("\nEvery run:\n\n| config | system | # | load average at start | create s | all v2 healthy s | v1 stopped s | converged s | COMPLETED s | COMPLETED seen s | healthy ≥ / live ≤ | CPU server / agent / engine / other | notes |\n|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|\n")
	for _, r := range rp.results {
		notes := strings.Join(r.notes, "; ")
		if r.err != "" {
			notes = strings.TrimPrefix(notes+"; "+harness.OneLine(r.err), "; ")
		}
		if notes == "" {
			notes = "none"
		}
		cpu := "-"
		if r.cpu.Secs > 0 {
			cpu = fmt.Sprintf("%.2f / %.2f / %.2f / %.2f", r.cpu.Server, r.cpu.Agent, r.cpu.Engine+r.cpu.Tasks, r.cpu.Other)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %d / %d | %s | %s |\n", r.cfg, systemName(r.system), r.rep, r.loadavg,
			harness.F1(r.create.Seconds()), harness.F2(r.allHealthy.Seconds()), harness.F2(r.oldStopped.Seconds()), harness.F2(r.converged().Seconds()),
			harness.F2(r.completed.Seconds()), harness.F2(r.completedSeen.Seconds()), r.minHealthy, r.maxLive, cpu, harness.OneLine(notes))
	}
	return b.String()
}
