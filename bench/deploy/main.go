// Command deploy measures how long a rolling deployment of a service takes:
// a service of 10 tasks of the test application (internal/e2e/testapp),
// each with a container health check every 5 s, updated from v1 to v2,
// until berth reports the PRIMARY deployment COMPLETED; beside the floor
// the health-check cadence sets, and beside a Docker Swarm rolling update
// (`docker service update --image`) with the same parallelism and health
// check on the same engine. It is a program, not a test: it asserts
// nothing, it prints what it measured.
//
// Every berth run starts `berth server` and `berth agent --runtime docker`
// (built from this module, or --berth-bin) as processes with fresh data
// dirs, creates the service on v1, waits until it is steady, updates it to
// v2 and follows the rollout. Every Swarm run does `docker swarm init`
// (only when the engine is in no swarm), creates the same service, updates
// its image and leaves the swarm again (only when it joined it). Berth and
// Swarm runs alternate. See docs/benchmarks.md.
//
//	go run ./bench/deploy                                # 100/200 and 50/100, 3 runs each of berth and Swarm
//	go run ./bench/deploy --configs 100/200 --repeat 1
//	go run ./bench/deploy --out bench-results.md
package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

type options struct {
	configs []config
	systems []string
	tasks   int
	repeat  int

	healthInterval    time.Duration
	healthTimeout     time.Duration
	healthRetries     int
	healthStartPeriod time.Duration
	swarmMonitor      time.Duration

	poll        time.Duration
	timeout     time.Duration
	settle      time.Duration
	memory      int
	stopTimeout time.Duration

	timeline bool
	harness.Common
}

func main() {
	// The first Ctrl-C (or SIGTERM) ends the measurement: the bench then
	// deletes the services it made and cleans up. A second one stops
	// waiting for the tasks to stop; processes, containers, images and the
	// swarm are still cleaned up.
	harness.Main("bench/deploy", parseFlags,
		"interrupted: deleting the services and cleaning up (interrupt again to stop waiting for the tasks)",
		"interrupted again: cleaning up without waiting for the tasks", benchmark)
}

// wholeSeconds is a duration flag that must be a whole number of seconds:
// ECS health checks take seconds.
func wholeSeconds(name string, d time.Duration, lo, hi int) error {
	if d%time.Second != 0 || d < time.Duration(lo)*time.Second || d > time.Duration(hi)*time.Second {
		return fmt.Errorf("--%s must be whole seconds from %d to %d (ECS's range), not %s", name, lo, hi, d)
	}
	return nil
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	o := &options{}
	configs := fs.String("configs", "100/200,50/100", "deployment configurations to measure: minimumHealthyPercent/maximumPercent, comma-separated")
	systems := fs.String("systems", "berth,swarm", "what to measure: berth, swarm (runs alternate)")
	fs.IntVar(&o.tasks, "tasks", 10, "desired count of the service (Swarm replicas)")
	fs.IntVar(&o.repeat, "repeat", 3, "runs of each configuration and system; the summary shows medians")
	fs.DurationVar(&o.healthInterval, "health-interval", 5*time.Second, "container health check interval (whole seconds, 5-300)")
	fs.DurationVar(&o.healthTimeout, "health-timeout", 5*time.Second, "container health check timeout (whole seconds, 2-60)")
	fs.IntVar(&o.healthRetries, "health-retries", 3, "container health check retries (1-10)")
	fs.DurationVar(&o.healthStartPeriod, "health-start-period", 0, "container health check start period (whole seconds, 0-300)")
	fs.DurationVar(&o.swarmMonitor, "swarm-update-monitor", 5*time.Second, "Swarm's --update-monitor: how long it watches the updated tasks before it calls the update completed (Docker's default 5s)")
	fs.DurationVar(&o.poll, "poll-interval", 200*time.Millisecond, "pause between two polls of the service and its tasks")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for a service to be steady, and for an update to complete")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "pause between the service being steady on v1 and the update")
	fs.IntVar(&o.memory, "task-memory", 32, "container memory (MiB, hard limit) of every task; the health check runs in it too")
	fs.DurationVar(&o.stopTimeout, "agent-stop-timeout", 30*time.Second, "the agent's --stop-timeout (the test app exits at once on SIGTERM)")
	fs.BoolVar(&o.timeline, "timeline", false, "print every task's timeline after each run")
	o.Register(fs, "berth-bench-deploy", "repository of the two test application images (tags v1 and v2)", "keep the images at the end (default: remove them)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.configs, err = parseConfigs(*configs); err != nil {
		return nil, fmt.Errorf("--configs: %w", err)
	}
	for s := range strings.SplitSeq(*systems, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "":
			continue
		case "berth", "swarm":
		default:
			return nil, fmt.Errorf("--systems: unknown system %q (berth, swarm)", s)
		}
		if !slices.Contains(o.systems, s) {
			o.systems = append(o.systems, s)
		}
	}
	switch {
	case len(o.systems) == 0:
		return nil, errors.New("nothing to run: --systems is empty")
	case o.tasks < 1 || o.repeat < 1:
		return nil, errors.New("--tasks and --repeat must be positive")
	case o.healthRetries < 1 || o.healthRetries > 10:
		return nil, errors.New("--health-retries must be from 1 to 10 (ECS's range)")
	case o.poll <= 0 || o.timeout <= 0 || o.settle < 0 || o.swarmMonitor < 0:
		return nil, errors.New("--poll-interval and --timeout must be positive, --settle and --swarm-update-monitor not negative")
	case o.memory < 6:
		return nil, errors.New("--task-memory must be at least 6 (Docker's minimum)")
	case strings.ContainsAny(o.Image, ":@"):
		return nil, errors.New("--image is a repository without a tag (the bench tags v1 and v2)")
	}
	for _, c := range []struct {
		name   string
		d      time.Duration
		lo, hi int
	}{
		{"health-interval", o.healthInterval, 5, 300},
		{"health-timeout", o.healthTimeout, 2, 60},
		{"health-start-period", o.healthStartPeriod, 0, 300},
	} {
		if err := wholeSeconds(c.name, c.d, c.lo, c.hi); err != nil {
			return nil, err
		}
	}
	for _, c := range o.configs {
		if _, err := makePlan(c, o.tasks); err != nil {
			return nil, fmt.Errorf("--configs: %w", err)
		}
	}
	return o, nil
}
