package agent

import (
	"context"
	"maps"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/agentproto"
)

// reportConcurrency bounds the reports in flight at once.
const reportConcurrency = 16

// report is a task's full observed state. Reports are idempotent: the
// server only moves statuses forward, so sending one twice is harmless.
type report struct {
	TaskArn            string
	Status             string // PENDING, RUNNING, STOPPING, STOPPED
	Reason             string
	Containers         []containerReport
	PullStartedAt      *time.Time
	PullStoppedAt      *time.Time
	ExecutionStoppedAt *time.Time
	Health             map[string]string
	// Started says the task reached RUNNING (the planner's StartedAt).
	Started bool
}

type containerReport struct {
	Name      string
	RuntimeID string
	Status    string // PENDING, RUNNING, STOPPED
	ExitCode  *int32
	Reason    string
	Bindings  []types.NetworkBinding
}

// reporter sends the latest report of every task, coalescing changes that
// arrive while a send is under way and retrying until the server
// acknowledges: a control-plane outage delays reports, never loses them.
//
// Invariant: a task whose want may differ from its sent is in dirty, so a
// round looks at the tasks that changed (or failed), not at every task.
type reporter struct {
	a     *Agent
	mu    sync.Mutex
	want  map[string]*report // latest per task
	sent  map[string]*report // last acknowledged per task
	dirty map[string]bool    // tasks to look at in the next round
	kick  chan struct{}
}

func newReporter(a *Agent) *reporter {
	return &reporter{a: a, want: map[string]*report{}, sent: map[string]*report{}, dirty: map[string]bool{},
		kick: make(chan struct{}, 1)}
}

// put records a task's new state.
func (r *reporter) put(rep *report) {
	r.mu.Lock()
	r.want[rep.TaskArn] = rep
	r.dirty[rep.TaskArn] = true
	r.mu.Unlock()
	r.poke()
}

// drop forgets a task once its STOPPED report was acknowledged.
func (r *reporter) drop(taskArn string) {
	r.mu.Lock()
	delete(r.want, taskArn)
	delete(r.sent, taskArn)
	delete(r.dirty, taskArn)
	r.mu.Unlock()
}

// resync resends every task's state (after a reconnect the server may have
// missed reports, or restarted).
func (r *reporter) resync() {
	r.mu.Lock()
	r.sent = map[string]*report{}
	for arn := range r.want {
		r.dirty[arn] = true
	}
	r.mu.Unlock()
	r.poke()
}

func (r *reporter) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// acked reports whether the task's STOPPED state was acknowledged.
func (r *reporter) acked(taskArn, status string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sent[taskArn]
	return s != nil && s.Status == status
}

func (r *reporter) run(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	delay := 200 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-retry.C:
		}
		// Reports go out concurrently (bounded): the server commits them in
		// shared raft batches, so many tasks' reports cost few fsyncs.
		var failed atomic.Bool
		var wg sync.WaitGroup
		sem := make(chan struct{}, reportConcurrency)
		for _, rep := range r.due() {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := r.send(ctx, rep); err != nil {
					if ctx.Err() == nil {
						r.a.log.Debug("report not delivered; will retry", "task", rep.TaskArn, "err", err)
					}
					failed.Store(true)
					r.mu.Lock()
					if r.want[rep.TaskArn] != nil {
						r.dirty[rep.TaskArn] = true // again in the retry round
					}
					r.mu.Unlock()
					return
				}
				r.mu.Lock()
				if r.want[rep.TaskArn] != nil { // not dropped meanwhile
					r.sent[rep.TaskArn] = rep
				}
				r.mu.Unlock()
				if rep.Status == "STOPPED" {
					r.a.taskReported(rep.TaskArn)
				}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		if failed.Load() {
			retry.Reset(delay)
			delay = min(delay*2, 5*time.Second)
		} else {
			delay = 200 * time.Millisecond
		}
	}
}

// due returns the reports of the changed tasks that differ from what was
// acknowledged, and clears the changed set.
func (r *reporter) due() []*report {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*report
	for arn := range r.dirty {
		delete(r.dirty, arn)
		w := r.want[arn]
		if w == nil {
			continue
		}
		if s := r.sent[arn]; s == nil || !reflect.DeepEqual(s, w) {
			out = append(out, w)
		}
	}
	return out
}

