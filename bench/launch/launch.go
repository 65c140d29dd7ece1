package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/bench/internal/harness"
)

// benchLabel is the Docker label every container of a run carries (berth's
// through the task definition's dockerLabels, Swarm's through the service's
// container labels), so the bench removes exactly its own containers.
const benchLabel = "berth.bench.launch"

// taskDef is the task definition a phase launches: the test application,
// one essential container, memory MiB hard limit, cpu units.
func taskDef(family, runtime, image, binary, runID string, memory, cpu int32) *ecs.RegisterTaskDefinitionInput {
	c := types.ContainerDefinition{
		Name:         aws.String("app"),
		Image:        aws.String(image),
		Essential:    aws.Bool(true),
		Memory:       aws.Int32(memory),
		Cpu:          cpu,
		DockerLabels: map[string]string{benchLabel: runID},
	}
	if runtime == "process" {
		// Host processes share the host's network: every task listens on an
		// ephemeral loopback port, so 1,000 of them never collide.
		c.EntryPoint = []string{binary}
		c.Command = []string{"--listen", "127.0.0.1:0"}
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String(family),
		NetworkMode:          types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{c},
	}
}

// launchOpts says how a phase launches its tasks.
type launchOpts struct {
	cluster  string
	taskDef  string // family:revision
	count    int
	perCall  int // tasks per RunTask (≤ 10)
	callers  int // concurrent RunTask callers
	poll     time.Duration
	timeout  time.Duration // for RUNNING and for STOPPED each
	startBy  string
	network  *types.NetworkConfiguration // RunTask's (awsvpc tasks); nil for none
	onPeak   func()                      // called once every task is RUNNING (or at the timeout), before stopping
	progress func(string)
}

// taskTrack is what the bench knows of one task.
type taskTrack struct {
	arn       string
	status    string
	startedAt time.Time // server clock, when it recorded RUNNING
	stoppedAt time.Time
	seenAt    time.Time // bench clock, when a DescribeTasks first showed the status waited for
	reason    string
}

// launchResult is one launch-and-stop run.
type launchResult struct {
	requested int
	launched  int // tasks RunTask created
	// runTaskErrors are failed calls; placementFailures are the failures
	// RunTask answered (tasks it could not place).
	runTaskErrors     int
	placementFailures int
	firstErrors       []string

	runTaskTime time.Duration // first RunTask sent → last RunTask answered
	// toRunning is first RunTask sent → the server's startedAt of the last
	// task (server clock, same host); toRunningSeen is → the poll that saw
	// the last task RUNNING.
	toRunning, toRunningSeen time.Duration
	running                  int // tasks that reached RUNNING
	failedToStart            []string
	stuck                    []string // still not RUNNING at the timeout (ARN: status)

	stopCallTime             time.Duration
	toStopped, toStoppedSeen time.Duration
	stopped                  int
	stopErrors               int
	notStopped               []string

	describeCalls  int // DescribeTasks calls made while waiting
	describeErrors int // of which failed (the next poll asks again)
}

// complete reports whether every requested task reached RUNNING.
func (r *launchResult) complete() bool { return r.running == r.requested }

func (r *launchResult) rate() float64 {
	if r.toRunning <= 0 || r.running == 0 {
		return 0
	}
	return float64(r.running) / r.toRunning.Seconds()
}

func (r *launchResult) stopRate() float64 {
	if r.toStopped <= 0 || r.stopped == 0 {
		return 0
	}
	return float64(r.stopped) / r.toStopped.Seconds()
}

func (r *launchResult) addErr(msg string) {
	if len(r.firstErrors) < 5 {
		r.firstErrors = append(r.firstErrors, msg)
	}
}

