package main

import (
	"fmt"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

type machine struct {
	cpus     int
	model    string
	goos     string
	goarch   string
	goVer    string
	fs       string
	external bool
	when     time.Time
}

func machineInfo(o *options) machine {
	m := machine{cpus: runtime.NumCPU(), model: harness.CPUModel(), goos: runtime.GOOS, goarch: runtime.GOARCH,
		goVer: runtime.Version(), when: time.Now().UTC(), external: o.endpoint != ""}
	switch {
	case o.endpoint == "":
		m.fs = fsType(o.dataRoot)
	case o.serverData != "":
		m.fs = fsType(o.serverData)
	}
	return m
}

func (m machine) summary() string {
	s := fmt.Sprintf("%d CPUs", m.cpus)
	if m.model != "" {
		s += " (" + m.model + ")"
	}
	s += fmt.Sprintf(", %s/%s, %s", m.goos, m.goarch, m.goVer)
	if m.fs != "" {
		s += ", data dir on " + m.fs
	}
	return s
}

// row is one line of a table: one run, or the medians of several.
type row struct {
	op                 string
	clients            int
	runs               int
	rps                float64
	p50, p90, p99, max float64 // milliseconds
	errors             int     // total over the runs
	appendsPS          float64 // raft log appends per second; <0 unknown
	perAppend          float64 // entries per append; <0 unknown
	serverMS           float64 // server-side mean latency; <0 unknown
	serverCores        float64 // <0 unknown
	benchCores         float64
	otherCores         float64 // CPU used by other processes; <0 unknown
	write              bool
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func toRow(r *result) row {
	win := r.window.Seconds() // CPU and server counters span the requests in flight at the end, too
	w := row{op: r.op, clients: r.clients, runs: 1, rps: r.rps(), errors: r.errors,
		p50: msf(r.pct(0.50)), p90: msf(r.pct(0.90)), p99: msf(r.pct(0.99)), max: msf(r.maxLat()),
		appendsPS: -1, perAppend: -1, serverMS: -1, serverCores: -1, benchCores: r.benchCPU / win,
		otherCores: -1,
		write:      operations[r.op].write}
	if w.write && r.hasAppends {
		w.appendsPS = float64(r.appends) / win
		if r.appends > 0 {
			w.perAppend = float64(r.ok) / float64(r.appends)
		}
	}
	if r.hasServer {
		w.serverMS = r.serverMean * 1000
		w.serverCores = r.serverCPU / win
		if r.hostCPU >= 0 {
			w.otherCores = max(0, (r.hostCPU-r.serverCPU-r.benchCPU)/win)
		}
	}
	return w
}

func msf(d time.Duration) float64 { return float64(d) / 1e6 }

// median is harness.Median, but -1 (unknown) for no values.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	return harness.Median(xs)
}

// medianRow takes the median of each column separately.
func medianRow(rows []row) row {
	col := func(f func(row) float64) float64 {
		var xs []float64
		for _, r := range rows {
			if v := f(r); v >= 0 {
				xs = append(xs, v)
			}
		}
		return median(xs)
	}
	out := rows[0]
	out.runs = len(rows)
	out.rps = col(func(r row) float64 { return r.rps })
	out.p50 = col(func(r row) float64 { return r.p50 })
	out.p90 = col(func(r row) float64 { return r.p90 })
	out.p99 = col(func(r row) float64 { return r.p99 })
	out.max = col(func(r row) float64 { return r.max })
	out.appendsPS = col(func(r row) float64 { return r.appendsPS })
	out.perAppend = col(func(r row) float64 { return r.perAppend })
	out.serverMS = col(func(r row) float64 { return r.serverMS })
	out.serverCores = col(func(r row) float64 { return r.serverCores })
	out.benchCores = col(func(r row) float64 { return r.benchCores })
	out.otherCores = col(func(r row) float64 { return r.otherCores })
	out.errors = 0
	for _, r := range rows {
		out.errors += r.errors
	}
	return out
}

type report struct {
	o       *options
	m       machine
	runs    []row
	summary []row
}

func newReport(o *options, m machine, results []*result) *report {
	rep := &report{o: o, m: m}
	groups := map[string][]row{}
	var order []string
	for _, r := range results {
		w := toRow(r)
		rep.runs = append(rep.runs, w)
		k := fmt.Sprintf("%s/%d", w.op, w.clients)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], w)
	}
	for _, k := range order {
		rep.summary = append(rep.summary, medianRow(groups[k]))
	}
	return rep
}

