package main

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"berth.dev/berth/bench/internal/harness"
)

// swarmSpec is the service: replicas of the image by ID (so that no task
// asks a registry, as with a local image and --no-resolve-image), the same
// memory limit and health check as berth's task definition, and the update
// policy of the plan:
//
//	docker service create --replicas N --limit-memory M \
//	  --health-cmd '/berth-testapp health URL' --health-interval 5s --health-timeout 5s --health-retries 3 \
//	  --update-parallelism P --update-order ORDER --update-delay 0s --update-monitor 5s --update-failure-action pause IMAGE-ID
func swarmSpec(name, imageID, runID, runName string, o *options, p plan) swarm.ServiceSpec {
	replicas := uint64(o.tasks)
	order := swarm.UpdateOrderStopFirst
	if p.swarmOrder == "start-first" {
		order = swarm.UpdateOrderStartFirst
	}
	labels := map[string]string{benchLabel: runID, runLabel: runName}
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:  imageID,
				Labels: labels,
				Healthcheck: &container.HealthConfig{
					Test:     append([]string{"CMD"}, healthCommand()...),
					Interval: o.healthInterval, Timeout: o.healthTimeout, Retries: o.healthRetries, StartPeriod: o.healthStartPeriod,
				},
			},
			Resources: &swarm.ResourceRequirements{Limits: &swarm.Limit{MemoryBytes: int64(o.memory) << 20}},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		UpdateConfig: &swarm.UpdateConfig{
			Parallelism: uint64(p.swarmParallelism), Order: order, Delay: 0, Monitor: o.swarmMonitor,
			FailureAction: swarm.UpdateFailureActionPause, MaxFailureRatio: 0,
		},
	}
}

// stask is what the bench knows of one Swarm task.
type stask struct {
	id, version      string
	createdAt        time.Time
	state, desired   swarm.TaskState
	stateAt          time.Time // the status timestamp: when it reached state
	message, errText string
}