// launchAndStop runs o.count tasks, waits until all are RUNNING, calls
// o.onPeak, stops them all and waits until all are STOPPED. Launching ends
// with ctx; stopping only with hard.
func launchAndStop(ctx, hard context.Context, c *ecs.Client, o launchOpts) (*launchResult, error) {
	res := &launchResult{requested: o.count}
	var mu sync.Mutex
	tracks := map[string]*taskTrack{}
	pending := map[string]*taskTrack{} // not yet at the status waited for

	// Launch: batches of perCall from o.callers goroutines.
	batches := make(chan int, o.count/o.perCall+1)
	for left := o.count; left > 0; left -= o.perCall {
		batches <- min(left, o.perCall)
	}
	close(batches)
	start := time.Now()
	var launchDone time.Time
	var wg sync.WaitGroup
	for range o.callers {
		wg.Go(func() {
			for n := range batches {
				if ctx.Err() != nil {
					return
				}
				out, err := c.RunTask(ctx, &ecs.RunTaskInput{
					Cluster: aws.String(o.cluster), TaskDefinition: aws.String(o.taskDef),
					Count: aws.Int32(int32(n)), StartedBy: aws.String(o.startBy),
					NetworkConfiguration: o.network,
				})
				mu.Lock()
				if err != nil {
					res.runTaskErrors++
					res.addErr("RunTask: " + err.Error())
				} else {
					for _, f := range out.Failures {
						res.placementFailures++
						res.addErr(fmt.Sprintf("RunTask failure: %s %s", aws.ToString(f.Reason), aws.ToString(f.Detail)))
					}
					for _, t := range out.Tasks {
						tr := &taskTrack{arn: aws.ToString(t.TaskArn), status: aws.ToString(t.LastStatus)}
						tracks[tr.arn] = tr
						pending[tr.arn] = tr
						res.launched++
					}
				}
				mu.Unlock()
			}
		})
	}
	launching := make(chan struct{})
	go func() {
		wg.Wait()
		launchDone = time.Now()
		close(launching)
	}()

	// Wait for RUNNING while the launches go on.
	err := waitStatus(ctx, c, o, &mu, pending, launching, "RUNNING", res)
	<-launching
	res.runTaskTime = launchDone.Sub(start)
	var lastStart, lastSeen time.Time
	for _, t := range tracks {
		switch {
		case !t.startedAt.IsZero() && t.status != "STOPPED" && t.reason == "":
			res.running++
			if t.startedAt.After(lastStart) {
				lastStart = t.startedAt
			}
			if t.seenAt.After(lastSeen) {
				lastSeen = t.seenAt
			}
		case t.status == "STOPPED":
			res.failedToStart = append(res.failedToStart, fmt.Sprintf("%s: %s", t.arn, t.reason))
		default:
			res.stuck = append(res.stuck, fmt.Sprintf("%s: %s", t.arn, t.status))
		}
	}
	sort.Strings(res.failedToStart)
	sort.Strings(res.stuck)
	if res.running > 0 {
		res.toRunning = lastStart.Sub(start)
		res.toRunningSeen = lastSeen.Sub(start)
	}
	if o.onPeak != nil {
		o.onPeak()
	}
	if err != nil && !errors.Is(err, harness.ErrTimeout) && !errors.Is(err, context.Canceled) || hard.Err() != nil {
		return res, err
	}

	// Stop every task that was created, whatever its state.
	stopCtx := hard // stop them even after a first Ctrl-C
	mu.Lock()
	for arn, t := range tracks {
		if t.status != "STOPPED" {
			t.seenAt = time.Time{}
			pending[arn] = t
		}
	}
	arns := make([]string, 0, len(pending))
	for arn := range pending {
		arns = append(arns, arn)
	}
	mu.Unlock()
	stopStart, serr := stopTasks(stopCtx, c, o, arns, &mu, pending, res)
	var lastStop time.Time
	lastSeen = time.Time{}
	for _, arn := range arns {
		t := tracks[arn]
		if t.status == "STOPPED" {
			res.stopped++
			if t.stoppedAt.After(lastStop) {
				lastStop = t.stoppedAt
			}
			if t.seenAt.After(lastSeen) {
				lastSeen = t.seenAt
			}
		} else {
			res.notStopped = append(res.notStopped, fmt.Sprintf("%s: %s", arn, t.status))
		}
	}
	sort.Strings(res.notStopped)
	if res.stopped > 0 && !lastStop.IsZero() {
		res.toStopped = lastStop.Sub(stopStart)
		res.toStoppedSeen = lastSeen.Sub(stopStart)
	}
	if err == nil {
		err = serr
	}
	return res, err
}

