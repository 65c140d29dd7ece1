package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"berth.dev/berth/bench/internal/harness"
)

// swarmResult is one Swarm run.
type swarmResult struct {
	requested int
	// toRunning: ServiceCreate sent → the latest "running" timestamp of the
	// N running tasks (the engine's clock, same host); toRunningSeen: → the
	// TaskList poll that first counted N running tasks.
	toRunning, toRunningSeen time.Duration
	running                  int
	failedTasks              int // tasks that ended (failed, rejected, ...) before N ran
	failures                 []string
	// toGone: ServiceRemove sent → no container of the service left.
	toGone    time.Duration
	initTime  time.Duration // docker swarm init (0 when the engine was in a swarm already)
	leaveTime time.Duration
	polls     int
	// launchCPU is the CPU used from ServiceCreate to N tasks running.
	launchCPU harness.CPUWindow
}

func (r *swarmResult) rate() float64 {
	if r.toRunning <= 0 || r.running == 0 {
		return 0
	}
	return float64(r.running) / r.toRunning.Seconds()
}

// runSwarm creates a service of n replicas of imageID, measures until n
// tasks run, removes the service and waits until its containers are gone.
// imageID is the image's ID (sha256:...), which Swarm runs without asking a
// registry (a tag makes every task try a pull first).
func runSwarm(ctx context.Context, d *harness.Docker, name, imageID, runID string, n int, memMiB int64, poll, timeout time.Duration) (*swarmResult, error) {
	res := &swarmResult{requested: n}
	replicas := uint64(n)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: map[string]string{benchLabel: runID}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: imageID, Labels: map[string]string{benchLabel: runID}},
			Resources:     &swarm.ResourceRequirements{Limits: &swarm.Limit{MemoryBytes: memMiB << 20}},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}
	c0 := harness.SampleCPU(nil, nil)
	start := time.Now()
	created, err := d.Cli.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: spec})
	if err != nil {
		return res, fmt.Errorf("docker service create: %w", err)
	}
	serviceID := created.ID
	var runErr error
	deadline := start.Add(timeout)
	failed := map[string]string{}
	for {
		select {
		case <-ctx.Done():
			runErr = ctx.Err()
		case <-time.After(poll):
		}
		if runErr != nil {
			break
		}
		list, err := d.Cli.TaskList(ctx, client.TaskListOptions{Filters: make(client.Filters).Add("service", serviceID)})
		now := time.Now()
		res.polls++
		if err != nil {
			runErr = fmt.Errorf("docker service ps: %w", err)
			break
		}
		running := 0
		var last time.Time
		for _, t := range list.Items {
			switch t.Status.State {
			case swarm.TaskStateRunning:
				running++
				if t.Status.Timestamp.After(last) {
					last = t.Status.Timestamp
				}
			case swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateShutdown, swarm.TaskStateOrphaned, swarm.TaskStateRemove, swarm.TaskStateComplete:
				failed[t.ID] = fmt.Sprintf("%s: %s %s", t.Status.State, t.Status.Message, t.Status.Err)
			}
		}
		if running >= n {
			res.launchCPU = harness.Window(c0, harness.SampleCPU(nil, nil))
			res.running = running
			res.toRunning = last.Sub(start)
			res.toRunningSeen = now.Sub(start)
			break
		}
		if now.After(deadline) {
			res.running = running
			runErr = fmt.Errorf("%w: %d of %d Swarm tasks running after %s", harness.ErrTimeout, running, n, timeout)
			break
		}
	}
	res.failedTasks = len(failed)
	for _, f := range failed {
		res.failures = append(res.failures, f)
	}
	sort.Strings(res.failures)
	if len(res.failures) > 5 {
		res.failures = res.failures[:5]
	}

	// Remove the service and wait for its containers to be gone.
	gone, err := d.RemoveService(context.WithoutCancel(ctx), serviceID, poll, timeout)
	switch {
	case err == nil:
		res.toGone = gone
	case errors.Is(err, harness.ErrTimeout):
		if runErr == nil {
			runErr = err
		}
	default:
		return res, err
	}
	return res, runErr
}
