package main

import (
	"fmt"
	"strings"

	"berth.dev/berth/bench/internal/harness"
)

type summary struct {
	system                 string
	qps, p50, p90, p99, mx float64
	errors, answers        int
}

func summarise(name string, runs []run) summary {
	var mine []run
	for _, r := range runs {
		if r.system == name {
			mine = append(mine, r)
		}
	}
	s := summary{system: name,
		qps: harness.Med(mine, func(r run) float64 { return r.qps }),
		p50: harness.Med(mine, func(r run) float64 { return ms(r.p50) }),
		p90: harness.Med(mine, func(r run) float64 { return ms(r.p90) }),
		p99: harness.Med(mine, func(r run) float64 { return ms(r.p99) }),
		mx:  harness.Med(mine, func(r run) float64 { return ms(r.max) })}
	for _, r := range mine {
		s.errors += r.errors
		s.answers = max(s.answers, r.answerCount)
	}
	return s
}

func report(o *options, m harness.Machine, runs []run) (string, string) {
	var sums []summary
	for _, name := range o.systems {
		sums = append(sums, summarise(name, runs))
	}
	var t, md strings.Builder
	fmt.Fprintf(&t, "DNS: A query of a %d-record MULTIVALUE service, %d UDP clients, %s windows after %s warm-up, %d round(s), medians\n",
		records, o.clients, o.duration, o.warmup, o.repeat)
	fmt.Fprintf(&t, "%s\n", m.Summary())
	fmt.Fprintf(&t, "%-8s %10s %9s %9s %9s %9s %7s %8s\n", "system", "queries/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "records")
	fmt.Fprintf(&md, "### DNS (%s)\n\n", m.When.Format("2006-01-02"))
	fmt.Fprintf(&md, "`go run ./bench/dns --repeat %d --clients %d --duration %s --server-cores %d`: A query of a %d-record MULTIVALUE service, medians of %d round(s).\n\n",
		o.repeat, o.clients, o.duration, o.serverCores, records, o.repeat)
	md.WriteString("| system | queries/s | p50 ms | p90 ms | p99 ms | max ms | errors | records per answer |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range sums {
		fmt.Fprintf(&t, "%-8s %10.0f %9.3f %9.3f %9.3f %9.2f %7d %8d\n", s.system, s.qps, s.p50, s.p90, s.p99, s.mx, s.errors, s.answers)
		fmt.Fprintf(&md, "| %s | %.0f | %.3f | %.3f | %.3f | %.2f | %d | %d |\n", s.system, s.qps, s.p50, s.p90, s.p99, s.mx, s.errors, s.answers)
	}
	if len(sums) == 2 && sums[1].qps > 0 && sums[1].p99 > 0 {
		line := fmt.Sprintf("berth / dnsmasq: queries/s %.2f×, p99 %.2f×", sums[0].qps/sums[1].qps, sums[0].p99/sums[1].p99)
		fmt.Fprintf(&t, "%s\n", line)
		fmt.Fprintf(&md, "\n%s.\n", line)
	}
	md.WriteString("\nAll runs:\n\n| round | system | queries/s | p50 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		fmt.Fprintf(&md, "| %d | %s | %.0f | %.3f | %.3f | %.2f | %d |\n", r.round, r.system, r.qps, ms(r.p50), ms(r.p99), ms(r.max), r.errors)
	}
	fmt.Fprintf(&md, "\nMachine: %s\n", m.Summary())
	return t.String(), md.String()
}
