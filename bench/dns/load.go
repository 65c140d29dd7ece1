package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"berth.dev/berth/bench/internal/harness"
)

// run is one measured window against one server.
type run struct {
	system      string
	round       int
	queries     int // answered correctly inside the window
	errors      int // timeouts, send errors, wrong answers
	qps         float64
	p50, p90    time.Duration
	p99, max    time.Duration
	answerCount int // A records in the last answer
	// CPU cores used during the window: the server, the load generator
	// (this process), everything else on the machine.
	serverCPU, benchCPU, otherCPU float64
}

// cpuSample is the CPU seconds used so far.
type cpuSample struct{ server, bench, host float64 }

func sampleCPU(pid int) cpuSample {
	return cpuSample{server: harness.ProcCPU(pid), bench: harness.SelfCPU(), host: harness.HostCPUSecs()}
}

func (r run) line() string {
	return fmt.Sprintf("%8.0f q/s  p50 %6.3f ms  p99 %6.3f ms  max %6.2f ms  errors %d  answers %d  CPU server %.2f bench %.2f other %.2f",
		r.qps, ms(r.p50), ms(r.p99), ms(r.max), r.errors, r.answerCount, r.serverCPU, r.benchCPU, r.otherCPU)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load runs o.clients closed-loop UDP clients against addr: a warm-up,
// then the measured window. A query counts if it starts inside the window.
func load(ctx context.Context, addr string, serverPid int, o *options) run {
	start := time.Now().Add(o.warmup)
	end := start.Add(o.duration)
	samples := make(chan cpuSample, 2)
	go func() {
		for _, at := range []time.Time{start, end} {
			harness.Sleep(ctx, time.Until(at))
			samples <- sampleCPU(serverPid)
		}
	}()
	type result struct {
		lat     []time.Duration
		errors  int
		answers int
	}
	results := make([]result, o.clients)
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Go(func() {
			res := &results[i]
			c := &dns.Client{Net: "udp", Timeout: time.Second}
			conn, err := c.Dial(addr)
			if err != nil {
				res.errors++
				return
			}
			defer conn.Close()
			q := new(dns.Msg).SetQuestion(svcName, dns.TypeA)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				q.Id = dns.Id()
				r, _, err := c.ExchangeWithConnContext(ctx, q, conn)
				lat := time.Since(t0)
				if t0.Before(start) {
					continue
				}
				if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
					res.errors++
					if err != nil && isTimeout(err) {
						// the socket may hold a late answer: start afresh
						conn.Close()
						if conn, err = c.Dial(addr); err != nil {
							return
						}
					}
					continue
				}
				res.lat = append(res.lat, lat)
				res.answers = len(r.Answer)
			}
		})
	}
	wg.Wait()
	a, b := <-samples, <-samples
	secs := o.duration.Seconds()
	var all []time.Duration
	var out run
	for _, r := range results {
		all = append(all, r.lat...)
		out.errors += r.errors
		out.answerCount = max(out.answerCount, r.answers)
	}
	out.serverCPU = (b.server - a.server) / secs
	out.benchCPU = (b.bench - a.bench) / secs
	out.otherCPU = max(0, (b.host-a.host)/secs-out.serverCPU-out.benchCPU)
	slices.Sort(all)
	out.queries = len(all)
	out.qps = float64(len(all)) / o.duration.Seconds()
	if len(all) > 0 {
		pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
		out.p50, out.p90, out.p99, out.max = pct(0.50), pct(0.90), pct(0.99), all[len(all)-1]
	}
	return out
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
