package agent

import (
	"context"
	"log/slog"
	"maps"
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

// reportSink takes the agent's reports: the ECS agent actions and berth's
// health reports.
type reportSink interface {
	SubmitTaskStateChange(ctx context.Context, in *ecs.SubmitTaskStateChangeInput, opts ...func(*ecs.Options)) (*ecs.SubmitTaskStateChangeOutput, error)
	SubmitContainerStateChange(ctx context.Context, in *ecs.SubmitContainerStateChangeInput, opts ...func(*ecs.Options)) (*ecs.SubmitContainerStateChangeOutput, error)
	ReportHealth(ctx context.Context, rep agentproto.HealthReport) error
}

// report is a task's full observed state. Reports are idempotent: the
// server only moves statuses forward, so sending one twice is harmless. A
// task's STOPPED report is kept in its record (savedTask.Final).
type report struct {
	TaskArn            string            `json:"taskArn"`
	Status             string            `json:"status"` // PENDING, RUNNING, STOPPING, STOPPED
	Reason             string            `json:"reason,omitempty"`
	Containers         []containerReport `json:"containers"`
	PullStartedAt      *time.Time        `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *time.Time        `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt *time.Time        `json:"executionStoppedAt,omitempty"`
	Health             map[string]string `json:"health,omitempty"`
	// Started says the task reached RUNNING (the planner's StartedAt).
	Started bool `json:"started,omitempty"`
}

type containerReport struct {
	Name      string                 `json:"name"`
	RuntimeID string                 `json:"runtimeId,omitempty"`
	Status    string                 `json:"status"` // PENDING, RUNNING, STOPPED
	ExitCode  *int32                 `json:"exitCode,omitempty"`
	Reason    string                 `json:"reason,omitempty"`
	Bindings  []types.NetworkBinding `json:"bindings,omitempty"`
}

// reporter sends the latest report of every task, coalescing changes that
// arrive while a send is under way and retrying until the server
// acknowledges: a control-plane outage delays reports, never loses them.
//
// Invariants: a task whose want may differ from its sent is in dirty, so a
// round looks at the tasks that changed (or failed), not at every task. A
// task is in busy, and counts one in work, from the report put until the
// server acknowledged the latest one (or the task is dropped). A task whose
// STOPPED report is acknowledged is forgotten (stopped is told).
type reporter struct {
	sink    reportSink
	cluster string
	log     *slog.Logger
	work    *tally
	stopped func(taskArn string) // a task's STOPPED report was acknowledged

	mu    sync.Mutex
	want  map[string]*report // latest per task
	sent  map[string]*report // last acknowledged per task
	dirty map[string]bool    // tasks to look at in the next round
	busy  map[string]bool    // tasks whose latest report is not acknowledged
	kick  chan struct{}
}

func newReporter(sink reportSink, cluster string, log *slog.Logger, work *tally, stopped func(string)) *reporter {
	return &reporter{sink: sink, cluster: cluster, log: log, work: work, stopped: stopped,
		want: map[string]*report{}, sent: map[string]*report{}, dirty: map[string]bool{}, busy: map[string]bool{},
		kick: make(chan struct{}, 1)}
}

// put records a task's new state.
func (r *reporter) put(rep *report) {
	r.mu.Lock()
	r.want[rep.TaskArn] = rep
	r.dirty[rep.TaskArn] = true
	r.markBusy(rep.TaskArn)
	r.mu.Unlock()
	r.poke()
}

// drop forgets a task: the server no longer wants its reports.
func (r *reporter) drop(taskArn string) {
	r.mu.Lock()
	r.forget(taskArn)
	r.mu.Unlock()
}

// forget drops a task; r.mu is held.
func (r *reporter) forget(taskArn string) {
	delete(r.want, taskArn)
	delete(r.sent, taskArn)
	delete(r.dirty, taskArn)
	r.settle(taskArn)
}

// markBusy and settle move a task in and out of busy; r.mu is held.
func (r *reporter) markBusy(taskArn string) {
	if !r.busy[taskArn] {
		r.busy[taskArn] = true
		r.work.add(1)
	}
}

func (r *reporter) settle(taskArn string) {
	if r.busy[taskArn] {
		delete(r.busy, taskArn)
		r.work.add(-1)
	}
}

// resync resends every task's state (after a reconnect the server may have
// missed reports, or restarted).
func (r *reporter) resync() {
	r.mu.Lock()
	r.sent = map[string]*report{}
	for arn := range r.want {
		r.dirty[arn] = true
		r.markBusy(arn)
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
			wg.Go(func() {
				defer func() { <-sem }()
				if err := r.send(ctx, rep); err != nil {
					if ctx.Err() == nil {
						r.log.Debug("report not delivered; will retry", "task", rep.TaskArn, "err", err)
					}
					failed.Store(true)
					r.mu.Lock()
					if r.want[rep.TaskArn] != nil {
						r.dirty[rep.TaskArn] = true // again in the retry round
					}
					r.mu.Unlock()
					return
				}
				r.acknowledged(rep)
			})
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

// acknowledged records that the server took rep. A STOPPED report is told
// first, so the task counts as settled only once that is done.
func (r *reporter) acknowledged(rep *report) {
	if rep.Status == "STOPPED" {
		r.stopped(rep.TaskArn)
	}
	r.mu.Lock()
	latest := r.want[rep.TaskArn] == rep
	switch {
	case latest && rep.Status == "STOPPED":
		r.forget(rep.TaskArn) // nothing more to say about it
	case latest:
		r.sent[rep.TaskArn] = rep
		r.settle(rep.TaskArn)
	case r.want[rep.TaskArn] != nil: // changed meanwhile: dirty, sent next round
		r.sent[rep.TaskArn] = rep
	}
	r.mu.Unlock()
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
		} else {
			r.settle(arn)
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
	cluster := aws.String(r.cluster)
	changed := changedContainers(prev, rep)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch {
	case prev != nil && prev.Status == rep.Status && prev.Reason == rep.Reason && len(changed) == 1 && sameTimes(prev, rep):
		c := changed[0]
		_, err := r.sink.SubmitContainerStateChange(ctx, &ecs.SubmitContainerStateChangeInput{
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
			if _, err := r.sink.SubmitTaskStateChange(ctx, &ecs.SubmitTaskStateChangeInput{
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
		if _, err := r.sink.SubmitTaskStateChange(ctx, in); err != nil {
			return err
		}
	}
	if rep.Health != nil && (prev == nil || !maps.Equal(prev.Health, rep.Health)) {
		return r.sink.ReportHealth(ctx, agentproto.HealthReport{Cluster: r.cluster, TaskArn: rep.TaskArn, Health: rep.Health})
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