// send delivers one report: SubmitContainerStateChange when only one
// container changed and the task's status did not, else
// SubmitTaskStateChange; then the health, when it changed.
func (r *reporter) send(ctx context.Context, rep *report) error {
	r.mu.Lock()
	prev := r.sent[rep.TaskArn]
	r.mu.Unlock()
	cluster := aws.String(r.a.cfg.Cluster)
	changed := changedContainers(prev, rep)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch {
	case prev != nil && prev.Status == rep.Status && prev.Reason == rep.Reason && len(changed) == 1 && sameTimes(prev, rep):
		c := changed[0]
		_, err := r.a.ecs.SubmitContainerStateChange(ctx, &ecs.SubmitContainerStateChangeInput{
			Cluster: cluster, Task: aws.String(rep.TaskArn), ContainerName: aws.String(c.Name),
			RuntimeId: optional(c.RuntimeID), Status: aws.String(c.Status), ExitCode: c.ExitCode,
			Reason: optional(c.Reason), NetworkBindings: c.Bindings,
		})
		if err != nil {
			return err
		}
	case prev == nil || !reflect.DeepEqual(withoutHealth(prev), withoutHealth(rep)):
		// A task that ran is shown RUNNING before it stops, even when its
		// RUNNING report was coalesced away (a container that exits at
		// once): the server sets startedAt from it, and tells an essential
		// container's exit (EssentialContainerExited) from a task that
		// never started (TaskFailedToStart) by it.
		if rep.Started && (rep.Status == "STOPPING" || rep.Status == "STOPPED") && (prev == nil || prev.Status == "PENDING") {
			if _, err := r.a.ecs.SubmitTaskStateChange(ctx, &ecs.SubmitTaskStateChangeInput{
				Cluster: cluster, Task: aws.String(rep.TaskArn), Status: aws.String("RUNNING"),
				PullStartedAt: rep.PullStartedAt, PullStoppedAt: rep.PullStoppedAt,
			}); err != nil {
				return err
			}
		}
		in := &ecs.SubmitTaskStateChangeInput{
			Cluster: cluster, Task: aws.String(rep.TaskArn), Status: aws.String(rep.Status), Reason: optional(rep.Reason),
			PullStartedAt: rep.PullStartedAt, PullStoppedAt: rep.PullStoppedAt, ExecutionStoppedAt: rep.ExecutionStoppedAt,
		}
		for _, c := range rep.Containers {
			in.Containers = append(in.Containers, types.ContainerStateChange{
				ContainerName: aws.String(c.Name), RuntimeId: optional(c.RuntimeID), Status: aws.String(c.Status),
				ExitCode: c.ExitCode, Reason: optional(c.Reason), NetworkBindings: c.Bindings,
			})
		}
		if _, err := r.a.ecs.SubmitTaskStateChange(ctx, in); err != nil {
			return err
		}
	}
	if rep.Health != nil && (prev == nil || !maps.Equal(prev.Health, rep.Health)) {
		req, err := r.a.signedRequest(ctx, http.MethodPost, agentproto.PathHealth,
			agentproto.HealthReport{Cluster: r.a.cfg.Cluster, TaskArn: rep.TaskArn, Health: rep.Health})
		if err != nil {
			return err
		}
		resp, err := r.a.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return apiError(resp)
		}
	}
	return nil
}

func withoutHealth(r *report) report {
	cp := *r
	cp.Health = nil
	return cp
}

func sameTimes(a, b *report) bool {
	return reflect.DeepEqual(a.PullStartedAt, b.PullStartedAt) && reflect.DeepEqual(a.PullStoppedAt, b.PullStoppedAt) &&
		reflect.DeepEqual(a.ExecutionStoppedAt, b.ExecutionStoppedAt)
}

func changedContainers(prev, rep *report) []containerReport {
	if prev == nil || len(prev.Containers) != len(rep.Containers) {
		return rep.Containers
	}
	var out []containerReport
	for i := range rep.Containers {
		if !reflect.DeepEqual(prev.Containers[i], rep.Containers[i]) {
			out = append(out, rep.Containers[i])
		}
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