// terminal states: the task's container is gone or never ran.
func (t *stask) terminal() bool {
	switch t.state {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected,
		swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

func (t *stask) live() bool { return t.desired == swarm.TaskStateRunning && !t.terminal() }
func (t *stask) healthy() bool {
	return t.desired == swarm.TaskStateRunning && t.state == swarm.TaskStateRunning
}

// swarmWatch polls a service and its tasks.
type swarmWatch struct {
	d           *harness.Docker
	serviceID   string
	versions    map[string]string // image ID → version
	tasks       map[string]*stask
	ignore      map[string]bool // tasks left out (replaced before the update)
	polls, errs int
	firstErr    string
}

func (w *swarmWatch) poll(ctx context.Context) (*swarm.Service, time.Time, bool) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	w.polls++
	fail := func(err error) (*swarm.Service, time.Time, bool) {
		w.errs++
		if w.firstErr == "" {
			w.firstErr = err.Error()
		}
		return nil, time.Time{}, false
	}
	s, err := w.d.Cli.ServiceInspect(ctx, w.serviceID, client.ServiceInspectOptions{})
	if err != nil {
		return fail(fmt.Errorf("docker service inspect: %w", err))
	}
	list, err := w.d.Cli.TaskList(ctx, client.TaskListOptions{Filters: make(client.Filters).Add("service", w.serviceID)})
	if err != nil {
		return fail(fmt.Errorf("docker service ps: %w", err))
	}
	now := time.Now()
	for _, t := range list.Items {
		if w.ignore[t.ID] {
			continue
		}
		st := w.tasks[t.ID]
		if st == nil {
			st = &stask{id: t.ID, createdAt: t.CreatedAt}
			if t.Spec.ContainerSpec != nil {
				st.version = w.versions[t.Spec.ContainerSpec.Image]
			}
			w.tasks[t.ID] = st
		}
		st.state, st.desired, st.stateAt = t.Status.State, t.DesiredState, t.Status.Timestamp
		st.message, st.errText = t.Status.Message, t.Status.Err
	}
	return &s.Service, now, true
}

func (w *swarmWatch) count(version string, f func(*stask) bool) int {
	n := 0
	for _, t := range w.tasks {
		if (version == "" || t.version == version) && f(t) {
			n++
		}
	}
	return n
}

// runSwarm is one Swarm run: the swarm joined (if need be), the service
// created on v1 and its image updated to v2, then removed.
func runSwarm(ctx context.Context, e *env, cfg config, p plan, rep int) (r *result, err error) {
	o := e.o
	r = &result{system: "swarm", cfg: cfg, rep: rep, minHealthy: -1, maxLive: -1, loadavg: harness.LoadAvg()}
	sess, _, err := e.docker.JoinSwarm(ctx)
	if err != nil {
		return r, err
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, lerr := sess.Leave(lctx); lerr != nil && err == nil {
			err = lerr
		}
	}()
	runName := fmt.Sprintf("%s-swarm-%s-%d", e.runID, cfg.slug(), rep)
	name := "berth-bench-deploy-" + runName
	w := &swarmWatch{d: e.docker, versions: map[string]string{e.images.v1ID: "v1", e.images.v2ID: "v2"}, tasks: map[string]*stask{}, ignore: map[string]bool{}}

	start := time.Now()
	created, err := e.docker.Cli.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: swarmSpec(name, e.images.v1ID, e.runID, runName, o, p)})
	if err != nil {
		return r, fmt.Errorf("docker service create: %w", err)
	}
	w.serviceID = created.ID
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, rerr := e.docker.RemoveService(rctx, w.serviceID, o.poll, time.Minute); rerr != nil && err == nil {
			err = rerr
		}
	}()
	deadline := start.Add(o.timeout)
	for w.count("v1", (*stask).healthy) != o.tasks || w.count("", (*stask).live) != o.tasks {
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%w: Swarm service not converged on v1 after %s (%d running; %s)", harness.ErrTimeout, o.timeout, w.count("v1", (*stask).healthy), w.firstErr)
		}
		harness.Sleep(ctx, o.poll)
		if err := ctx.Err(); err != nil {
			return r, err
		}
		w.poll(ctx)
	}
	r.create = time.Since(start)
	harness.Sleep(ctx, o.settle)
	if err := ctx.Err(); err != nil {
		return r, err
	}

	// v2: `docker service update --image v2`, followed until the update is
	// completed, every v2 task runs (healthy) and every v1 task ended.
	var replaced []string
	for id, t := range w.tasks {
		if t.version == "v1" && !t.live() {
			// Replaced while the service came up: not part of the update.
			w.ignore[id] = true
			delete(w.tasks, id)
			replaced = append(replaced, fmt.Sprintf("%s: %s", t.state, t.errText))
		}
	}
	if len(replaced) > 0 {
		r.note("%d v1 tasks were replaced before the service converged (%s)", len(replaced), reasons(replaced))
	}
	s, _, ok := w.poll(ctx)
	if !ok {
		return r, fmt.Errorf("%s", w.firstErr)
	}
	spec := s.Spec
	spec.TaskTemplate.ContainerSpec.Image = e.images.v2ID
	c0 := harness.SampleCPU(nil, nil)
	t0 := time.Now()
	if _, err := e.docker.Cli.ServiceUpdate(ctx, w.serviceID, client.ServiceUpdateOptions{Version: s.Version, Spec: spec}); err != nil {
		return r, fmt.Errorf("docker service update --image: %w", err)
	}
	deadline = t0.Add(o.timeout)
	var completedAt, completedSeen time.Time
	r.minHealthy, r.maxLive = o.tasks, 0
	for {
		harness.Sleep(ctx, o.poll)
		if err := ctx.Err(); err != nil {
			return r, err
		}
		s, now, ok := w.poll(ctx)
		if ok {
			r.minHealthy = min(r.minHealthy, w.count("", (*stask).healthy))
			r.maxLive = max(r.maxLive, w.count("", (*stask).live))
			if u := s.UpdateStatus; u != nil {
				switch u.State {
				case swarm.UpdateStateCompleted:
					if completedSeen.IsZero() {
						completedSeen = now
						if u.CompletedAt != nil {
							completedAt = *u.CompletedAt
						}
						r.cpu = harness.Window(c0, harness.SampleCPU(nil, nil))
					}
				case swarm.UpdateStatePaused, swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackPaused, swarm.UpdateStateRollbackCompleted:
					return r, fmt.Errorf("the Swarm update is %s: %s", u.State, u.Message)
				}
			}
			if !completedSeen.IsZero() && w.count("v2", (*stask).healthy) == o.tasks &&
				w.count("v1", func(t *stask) bool { return !t.terminal() }) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%w: Swarm update not completed after %s (%d v2 tasks running, %d v1 tasks not ended; %s)", harness.ErrTimeout, o.timeout,
				w.count("v2", (*stask).healthy), w.count("v1", func(t *stask) bool { return !t.terminal() }), w.firstErr)
		}
	}
	tasks := map[string]rolloutTask{}
	for id, t := range w.tasks {
		rt := rolloutTask{version: t.version, created: t.createdAt, ended: t.stateAt}
		if t.healthy() {
			rt.healthy = t.stateAt
		}
		tasks[id] = rt
	}
	r.summarise(rolloutEnd{t0: t0, seen: completedSeen, reported: completedAt,
		noReport: "the completed update has no CompletedAt; completed is when a poll saw it",
		polls:    w.polls, errs: w.errs, firstErr: w.firstErr}, tasks)
	if n := w.count("v2", (*stask).terminal); n > 0 {
		r.note("%d v2 tasks ended during the rollout", n)
	}
	starts, err := containerStarts(ctx, e.docker, runName, e.images.v2ID, "com.docker.swarm.task.id")
	if err != nil {
		r.note("docker inspect: %v", err)
	}
	r.containerTimes(t0, starts, tasks)
	for id, t := range w.tasks {
		line := fmt.Sprintf("%s task %s: created %s, container started %s, %s %s (desired %s)",
			t.version, harness.ShortID(id), offset(t0, t.createdAt), offset(t0, starts[id]), t.state, offset(t0, t.stateAt), t.desired)
		if t.errText != "" {
			line += " (" + t.errText + ")"
		}
		r.timeline = append(r.timeline, timelineEntry{at: t.createdAt, line: line})
	}
	return r, nil
}

// containerStarts is when each container of the run started from image
// imageID (Docker's State.StartedAt), by the value of its label taskLabel
// (the task it belongs to).
func containerStarts(ctx context.Context, d *harness.Docker, runName, imageID, taskLabel string) (map[string]time.Time, error) {
	list, err := d.Cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", runLabel+"="+runName)})
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for _, c := range list.Items {
		if c.ImageID != imageID {
			continue
		}
		in, err := d.Cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return out, err
		}
		if in.Container.State == nil {
			continue
		}
		st, err := time.Parse(time.RFC3339Nano, in.Container.State.StartedAt)
		if err != nil || st.IsZero() || st.Year() < 2000 {
			continue // never started
		}
		out[c.Labels[taskLabel]] = st
	}
	return out, nil
}
