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
	serverCPU, benchCPU    float64
	otherCPU, perCPU       float64
}

func summarise(name string, runs []run) summary {
	var mine []run
	for _, r := range runs {
		if r.system == name {
			mine = append(mine, r)
		}
	}
	s := summary{system: name,
		qps:       harness.Med(mine, func(r run) float64 { return r.qps }),
		p50:       harness.Med(mine, func(r run) float64 { return ms(r.p50) }),
		p90:       harness.Med(mine, func(r run) float64 { return ms(r.p90) }),
		p99:       harness.Med(mine, func(r run) float64 { return ms(r.p99) }),
		mx:        harness.Med(mine, func(r run) float64 { return ms(r.max) }),
		serverCPU: harness.Med(mine, func(r run) float64 { return r.serverCPU }),
		benchCPU:  harness.Med(mine, func(r run) float64 { return r.benchCPU }),
		otherCPU:  harness.Med(mine, func(r run) float64 { return r.otherCPU }),
		perCPU: harness.Med(mine, func(r run) float64 {
			if r.serverCPU == 0 {
				return 0
			}
			return r.qps / r.serverCPU
		})}
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
	fmt.Fprintf(&t, "%-8s %10s %9s %9s %9s %9s %7s %8s %11s %11s %10s %10s\n", "system", "queries/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "records",
		"server CPU", "q/s per CPU", "bench CPU", "other CPU")
	fmt.Fprintf(&md, "### DNS (%s)\n\n", m.When.Format("2006-01-02"))
	fmt.Fprintf(&md, "`go run ./bench/dns --repeat %d --clients %d --duration %s --server-cores %d`: A query of a %d-record MULTIVALUE service, medians of %d round(s).\n\n",
		o.repeat, o.clients, o.duration, o.serverCores, records, o.repeat)
	md.WriteString("| system | queries/s | p50 ms | p90 ms | p99 ms | max ms | errors | records per answer | server CPU | queries/s per server core | bench CPU | other CPU |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range sums {
		fmt.Fprintf(&t, "%-8s %10.0f %9.3f %9.3f %9.3f %9.2f %7d %8d %11.2f %11.0f %10.2f %10.2f\n", s.system, s.qps, s.p50, s.p90, s.p99, s.mx, s.errors, s.answers,
			s.serverCPU, s.perCPU, s.benchCPU, s.otherCPU)
		fmt.Fprintf(&md, "| %s | %.0f | %.3f | %.3f | %.3f | %.2f | %d | %d | %.2f | %.0f | %.2f | %.2f |\n", s.system, s.qps, s.p50, s.p90, s.p99, s.mx, s.errors, s.answers,
			s.serverCPU, s.perCPU, s.benchCPU, s.otherCPU)
	}
	if len(sums) == 2 && sums[1].qps > 0 && sums[1].p99 > 0 {
		line := fmt.Sprintf("berth / dnsmasq: queries/s %.2f×, p99 %.2f×", sums[0].qps/sums[1].qps, sums[0].p99/sums[1].p99)
		if sums[1].perCPU > 0 {
			line += fmt.Sprintf(", queries/s per server core %.2f×", sums[0].perCPU/sums[1].perCPU)
		}
		fmt.Fprintf(&t, "%s\n", line)
		fmt.Fprintf(&md, "\n%s.\n", line)
	}
	md.WriteString("\nAll runs:\n\n| round | system | queries/s | p50 ms | p99 ms | max ms | errors | server CPU | bench CPU | other CPU |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		fmt.Fprintf(&md, "| %d | %s | %.0f | %.3f | %.3f | %.2f | %d | %.2f | %.2f | %.2f |\n", r.round, r.system, r.qps, ms(r.p50), ms(r.p99), ms(r.max), r.errors,
			r.serverCPU, r.benchCPU, r.otherCPU)
	}
	fmt.Fprintf(&md, "\nMachine: %s\n", m.Summary())
	return t.String(), md.String()
}