// stopTasks calls StopTask for every ARN from o.callers goroutines and waits
// until they are STOPPED. It returns when the first StopTask was sent.
func stopTasks(ctx context.Context, c *ecs.Client, o launchOpts, arns []string, mu *sync.Mutex, pending map[string]*taskTrack, res *launchResult) (time.Time, error) {
	start := time.Now()
	work := make(chan string, len(arns))
	for _, a := range arns {
		work <- a
	}
	close(work)
	var wg sync.WaitGroup
	for range o.callers {
		wg.Go(func() {
			for arn := range work {
				_, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(o.cluster), Task: aws.String(arn), Reason: aws.String("bench/launch")})
				if err != nil {
					mu.Lock()
					res.stopErrors++
					res.addErr("StopTask: " + err.Error())
					mu.Unlock()
				}
			}
		})
	}
	stopping := make(chan struct{})
	go func() {
		wg.Wait()
		res.stopCallTime = time.Since(start)
		close(stopping)
	}()
	err := waitStatus(ctx, c, o, mu, pending, stopping, "STOPPED", res)
	<-stopping
	return start, err
}

// waitStatus polls DescribeTasks for the pending tasks (batches of 100, four
// at a time, every o.poll) until every one has status want and no more
// tasks can come (more is closed), or o.timeout passes.
func waitStatus(ctx context.Context, c *ecs.Client, o launchOpts, mu *sync.Mutex, pending map[string]*taskTrack, more <-chan struct{}, want string, res *launchResult) error {
	deadline := time.Now().Add(o.timeout)
	lastProgress := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.poll):
		}
		mu.Lock()
		arns := make([]string, 0, len(pending))
		for arn := range pending {
			arns = append(arns, arn)
		}
		mu.Unlock()
		doneLaunching := false
		select {
		case <-more:
			doneLaunching = true
		default:
		}
		if len(arns) == 0 && doneLaunching {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d tasks not %s after %s", harness.ErrTimeout, len(arns), want, o.timeout)
		}
		slices.Sort(arns)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 4)
		for chunk := range slices.Chunk(arns, 100) {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(o.cluster), Tasks: chunk})
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				res.describeCalls++
				if err != nil {
					if res.describeErrors == 0 {
						res.addErr("DescribeTasks (asked again at the next poll): " + err.Error())
					}
					res.describeErrors++
					return
				}
				for _, t := range out.Tasks {
					tr := pending[aws.ToString(t.TaskArn)]
					if tr == nil {
						continue
					}
					tr.status = aws.ToString(t.LastStatus)
					if t.StartedAt != nil {
						tr.startedAt = *t.StartedAt
					}
					if t.StoppedAt != nil {
						tr.stoppedAt = *t.StoppedAt
					}
					if tr.status == "STOPPED" && want == "RUNNING" {
						// Stopped before it ran: a failed start.
						tr.reason = aws.ToString(t.StoppedReason)
						for _, cn := range t.Containers {
							if r := aws.ToString(cn.Reason); r != "" {
								tr.reason += " (" + aws.ToString(cn.Name) + ": " + r + ")"
							}
						}
						tr.seenAt = now
						delete(pending, tr.arn)
						continue
					}
					if tr.status == want {
						tr.seenAt = now
						delete(pending, tr.arn)
					}
				}
			})
		}
		wg.Wait()
		if o.progress != nil && time.Since(lastProgress) > 5*time.Second {
			lastProgress = time.Now()
			mu.Lock()
			n := len(pending)
			mu.Unlock()
			o.progress(fmt.Sprintf("%d tasks not yet %s", n, want))
		}
	}
}

// statusCounts summarises tasks' statuses, e.g. "PENDING 3, RUNNING 997".
func statusCounts(stuck []string) string {
	m := map[string]int{}
	for _, s := range stuck {
		_, st, _ := strings.Cut(s, ": ")
		m[st]++
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
