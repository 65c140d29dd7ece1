package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

// loadEnv names the environment variable that turns this program into the
// load generator: it holds a loadSpec as JSON.
const loadEnv = "BERTH_BENCH_LB_LOAD"

// loadSpec is one load run: conns keep-alive connections, each a closed
// loop (rate 0) or paced so that all of them together send rate requests/s.
// Worker i sends to urls[i%len(urls)].
type loadSpec struct {
	URLs     []string      `json:"urls"`
	Conns    int           `json:"conns"`
	Rate     float64       `json:"rate"`
	Warmup   time.Duration `json:"warmup"`
	Duration time.Duration `json:"duration"`
}

// loadResult is what the load generator measured in its window.
type loadResult struct {
	Requests  int64   `json:"requests"` // successful (200) requests started in the window
	Errors    int64   `json:"errors"`   // failed requests and non-200 answers (warm-up included)
	FirstErr  string  `json:"firstErr,omitempty"`
	RPS       float64 `json:"rps"`
	P50       float64 `json:"p50ms"` // latencies in milliseconds
	P99       float64 `json:"p99ms"`
	Max       float64 `json:"maxms"`
	ClientCPU float64 `json:"clientCPU"` // cores the load generator used in the window
}

// runLoad runs the load generator in a child process (this program again),
// so that it shares no scheduler or GC with what it measures, as wrk or hey
// would.
func runLoad(ctx context.Context, spec loadSpec) (loadResult, error) {
	self, err := os.Executable()
	if err != nil {
		return loadResult{}, err
	}
	b, _ := json.Marshal(spec)
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), loadEnv+"="+string(b))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("load generator: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r loadResult
	if err := json.Unmarshal(out, &r); err != nil {
		return loadResult{}, fmt.Errorf("load generator answered %q: %w", out, err)
	}
	return r, nil
}

// loadMain is the load generator's process: it reads the spec, runs it and
// prints the result as JSON.
func loadMain(specJSON string) {
	var spec loadSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "bad load spec:", err)
		os.Exit(2)
	}
	r := generate(spec)
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func generate(spec loadSpec) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: spec.Conns, MaxConnsPerHost: spec.Conns, DisableCompression: true,
		IdleConnTimeout: time.Minute}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	start := time.Now()
	winStart := start.Add(spec.Warmup)
	end := winStart.Add(spec.Duration)
	var errs atomic.Int64
	var firstErr atomic.Pointer[string]
	lats := make([][]time.Duration, spec.Conns)
	var cpu0 float64
	var cpuOnce sync.Once
	var wg sync.WaitGroup
	for i := range spec.Conns {
		url := spec.URLs[i%len(spec.URLs)]
		var interval time.Duration
		if spec.Rate > 0 {
			interval = time.Duration(float64(time.Second) * float64(spec.Conns) / spec.Rate)
		}
		wg.Go(func() {
			// Paced workers start spread over one interval.
			next := start
			if interval > 0 {
				next = start.Add(interval * time.Duration(i) / time.Duration(spec.Conns))
			}
			buf := make([]byte, 4096)
			for {
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					next = next.Add(interval)
					if now := time.Now(); next.Before(now) {
						next = now // fell behind: no burst to catch up
					}
				}
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := get(c, url, buf)
				d := time.Since(t0)
				if err != nil {
					errs.Add(1)
					s := err.Error()
					firstErr.CompareAndSwap(nil, &s)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if !t0.Before(winStart) {
					lats[i] = append(lats[i], d)
				}
			}
		})
	}
	go func() {
		time.Sleep(time.Until(winStart))
		cpuOnce.Do(func() { cpu0 = harness.SelfCPU() })
	}()
	wg.Wait()
	cpuOnce.Do(func() { cpu0 = harness.SelfCPU() })
	cpu := harness.SelfCPU() - cpu0
	all := slices.Concat(lats...)
	slices.Sort(all)
	r := loadResult{Requests: int64(len(all)), Errors: errs.Load(), RPS: float64(len(all)) / spec.Duration.Seconds(),
		ClientCPU: cpu / spec.Duration.Seconds()}
	if p := firstErr.Load(); p != nil {
		r.FirstErr = *p
	}
	if len(all) > 0 {
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		r.P50 = ms(all[len(all)*50/100])
		r.P99 = ms(all[min(len(all)*99/100, len(all)-1)])
		r.Max = ms(all[len(all)-1])
	}
	return r
}

// get does one GET and reads the whole answer; anything but 200 is an error.
func get(c *http.Client, url string, buf []byte) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	for {
		_, err := resp.Body.Read(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
