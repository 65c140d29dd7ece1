package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/bench/internal/harness"
	"berth.dev/berth/internal/e2e/testimage"
)

// healthURL is where the test application answers its health check inside
// its container (bridge network, default port).
const healthURL = "http://127.0.0.1:8080/health"

// healthCommand is the container health check: the test application's own
// probe mode, since a FROM-scratch image has no shell or curl.
func healthCommand() []string {
	return []string{testimage.BinaryInImage, "health", healthURL}
}

// taskDef is one version of the service: the test application image, one
// essential container with the health check, in bridge mode.
func taskDef(family, image, runID, runName string, o *options) *ecs.RegisterTaskDefinitionInput {
	hc := &types.HealthCheck{
		Command:  append([]string{"CMD"}, healthCommand()...),
		Interval: aws.Int32(int32(o.healthInterval / time.Second)),
		Timeout:  aws.Int32(int32(o.healthTimeout / time.Second)),
		Retries:  aws.Int32(int32(o.healthRetries)),
	}
	if o.healthStartPeriod > 0 {
		hc.StartPeriod = aws.Int32(int32(o.healthStartPeriod / time.Second))
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:      aws.String(family),
		NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:         aws.String("app"),
			Image:        aws.String(image),
			Essential:    aws.Bool(true),
			Memory:       aws.Int32(int32(o.memory)),
			DockerLabels: map[string]string{benchLabel: runID, runLabel: runName},
			HealthCheck:  hc,
		}},
	}
}

// btask is what the bench knows of one task of the service.
type btask struct {
	arn, version          string // version: "v1" or "v2"
	createdAt, startedAt  time.Time
	stoppingAt, stoppedAt time.Time
	healthySeen           time.Time // the first poll that saw it RUNNING and HEALTHY
	last, desired, health string
	reason                string // stoppedReason
}

func (t *btask) live() bool    { return t.desired == "RUNNING" && t.last != "STOPPED" }
func (t *btask) healthy() bool { return t.live() && t.last == "RUNNING" && t.health == "HEALTHY" }

// berthWatch polls a service and all its tasks.
type berthWatch struct {
	c                *ecs.Client
	cluster, service string
	defs             map[string]string // task definition ARN → version
	tasks            map[string]*btask
	ignore           map[string]bool // tasks left out (replaced before the update)
	polls, errs      int
	firstErr         string
}

// poll reads the service and its tasks (desired RUNNING and STOPPED) once.
// A failed call counts as a failed poll; the caller asks again.
func (w *berthWatch) poll(ctx context.Context) (*types.Service, time.Time, bool) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	w.polls++
	fail := func(err error) (*types.Service, time.Time, bool) {
		w.errs++
		if w.firstErr == "" {
			w.firstErr = err.Error()
		}
		return nil, time.Time{}, false
	}
	ds, err := w.c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(w.cluster), Services: []string{w.service}})
	if err != nil {
		return fail(err)
	}
	if len(ds.Services) != 1 {
		return fail(fmt.Errorf("DescribeServices: %d services, failures %v", len(ds.Services), ds.Failures))
	}
	var arns []string
	for _, st := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		in := &ecs.ListTasksInput{Cluster: aws.String(w.cluster), ServiceName: aws.String(w.service), DesiredStatus: st}
		for {
			out, err := w.c.ListTasks(ctx, in)
			if err != nil {
				return fail(err)
			}
			arns = append(arns, out.TaskArns...)
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	slices.Sort(arns)
	arns = slices.Compact(arns)
	var tasks []types.Task
	for chunk := range slices.Chunk(arns, 100) {
		out, err := w.c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.cluster), Tasks: chunk})
		if err != nil {
			return fail(err)
		}
		tasks = append(tasks, out.Tasks...)
	}
	now := time.Now()
	for _, t := range tasks {
		arn := aws.ToString(t.TaskArn)
		if w.ignore[arn] {
			continue
		}
		bt := w.tasks[arn]
		if bt == nil {
			bt = &btask{arn: arn, version: w.defs[aws.ToString(t.TaskDefinitionArn)]}
			w.tasks[arn] = bt
		}
		bt.last, bt.desired, bt.health = aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus), string(t.HealthStatus)
		bt.createdAt, bt.startedAt = aws.ToTime(t.CreatedAt), aws.ToTime(t.StartedAt)
		bt.stoppingAt, bt.stoppedAt = aws.ToTime(t.StoppingAt), aws.ToTime(t.StoppedAt)
		bt.reason = aws.ToString(t.StoppedReason)
		if bt.healthy() && bt.healthySeen.IsZero() {
			bt.healthySeen = now
		}
	}
	return &ds.Services[0], now, true
}

// count is the number of tasks of version (any version when "") for
// which f holds.
func (w *berthWatch) count(version string, f func(*btask) bool) int {
	n := 0
	for _, t := range w.tasks {
		if (version == "" || t.version == version) && f(t) {
			n++
		}
	}
	return n
}

