package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

// benchLabel is the Docker label every container of an invocation carries
// (berth's through the task definition's dockerLabels, Swarm's through the
// service's container labels), so the bench removes exactly its own
// containers; runLabel names the run a container belongs to.
const (
	benchLabel = "berth.bench.deploy"
	runLabel   = "berth.bench.deploy.run"
)

// pollTimeout bounds one poll (its calls together); a poll that takes
// longer fails and the next one asks again.
const pollTimeout = 30 * time.Second

// env is what every run of one invocation shares.
type env struct {
	o       *options
	root    string // temp dir of this invocation
	berth   string // berth binary
	docker  *harness.Docker
	images  *images
	runID   string // value of benchLabel on this invocation's containers
	machine harness.Machine
}

// result is one rollout, berth's or Swarm's. Durations are from the update
// request (UpdateService, ServiceUpdate) being sent; zero is unknown.
type result struct {
	system string // "berth" or "swarm"
	cfg    config
	rep    int
	// create: CreateService (ServiceCreate) sent → every v1 task healthy
	// and the service steady.
	create time.Duration
	// completed: → berth's PRIMARY deployment COMPLETED (its updatedAt,
	// server clock), Swarm's UpdateStatus completed (CompletedAt, engine
	// clock); completedSeen: → the poll that saw it.
	completed, completedSeen time.Duration
	// allHealthy: → the last of the desired number of v2 tasks healthy
	// (berth: the poll that first saw it HEALTHY; Swarm: its running
	// timestamp, which Swarm sets once the container's health check
	// passed). oldStopped: → the last v1 task stopped (berth: stoppedAt;
	// Swarm: the timestamp of its final state).
	allHealthy, oldStopped time.Duration
	// firstNew: → the first v2 task created (the orchestrator's reaction).
	firstNew time.Duration
	// firstStart, lastStart: → the first and the last v2 container started
	// (Docker's State.StartedAt, engine clock).
	firstStart, lastStart time.Duration
	// startToHealthy is the median over v2 tasks of container start →
	// healthy (as allHealthy counts it).
	startToHealthy time.Duration
	// minHealthy and maxLive are the fewest healthy and the most live tasks
	// any poll saw during the rollout; -1 unknown.
	minHealthy, maxLive int
	cpu                 harness.CPUWindow // update sent → completed seen
	loadavg             string            // when the run started
	polls, pollErrors   int
	timeline            []timelineEntry // every task, for --timeline
	notes               []string
	err                 string
}

// converged is when the last v2 task was healthy and the last v1 task
// stopped: the rollout's work done, whatever the orchestrator says.
func (r *result) converged() time.Duration { return max(r.allHealthy, r.oldStopped) }

// settle is the time from converged to completed: what the orchestrator
// adds after the work is done (berth: the reconciler's completion round;
// Swarm: its monitoring period).
func (r *result) settle() time.Duration {
	if r.completed == 0 || r.converged() == 0 {
		return 0
	}
	return r.completed - r.converged()
}

// timelineEntry is one task's line of a run's timeline.
type timelineEntry struct {
	at   time.Time
	line string
}

// offset is t − t0 in seconds, "-" when t is unknown.
func offset(t0, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%.2f", t.Sub(t0).Seconds())
}

func (r *result) ok() bool { return r.err == "" && r.completed > 0 }

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func benchmark(ctx, hard context.Context, o *options) error {
	root, cl, err := o.Workspace("berth-bench-deploy-")
	if err != nil {
		return err
	}
	defer cl.Run()
	e := &env{o: o, root: root, runID: harness.RandomHex(6), machine: harness.MachineInfo(root)}

	if e.docker, err = harness.OpenDocker(ctx); err != nil {
		return fmt.Errorf("the benchmark needs a Docker engine: %w", err)
	}
	defer e.docker.Close()
	e.machine.Docker = e.docker.Version
	// Whatever happens, no container of this invocation survives it.
	e.docker.RemoveLabelledOnCleanup(cl, benchLabel, e.runID)
	if slices.Contains(o.systems, "berth") {
		if e.berth, err = o.Berth(ctx, root); err != nil {
			return err
		}
		e.machine.Berth = harness.BerthRevision(e.berth)
	}
	fmt.Fprintf(os.Stderr, "building the test application images %s:v1 and :v2 ...\n", o.Image)
	if e.images, err = buildImages(ctx, e.docker, o.Image, e.runID, o.KeepImage, cl); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, e.machine.Summary())
	fmt.Fprintf(os.Stderr, "images: v1 %s (%s), v2 %s (%s)\n", e.images.v1Tag, harness.ShortID(e.images.v1ID), e.images.v2Tag, harness.ShortID(e.images.v2ID))
	for _, c := range o.configs {
		p, _ := makePlan(c, o.tasks)
		fmt.Fprintf(os.Stderr, "%s: %s; floor %s\n", c, p, harness.Secs(p.floor(o.healthInterval)))
	}

	var results []*result
	var runErr error
