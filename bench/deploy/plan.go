package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// config is a service's deploymentConfiguration: minimumHealthyPercent and
// maximumPercent.
type config struct {
	minPct, maxPct int
}

func (c config) String() string { return fmt.Sprintf("%d/%d", c.minPct, c.maxPct) }

// slug is the config in names ("100-200").
func (c config) slug() string { return fmt.Sprintf("%d-%d", c.minPct, c.maxPct) }

// parseConfigs reads "100/200,50/100": minimumHealthyPercent/maximumPercent
// pairs, duplicates dropped.
func parseConfigs(s string) ([]config, error) {
	var out []config
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, ok := strings.Cut(part, "/")
		if !ok {
			return nil, fmt.Errorf("deployment configuration %q: want MIN/MAX, e.g. 100/200", part)
		}
		minPct, err1 := strconv.Atoi(strings.TrimSpace(lo))
		maxPct, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("deployment configuration %q: want two integers, e.g. 100/200", part)
		}
		// ECS's ranges for a REPLICA service.
		if minPct < 0 || minPct > 100 || maxPct < 100 || maxPct > 200 {
			return nil, fmt.Errorf("deployment configuration %q: minimumHealthyPercent must be 0-100 and maximumPercent 100-200", part)
		}
		c := config{minPct, maxPct}
		dup := false
		for _, o := range out {
			dup = dup || o == c
		}
		if !dup {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no deployment configuration given")
	}
	return out, nil
}

// plan is what a configuration means for a rolling update of desired tasks,
// and its closest Docker Swarm update policy.
type plan struct {
	desired int
	// minHealthy = ceil(desired × min% / 100): healthy tasks the update
	// keeps; maxLive = floor(desired × max% / 100): tasks (RUNNING or
	// PENDING) it never exceeds. ECS's rounding.
	minHealthy, maxLive int
	// batch is how many new tasks can be on their way (started, not yet
	// healthy) at once: the live tasks allowed beyond the healthy ones kept,
	// maxLive − minHealthy, at most desired. waves = ceil(desired / batch).
	batch, waves int
	// Swarm's update policy: --update-order and --update-parallelism.
	// exact is false when the configuration both adds tasks above the
	// desired count and removes healthy ones below it, which no Swarm
	// order does at once (see swarmPolicy).
	swarmOrder       string
	swarmParallelism int
	exact            bool
}

// makePlan works out the plan of c for desired tasks.
func makePlan(c config, desired int) (plan, error) {
	if desired < 1 {
		return plan{}, errors.New("the service needs at least one task")
	}
	p := plan{desired: desired,
		minHealthy: (desired*c.minPct + 99) / 100,
		maxLive:    desired * c.maxPct / 100,
	}
	p.batch = min(p.maxLive-p.minHealthy, desired)
	if p.batch < 1 {
		return p, fmt.Errorf("deployment configuration %s lets no task of %d be replaced (ECS reports a deadlock)", c, desired)
	}
	p.waves = (desired + p.batch - 1) / p.batch
	p.swarmOrder, p.swarmParallelism, p.exact = swarmPolicy(p)
	return p, nil
}

// swarmPolicy maps the plan to `docker service update --update-order
// ORDER --update-parallelism N`:
//
//   - minimumHealthyPercent 100 (no healthy task may go first): start-first,
//     N = maxLive − desired tasks started above the desired count, each
//     old task removed once its replacement runs (is healthy). 100/200 is
//     start-first, 10 for 10 tasks.
//   - maximumPercent 100 (no task above the desired count): stop-first,
//     N = desired − minHealthy old tasks stopped, then replaced. 50/100 is
//     stop-first, 5 for 10 tasks.
//   - both room above and below (e.g. 50/150): ECS starts tasks above the
//     desired count and stops healthy ones below it in the same wave; Swarm
//     does one or the other. The mapping keeps the wave size (start-first,
//     N = batch) and is marked approximate.
func swarmPolicy(p plan) (order string, parallelism int, exact bool) {
	switch {
	case p.minHealthy >= p.desired:
		return "start-first", min(p.maxLive-p.desired, p.desired), true
	case p.maxLive <= p.desired:
		return "stop-first", min(p.desired-p.minHealthy, p.desired), true
	default:
		return "start-first", p.batch, false
	}
}

// floor is the time the health-check cadence alone takes: every wave of new
// tasks waits for its first health check, which the Docker engine (and the
// berth agent) runs one interval after the container started, so waves ×
// interval. Container start, stops, API calls and the orchestrator's own
// work come on top of it.
func (p plan) floor(interval time.Duration) time.Duration {
	return time.Duration(p.waves) * interval
}

func (p plan) String() string {
	s := fmt.Sprintf("%d tasks, ≥ %d healthy, ≤ %d live: %d wave(s) of ≤ %d; Swarm --update-order %s --update-parallelism %d",
		p.desired, p.minHealthy, p.maxLive, p.waves, p.batch, p.swarmOrder, p.swarmParallelism)
	if !p.exact {
		s += " (approximate)"
	}
	return s
}
