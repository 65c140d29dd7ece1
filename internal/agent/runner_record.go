package agent

import (
	"time"

	"berth.dev/berth/internal/taskplan"
)

// persist records the server's desired status and, once the task is to
// stop, the stop (fsynced: a task told to stop, or failing, is never
// started again, even after a power loss).
func (r *runner) persist(d taskplan.Decision) {
	desired := !r.held && r.task.DesiredStatus != r.saved.desired
	stop := d.Desired == taskplan.DesiredStopped && !r.saved.stopping
	if !desired && !stop {
		return
	}
	if err := r.a.store.updateTaskDurably(r.arn, func(t *savedTask) { r.record(t, d) }); err != nil {
		r.log.Error("persist the task's desired status", "err", err)
	}
}

// record writes the runner's view of the lifecycle into the task's record.
func (r *runner) record(t *savedTask, d taskplan.Decision) {
	t.Format = recordFormat
	t.Desired = r.task.DesiredStatus
	r.saved.desired = t.Desired
	if d.Desired == taskplan.DesiredStopped && t.Stopping == nil {
		at := r.plan.StoppingAt
		if at.IsZero() {
			at = time.Now()
		}
		t.Stopping = &stopRecord{Code: d.StopCode, Reason: d.StoppedReason, At: at}
	}
	r.saved.stopping = t.Stopping != nil
}

// finish records that the task is STOPPED: when, and the report to send
// again after a restart until the server has it.
func (r *runner) finish(d taskplan.Decision) {
	at := latestFinish(r.plan.States)
	var final *report
	if !r.forgotten {
		final = r.last
	}
	write := r.a.store.updateTask
	if !r.saved.stopping {
		write = r.a.store.updateTaskDurably
	}
	if err := write(r.arn, func(t *savedTask) {
		r.record(t, d)
		t.StoppedAt, t.Final = &at, final
	}); err != nil {
		r.log.Error("persist the task's stop", "err", err)
	}
}

// latestFinish is when the last container stopped, or now when none says.
func latestFinish(states []taskplan.ContainerState) time.Time {
	var at time.Time
	for _, s := range states {
		if s.FinishedAt.After(at) {
			at = s.FinishedAt
		}
	}
	if now := time.Now(); at.IsZero() || at.After(now) {
		return now
	}
	return at
}

// taskReported is called once a task's STOPPED report is acknowledged.
func (a *Agent) taskReported(taskArn string) {
	if err := a.store.updateTask(taskArn, func(t *savedTask) { t.Reported = "STOPPED" }); err != nil {
		a.log.Warn("persist a task's acknowledgement", "task", taskID(taskArn), "err", err)
	}
	a.finished.reported(taskArn)
}
