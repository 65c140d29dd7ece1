package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

// proxyRow is one system at one load: medians over the rounds.
type proxyRow struct {
	system                 string
	half                   bool
	runs                   int
	rate                   float64
	rps, p50, p99, max     float64
	errors                 int64
	cpu, clientCPU         float64
	addP50, addP99         float64 // minus direct's of the same round (medians of the differences)
	hasAdded               bool
	perCore, nginxRatio    float64
	firstErr, failedReason string
}

func (e *env) runsOf(sys string, half bool) []*proxyRun {
	var out []*proxyRun
	for _, r := range e.proxy {
		if r.system == sys && r.half == half && r.err == "" {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) direct(round int, half bool) *proxyRun {
	for _, r := range e.proxy {
		if r.system == "direct" && r.round == round && r.half == half && r.err == "" {
			return r
		}
	}
	return nil
}

func (e *env) proxyRows(half bool) []proxyRow {
	var rows []proxyRow
	var nginxRPS float64
	for _, sys := range e.o.systems {
		rs := e.runsOf(sys, half)
		row := proxyRow{system: sys, half: half, runs: len(rs)}
		for _, r := range e.proxy {
			if r.system == sys && r.half == half && r.err != "" && row.failedReason == "" {
				row.failedReason = harness.OneLine(r.err)
			}
		}
		if len(rs) > 0 {
			row.rate = harness.Med(rs, func(r *proxyRun) float64 { return r.rate })
			row.rps = harness.Med(rs, func(r *proxyRun) float64 { return r.res.RPS })
			row.p50 = harness.Med(rs, func(r *proxyRun) float64 { return r.res.P50 })
			row.p99 = harness.Med(rs, func(r *proxyRun) float64 { return r.res.P99 })
			row.max = harness.Med(rs, func(r *proxyRun) float64 { return r.res.Max })
			row.cpu = harness.Med(rs, func(r *proxyRun) float64 { return r.cpu })
			row.clientCPU = harness.Med(rs, func(r *proxyRun) float64 { return r.res.ClientCPU })
			for _, r := range rs {
				row.errors += r.res.Errors
				if row.firstErr == "" {
					row.firstErr = r.res.FirstErr
				}
			}
			if row.cpu > 0 {
				row.perCore = row.rps / row.cpu
			}
			if sys != "direct" {
				var d50, d99 []float64
				for _, r := range rs {
					if d := e.direct(r.round, half); d != nil {
						d50 = append(d50, r.res.P50-d.res.P50)
						d99 = append(d99, r.res.P99-d.res.P99)
					}
				}
				if len(d50) > 0 {
					row.addP50, row.addP99, row.hasAdded = harness.Median(d50), harness.Median(d99), true
				}
			}
			if sys == "nginx" {
				nginxRPS = row.rps
			}
		}
		rows = append(rows, row)
	}
	for i := range rows {
		if nginxRPS > 0 && rows[i].runs > 0 {
			rows[i].nginxRatio = rows[i].rps / nginxRPS
		}
	}
	return rows
}

var proxyHeader = []string{"load", "system", "runs", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "proxy CPU", "req/s per proxy core", "client CPU", "req/s ÷ nginx", "p50 added ms", "p99 added ms"}

func (r proxyRow) cells() []string {
	load := "full"
	if r.half {
		load = fmt.Sprintf("half (%.0f req/s)", r.rate)
	}
	runs := fmt.Sprint(r.runs)
	if r.runs == 0 {
		c := []string{load, r.system, "0 (" + r.failedReason + ")"}
		for len(c) < len(proxyHeader) {
			c = append(c, "-")
		}
		return c
	}
	dash := func(ok bool, s string) string {
		if !ok {
			return "-"
		}
		return s
	}
	isProxy := r.system != "direct"
	return []string{load, r.system, runs, fmt.Sprintf("%.0f", r.rps), fmt.Sprintf("%.3f", r.p50), fmt.Sprintf("%.3f", r.p99), harness.F1(r.max),
		fmt.Sprint(r.errors), dash(isProxy, harness.F2(r.cpu)), dash(isProxy && r.perCore > 0, fmt.Sprintf("%.0f", r.perCore)), harness.F2(r.clientCPU),
		dash(r.nginxRatio > 0, fmt.Sprintf("%.2f×", r.nginxRatio)),
		dash(r.hasAdded, fmt.Sprintf("%+.3f", r.addP50)), dash(r.hasAdded, fmt.Sprintf("%+.3f", r.addP99))}
}

func (e *env) proxySettings() string {
	o := e.o
	s := fmt.Sprintf("%d backends (Go net/http on loopback, %d-byte body, keep-alive); load generator: a Go client in a child process, %d keep-alive connections, %s warm-up, %s measured per run, %d rounds of direct/berth/nginx interleaved, full load (closed loop) then paced at half of berth's full-load req/s of the round; "+
		"berth: `berth server` + `berth lb` (GOMAXPROCS %d", o.backends, len(backendBody), o.conns, o.warmup, o.duration, o.repeat, o.proxyProcs)
	if o.lbGOGC != "" {
		s += ", GOGC " + o.lbGOGC
	}
	s += "), ALB HTTP listener → ip target group"
	if e.nginx != "" {
		s += fmt.Sprintf("; %s: worker_processes %d, upstream keepalive %d, proxy_http_version 1.1, Connection \"\", access log off", e.nginx, o.proxyProcs, o.keepalive)
	}
	return s
}

func (e *env) proxyLines() []string {
	var out []string
	full, half := e.proxyRows(false), e.proxyRows(true)
	get := func(rows []proxyRow, sys string) *proxyRow {
		for i := range rows {
			if rows[i].system == sys && rows[i].runs > 0 {
				return &rows[i]
			}
		}
		return nil
	}
	if b, n := get(full, "berth"), get(full, "nginx"); b != nil && n != nil {
		l := fmt.Sprintf("full load: berth / nginx %.2f× on req/s (%.0f / %.0f)", b.rps/n.rps, b.rps, n.rps)
		if b.hasAdded && n.hasAdded {
			l += fmt.Sprintf("; p99 added by the proxy: berth %+.3f ms, nginx %+.3f ms", b.addP99, n.addP99)
		}
		out = append(out, l)
	}
	if b, n := get(half, "berth"), get(half, "nginx"); b != nil && n != nil && b.hasAdded && n.hasAdded {
		verdict := "met"
		if b.addP99 >= 1 {
			verdict = "missed"
		}
		out = append(out, fmt.Sprintf("half load (%.0f req/s): p99 added by the proxy: berth %+.3f ms (aim < 1 ms: %s), nginx %+.3f ms; p50 added: berth %+.3f ms, nginx %+.3f ms",
			b.rate, b.addP99, verdict, n.addP99, b.addP50, n.addP50))
	}
	return out
}

// rolling

type rollRow struct {
	runs, failed                                                int
	create, firstNew, allHealthy, oldGone, completed, seen, flr float64
	minH, maxR                                                  int
}

func (e *env) rollRow() rollRow {
	var ok []*rollRun
	row := rollRow{flr: e.o.floor().Seconds(), minH: -1}
	for _, r := range e.rolling {
		if r.err != "" {
			row.failed++
			continue
		}
		ok = append(ok, r)
	}
	row.runs = len(ok)
	if len(ok) == 0 {
		return row
	}
	s := func(f func(*rollRun) time.Duration) float64 {
		return harness.MedPos(ok, func(r *rollRun) float64 { return f(r).Seconds() })
	}
	row.create = s(func(r *rollRun) time.Duration { return r.create })
	row.firstNew = s(func(r *rollRun) time.Duration { return r.firstNew })
	row.allHealthy = s(func(r *rollRun) time.Duration { return r.allNewHealthy })
	row.oldGone = s(func(r *rollRun) time.Duration { return r.oldGone })
	row.completed = s(func(r *rollRun) time.Duration { return r.completed })
	row.seen = s(func(r *rollRun) time.Duration { return r.seen })
	row.minH, row.maxR = ok[0].minHealthy, ok[0].maxRegistered
	for _, r := range ok {
		row.minH, row.maxR = min(row.minH, r.minHealthy), max(row.maxR, r.maxRegistered)
	}
	return row
}

var rollHeader = []string{"runs", "create s", "first v2 target s", "all v2 healthy s", "v1 out of the group s", "COMPLETED s", "floor s", "COMPLETED / floor", "COMPLETED − all v2 healthy s", "healthy targets ≥ / registered ≤"}

func (r rollRow) cells() []string {
	runs := fmt.Sprint(r.runs)
	if r.failed > 0 {
		runs += fmt.Sprintf(" (+%d failed)", r.failed)
	}
	if r.runs == 0 {
		c := []string{runs}
		for len(c) < len(rollHeader) {
			c = append(c, "-")
		}
		return c
	}
	return []string{runs, harness.F1(r.create), harness.F2(r.firstNew), harness.F2(r.allHealthy), harness.F2(r.oldGone), harness.F2(r.completed),
		harness.F1(r.flr), fmt.Sprintf("%.2f×", r.completed/r.flr), harness.F2(r.completed - r.allHealthy), fmt.Sprintf("%d / %d", r.minH, r.maxR)}
}

func table(b *strings.Builder, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
}

func mdTable(b *strings.Builder, header []string, rows [][]string, leftCols int) {
	fmt.Fprintf(b, "| %s |\n|%s%s\n", strings.Join(header, " | "), strings.Repeat("---|", leftCols), strings.Repeat("---:|", len(header)-leftCols))
	for _, r := range rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(r, " | "))
	}
}