var header = []string{"op", "clients", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors",
	"commits/s", "log appends/s", "commits/append", "server mean ms", "server CPU", "bench CPU", "other CPU", "p99 target"}

func (rep *report) cells(r row) []string {
	f := func(v float64, format string) string {
		if v < 0 {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	commits := "-"
	if r.write {
		commits = fmt.Sprintf("%.0f", r.rps)
	}
	opName := r.op
	if op, ok := operations[r.op]; ok {
		opName = fmt.Sprintf("%s (%s)", r.op, op.apiOp)
	}
	return []string{opName, fmt.Sprint(r.clients), fmt.Sprintf("%.0f", r.rps),
		f(r.p50, "%.2f"), f(r.p90, "%.2f"), f(r.p99, "%.2f"), f(r.max, "%.1f"), fmt.Sprint(r.errors),
		commits, f(r.appendsPS, "%.0f"), f(r.perAppend, "%.1f"), f(r.serverMS, "%.2f"),
		f(r.serverCores, "%.2f"), f(r.benchCores, "%.2f"), f(r.otherCores, "%.2f"), rep.target(r)}
}

func (rep *report) target(r row) string {
	if r.clients != rep.o.targetAt {
		return "-"
	}
	t := rep.o.readTarget
	if r.write {
		t = rep.o.writeTarget
	}
	verdict := "met"
	if r.p99 > float64(t)/1e6 || r.errors > 0 {
		verdict = "MISSED"
	}
	return fmt.Sprintf("≤ %d ms: %s", t.Milliseconds(), verdict)
}

func (rep *report) settings() string {
	s := fmt.Sprintf("%s measured per run after %s warm-up", rep.o.duration, rep.o.warmup)
	if rep.o.repeat > 1 {
		s += fmt.Sprintf("; %d runs per configuration, each column the median of the runs (errors: total)", rep.o.repeat)
	}
	switch {
	case rep.o.endpoint != "":
		s += "; external server " + rep.o.endpoint
	case rep.o.sharedSrv:
		s += "; one berth server for all runs"
	default:
		s += "; a fresh berth server (new data dir) per run"
	}
	return s
}

func (rep *report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "berth API benchmark, %s\n%s\n%s\n\n", rep.m.when.Format(time.RFC3339), rep.m.summary(), rep.settings())
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range rep.summary {
		fmt.Fprintln(tw, strings.Join(rep.cells(r), "\t")+"\t")
	}
	tw.Flush()
	return b.String()
}

func (rep *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### berth API benchmark, %s\n\n", rep.m.when.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s\n", rep.m.summary())
	fmt.Fprintf(&b, "- %s\n", rep.settings())
	fmt.Fprintf(&b, "- clients: aws-sdk-go-v2 ECS clients, one connection pool each, SigV4 on every request, no retries; "+
		"they run on the same machine as the server\n")
	fmt.Fprintf(&b, "- read = DescribeTaskDefinition of one family; write = RegisterTaskDefinition (one raft log entry, committed with fsync)\n")
	fmt.Fprintf(&b, "- log appends/s: raft log appends (one bolt transaction, fsync'd, per batch of entries), from the raft log file's transaction ID; "+
		"server mean: from berth_api_request_duration_seconds; CPU: cores used by the server, by the bench and by other processes on the machine (noise)\n\n")
	table := func(rows []row) {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(header, " | "))
		seps := make([]string, len(header))
		for i := range seps {
			seps[i] = "---:"
		}
		seps[0] = "---"
		fmt.Fprintf(&b, "|%s|\n", strings.Join(seps, "|"))
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(rep.cells(r), " | "))
		}
	}
	table(rep.summary)
	if rep.o.repeat > 1 {
		fmt.Fprintf(&b, "\n<details><summary>all %d runs</summary>\n\n", len(rep.runs))
		table(rep.runs)
		fmt.Fprintf(&b, "\n</details>\n")
	}
	return b.String()
}