// deployment is the deployment with id, or the PRIMARY one when id is "".
func deployment(s *types.Service, id string) *types.Deployment {
	for i, d := range s.Deployments {
		if (id == "" && aws.ToString(d.Status) == "PRIMARY") || (id != "" && aws.ToString(d.Id) == id) {
			return &s.Deployments[i]
		}
	}
	return nil
}

// waitSteady polls until the PRIMARY deployment of version is COMPLETED
// with n healthy tasks of that version and no other task live.
func (w *berthWatch) waitSteady(ctx context.Context, version string, n int, poll, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s, _, ok := w.poll(ctx)
		if ok {
			d := deployment(s, "")
			if d != nil && d.RolloutState == types.DeploymentRolloutStateCompleted &&
				w.count(version, (*btask).healthy) == n && w.count("", (*btask).live) == n {
				return nil
			}
			if d != nil && d.RolloutState == types.DeploymentRolloutStateFailed {
				return fmt.Errorf("deployment %s FAILED: %s", aws.ToString(d.Id), aws.ToString(d.RolloutStateReason))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: service not steady on %s after %s (%d healthy, %d live; %s)", harness.ErrTimeout, version, timeout,
				w.count(version, (*btask).healthy), w.count("", (*btask).live), w.firstErr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// runBerth is one berth run: a server and a Docker agent of their own, the
// service created on v1 and updated to v2, then deleted.
func runBerth(ctx, hard context.Context, e *env, cfg config, p plan, rep int) (r *result, err error) {
	o := e.o
	r = &result{system: "berth", cfg: cfg, rep: rep, minHealthy: -1, maxLive: -1, loadavg: harness.LoadAvg()}
	dir, err := os.MkdirTemp(e.root, fmt.Sprintf("berth-%s-%d-", cfg.slug(), rep))
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	srv, err := harness.StartServer(ctx, e.berth, dir, o.Region)
	if err != nil {
		return r, err
	}
	defer srv.StopInto(30*time.Second, &err)
	c, err := harness.NewClient(ctx, srv, 0)
	if err != nil {
		return r, err
	}
	const cluster, service, family = "bench-deploy", "web", "bench-deploy-web"
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return r, err
	}
	runName := fmt.Sprintf("%s-berth-%s-%d", e.runID, cfg.slug(), rep)
	ag, err := harness.StartAgent(e.berth, srv, dir, cluster, "docker",
		"--stop-timeout", o.stopTimeout.String(),
		// The images are local, as for Swarm (image IDs): no task asks a
		// registry.
		"--image-pull-behavior", "prefer-cached")
	if err != nil {
		return r, err
	}
	defer func() {
		if aerr := ag.Stop(30 * time.Second); aerr != nil && err == nil {
			err = aerr
		}
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, rerr := e.docker.RemoveLabelled(cctx, runLabel, runName); rerr != nil && err == nil {
			err = rerr
		}
		if t := ag.LogTail(3000); err != nil && !errors.Is(err, context.Canceled) && strings.TrimSpace(t) != "" {
			err = fmt.Errorf("%w\nagent log (end):\n%s", err, t)
		}
	}()
	if _, err := harness.WaitInstance(ctx, c, cluster, ag, 60*time.Second); err != nil {
		return r, err
	}
	w := &berthWatch{c: c, cluster: cluster, service: service, defs: map[string]string{}, tasks: map[string]*btask{}, ignore: map[string]bool{}}
	var defs [2]string
	for i, v := range []struct{ version, image string }{{"v1", e.images.v1Tag}, {"v2", e.images.v2Tag}} {
		out, err := c.RegisterTaskDefinition(ctx, taskDef(family, v.image, e.runID, runName, o))
		if err != nil {
			return r, err
		}
		defs[i] = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
		w.defs[defs[i]] = v.version
	}

	// v1: create and wait until steady.
	start := time.Now()
	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(service), TaskDefinition: aws.String(defs[0]),
		DesiredCount: aws.Int32(int32(o.tasks)),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent: aws.Int32(int32(cfg.minPct)), MaximumPercent: aws.Int32(int32(cfg.maxPct)),
		},
	})
	if err != nil {
		return r, err
	}
	defer func() {
		// Delete the service and wait (until the second interrupt at most)
		// for its tasks to stop; the agent and the containers go anyway.
		if derr := deleteService(hard, w, o.poll); derr != nil && err == nil {
			err = derr
		}
	}()
	if err := w.waitSteady(ctx, "v1", o.tasks, o.poll, o.timeout); err != nil {
		return r, err
	}
	r.create = time.Since(start)
	harness.Sleep(ctx, o.settle)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}

	// v2: update and follow until COMPLETED, every v2 task HEALTHY and
	// every v1 task STOPPED.
	var replaced []string
	for _, t := range w.tasks {
		if t.version == "v1" && !t.live() {
			// Replaced while the service came up: not part of the update.
			w.ignore[t.arn] = true
			delete(w.tasks, t.arn)
			replaced = append(replaced, t.reason)
		}
	}
	if len(replaced) > 0 {
		r.note("%d v1 tasks were replaced before the service was steady (%s)", len(replaced), reasons(replaced))
	}
	c0 := harness.SampleCPU(srv.Proc, ag.Proc)
	t0 := time.Now()
	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(cluster), Service: aws.String(service), TaskDefinition: aws.String(defs[1]),
	})
	if err != nil {
		return r, err
	}
	d := deployment(up.Service, "")
	if d == nil || aws.ToString(d.TaskDefinition) != defs[1] {
		return r, fmt.Errorf("UpdateService answered no PRIMARY deployment of %s", defs[1])
	}
	newID := aws.ToString(d.Id)
	deadline := t0.Add(o.timeout)
	var completedAt, completedSeen time.Time
	r.minHealthy, r.maxLive = o.tasks, 0
	for {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		s, now, ok := w.poll(ctx)
		if ok {
			r.minHealthy = min(r.minHealthy, w.count("", (*btask).healthy))
			r.maxLive = max(r.maxLive, w.count("", (*btask).live))
			d := deployment(s, newID)
			if d == nil {
				return r, fmt.Errorf("deployment %s left the service", newID)
			}
			switch d.RolloutState {
			case types.DeploymentRolloutStateFailed:
				return r, fmt.Errorf("deployment %s FAILED: %s", newID, aws.ToString(d.RolloutStateReason))
			case types.DeploymentRolloutStateCompleted:
				if completedSeen.IsZero() {
					completedSeen, completedAt = now, aws.ToTime(d.UpdatedAt)
					r.cpu = harness.Window(c0, harness.SampleCPU(srv.Proc, ag.Proc))
				}
			}
			if !completedSeen.IsZero() && w.count("v2", (*btask).healthy) == o.tasks &&
				w.count("v1", func(t *btask) bool { return t.last != "STOPPED" }) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%w: deployment not COMPLETED after %s (%d v2 tasks healthy, %d v1 tasks not stopped)", harness.ErrTimeout, o.timeout,
				w.count("v2", (*btask).healthy), w.count("v1", func(t *btask) bool { return t.last != "STOPPED" }))
		}
		harness.Sleep(ctx, o.poll)
	}
	tasks := map[string]rolloutTask{}
	for arn, t := range w.tasks {
		rt := rolloutTask{version: t.version, created: t.createdAt, ended: t.stoppedAt}
		if t.live() {
			rt.healthy = t.healthySeen
		}
		tasks[arn] = rt
	}
	r.summarise(rolloutEnd{t0: t0, seen: completedSeen, reported: completedAt,
		noReport: "the COMPLETED deployment has no updatedAt; COMPLETED is when a poll saw it",
		polls:    w.polls, errs: w.errs, firstErr: w.firstErr}, tasks)
	if r.allHealthy > r.completed {
		// The poll saw the last task HEALTHY after the server had seen it
		// (COMPLETED needs every task healthy): the server's time is closer.
		r.allHealthy = r.completed
	}
	if n := w.count("v2", func(t *btask) bool { return !t.live() }); n > 0 {
		r.note("%d v2 tasks stopped during the rollout", n)
	}

	// Container start times from the engine, matched to the tasks.
	starts, err := containerStarts(ctx, e.docker, runName, e.images.v2ID, "com.amazonaws.ecs.task-arn")
	if err != nil {
		r.note("docker inspect: %v", err)
	}
	r.containerTimes(t0, starts, tasks)
	for _, t := range w.tasks {
		line := fmt.Sprintf("%s task %s: created %s, container started %s, RUNNING %s, HEALTHY seen %s, stopping %s, STOPPED %s",
			t.version, shortArn(t.arn), offset(t0, t.createdAt), offset(t0, starts[t.arn]), offset(t0, t.startedAt), offset(t0, t.healthySeen), offset(t0, t.stoppingAt), offset(t0, t.stoppedAt))
		if t.reason != "" {
			line += " (" + t.reason + ")"
		}
		r.timeline = append(r.timeline, timelineEntry{at: t.createdAt, line: line})
	}
	return r, nil
}

// shortArn is the task ID of a task ARN.
func shortArn(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// deleteService deletes the service (force: scaled to 0 at once) and waits
// until none of its tasks is live, at most a minute.
func deleteService(ctx context.Context, w *berthWatch, poll time.Duration) error {
	if _, err := w.c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(w.cluster), Service: aws.String(w.service), Force: aws.Bool(true)}); err != nil {
		return fmt.Errorf("DeleteService: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if _, _, ok := w.poll(ctx); ok && w.count("", func(t *btask) bool { return t.last != "STOPPED" }) == 0 {
			return nil
		}
		harness.Sleep(ctx, poll)
	}
	return nil // the agent's stop and the container clean-up take care of the rest
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// since is t − t0, 0 when t is unknown.
func since(t0, t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return t.Sub(t0)
}

// minPos is the smaller of a and b, a 0 a being unknown.
func minPos(a, b time.Duration) time.Duration {
	if a == 0 {
		return b
	}
	return min(a, b)
}