loop:
	for rep := 1; rep <= o.repeat; rep++ {
		for _, c := range o.configs {
			for _, sys := range runOrder(o.systems, rep) {
				if ctx.Err() != nil {
					break loop
				}
				p, _ := makePlan(c, o.tasks)
				fmt.Fprintf(os.Stderr, "run %d/%d: %s, %s, %d tasks (load average %s) ...\n", rep, o.repeat, sys, c, o.tasks, harness.LoadAvg())
				var r *result
				var err error
				if sys == "berth" {
					r, err = runBerth(ctx, hard, e, c, p, rep)
				} else {
					r, err = runSwarm(ctx, e, c, p, rep)
				}
				if r != nil {
					if err != nil && r.err == "" {
						r.err = err.Error()
					}
					results = append(results, r)
					printResult(r, p, o)
				}
				if errors.Is(err, harness.ErrTimeout) && ctx.Err() == nil {
					// A result, not a failure: the report says how far it
					// got; the other runs go on.
					fmt.Fprintf(os.Stderr, "  %s run %d: %v\n", sys, rep, harness.FirstLine(err))
				} else if err != nil {
					runErr = fmt.Errorf("%s %s run %d: %w", sys, c, rep, err)
					break loop
				}
			}
		}
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = errors.New("interrupted")
	}
	if len(results) == 0 {
		return runErr
	}
	rep := &report{o: o, e: e, results: results}
	if err := harness.WriteReport(rep.text(), rep.markdown(), o.Out); err != nil {
		return err
	}
	return runErr
}

// runOrder is the order of the systems in repetition rep: as given in odd
// repetitions, reversed in even ones, so that neither always runs first
// after the other has warmed (or loaded) the engine.
func runOrder(systems []string, rep int) []string {
	out := append([]string(nil), systems...)
	if rep%2 == 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func printResult(r *result, p plan, o *options) {
	interval := o.healthInterval
	fmt.Fprintf(os.Stderr, "  created and steady in %s; update: first v2 task %s, v2 containers started %s–%s, start→healthy %s, all v2 healthy %s, v1 stopped %s, converged %s, COMPLETED %s (seen %s); floor %s; healthy ≥ %d, live ≤ %d\n",
		harness.Secs(r.create), harness.Secs(r.firstNew), harness.Secs(r.firstStart), harness.Secs(r.lastStart), harness.Secs(r.startToHealthy),
		harness.Secs(r.allHealthy), harness.Secs(r.oldStopped), harness.Secs(r.converged()), harness.Secs(r.completed), harness.Secs(r.completedSeen),
		harness.Secs(p.floor(interval)), r.minHealthy, r.maxLive)
	fmt.Fprintf(os.Stderr, "  CPU during the update: %s\n", r.cpu)
	for _, n := range r.notes {
		fmt.Fprintf(os.Stderr, "  note: %s\n", n)
	}
	if o.timeline {
		slices.SortFunc(r.timeline, func(a, b timelineEntry) int { return a.at.Compare(b.at) })
		fmt.Fprintf(os.Stderr, "  timeline (s from the update request):\n")
		for _, t := range r.timeline {
			fmt.Fprintf(os.Stderr, "    %s\n", t.line)
		}
	}
	if r.err != "" {
		fmt.Fprintf(os.Stderr, "  error: %s\n", harness.FirstLine(errors.New(r.err)))
	}
}

// shortErr is the end of an SDK error: its last clause, the cause ("read
// tcp ...: use of closed network connection").
func shortErr(s string) string {
	if i := strings.LastIndex(s, ", "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}

// reasons summarises why tasks ended: "3 × Task failed container health
// checks, 1 × ...", most frequent first.
func reasons(rs []string) string {
	count := map[string]int{}
	for _, r := range rs {
		if r == "" {
			r = "no reason given"
		}
		count[r]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", count[k], k)
	}
	return strings.Join(parts, ", ")
}