func (e *env) proxyCells() [][]string {
	var rows [][]string
	for _, half := range []bool{false, true} {
		for _, r := range e.proxyRows(half) {
			rows = append(rows, r.cells())
		}
	}
	return rows
}

func (e *env) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", e.machine.Summary())
	if len(e.proxy) > 0 {
		fmt.Fprintf(&b, "\nProxy: %s\n\nmedians of the rounds; \"added\" = the proxy's latency minus the backends' own (direct) in the same round\n", e.proxySettings())
		table(&b, proxyHeader, e.proxyCells())
		b.WriteString("\n")
		for _, l := range e.proxyLines() {
			fmt.Fprintf(&b, "%s\n", l)
		}
	}
	if len(e.rolling) > 0 {
		fmt.Fprintf(&b, "\nRolling deployment: %s\nfloor: %s\n\nseconds from UpdateService, medians of the runs\n", e.rollCfg, e.o.floorFormula())
		table(&b, rollHeader, [][]string{e.rollRow().cells()})
	}
	return b.String()
}

func (e *env) markdown() string {
	var b strings.Builder
	m := e.machine
	fmt.Fprintf(&b, "### bench/lb, %s\n\n%s.\n", m.When.Format("2006-01-02 15:04 UTC"), m.Summary())
	if len(e.proxy) > 0 {
		fmt.Fprintf(&b, "\n**Proxy.** %s. Medians of the rounds; \"added\" is the proxy's latency minus the backends' own (direct) in the same round.\n\n", e.proxySettings())
		mdTable(&b, proxyHeader, e.proxyCells(), 2)
		if ls := e.proxyLines(); len(ls) > 0 {
			b.WriteString("\n")
			for _, l := range ls {
				fmt.Fprintf(&b, "- %s\n", l)
			}
		}
		b.WriteString("\nEvery run (req/s, p50 ms, p99 ms, proxy CPU):\n\n| round | load | direct | berth | nginx |\n|---:|---|---|---|---|\n")
		for round := 1; round <= e.o.repeat; round++ {
			for _, half := range []bool{false, true} {
				cells := map[string]string{}
				load := "full"
				for _, r := range e.proxy {
					if r.round != round || r.half != half {
						continue
					}
					if half {
						load = fmt.Sprintf("half (%.0f req/s)", r.rate)
					}
					if r.err != "" {
						cells[r.system] = "failed: " + harness.OneLine(r.err)
					} else {
						cells[r.system] = fmt.Sprintf("%.0f, %.3f, %.3f, %.2f", r.res.RPS, r.res.P50, r.res.P99, r.cpu)
					}
				}
				if len(cells) == 0 {
					continue
				}
				cell := func(s string) string {
					if c, ok := cells[s]; ok {
						return c
					}
					return "-"
				}
				fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", round, load, cell("direct"), cell("berth"), cell("nginx"))
			}
		}
	}
	if len(e.rolling) > 0 {
		fmt.Fprintf(&b, "\n**Rolling deployment.** %s. Floor: %s. Seconds from UpdateService, medians of the runs:\n\n", e.rollCfg, e.o.floorFormula())
		mdTable(&b, rollHeader, [][]string{e.rollRow().cells()}, 0)
		b.WriteString("\nEvery run:\n\n| # | load average at start | create s | first v2 target s | all v2 healthy s | v1 out of the group s | COMPLETED s | COMPLETED seen s | notes |\n|---:|---|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range e.rolling {
			notes := "none"
			if r.err != "" {
				notes = harness.OneLine(r.err)
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.round, r.loadavg, harness.F1(r.create.Seconds()), harness.F2(r.firstNew.Seconds()),
				harness.F2(r.allNewHealthy.Seconds()), harness.F2(r.oldGone.Seconds()), harness.F2(r.completed.Seconds()), harness.F2(r.seen.Seconds()), notes)
		}
	}
	return b.String()
}
