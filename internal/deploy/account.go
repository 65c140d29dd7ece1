package deploy

import (
	"slices"
	"time"
)

// launchFailure reports whether a STOPPED task failed to launch: it never
// reached RUNNING and nobody stopped it on purpose (a user, the service
// scheduler, or the loss of its host).
func launchFailure(t *Task) bool {
	if !t.StartedAt.IsZero() {
		return false
	}
	switch t.StopCode {
	case StopUserInitiated, StopServiceSchedulerInitiated, StopTerminationNotice, StopSpotInterruption:
		return false
	}
	return true
}

// account counts, once per task, the tasks that stopped before reaching
// RUNNING: the launch throttle's consecutive failures and, while the
// deployment has no task that reached RUNNING, the circuit breaker's
// stage-1 failures.
func (r *round) account() {
	present := map[string]bool{}
	for i := range r.in.Tasks {
		present[r.in.Tasks[i].ID] = true
	}
	for i := range r.deps {
		d := &r.deps[i]
		d.Counted = slices.DeleteFunc(d.Counted, func(id string) bool { return !present[id] })
		counted := map[string]bool{}
		for _, id := range d.Counted {
			counted[id] = true
		}
		var lastStart time.Time
		var fresh []*Task
		for j := range r.in.Tasks {
			t := &r.in.Tasks[j]
			if t.DeploymentID != d.ID {
				continue
			}
			if t.StartedAt.After(lastStart) {
				lastStart = t.StartedAt
			}
			if t.LastStatus == TaskStopped && !counted[t.ID] {
				fresh = append(fresh, t)
			}
		}
		inProgress := d.RolloutState == RolloutInProgress
		// Stage 2 starts, and the stage-1 count resets, once a task has
		// reached RUNNING (ECS: "Once a service deployment has one or more
		// successfully running tasks, the failed task count resets to
		// zero").
		if !lastStart.IsZero() && !d.ReachedRunning {
			d.ReachedRunning = true
			if inProgress {
				d.FailedTasks = 0
			}
		}
		// A task that reached RUNNING after the last launch failure ends
		// the run of consecutive failures.
		if lastStart.After(d.LastLaunchFailureAt) {
			d.LaunchFailures = 0
		}
		before := d.LaunchFailures
		for _, t := range fresh {
			d.Counted = append(d.Counted, t.ID)
			if !launchFailure(t) {
				continue
			}
			at := t.StoppedAt
			if at.IsZero() {
				at = r.now
			}
			if at.Before(lastStart) {
				continue // a task has run since: not consecutive
			}
			d.LaunchFailures++
			if at.After(d.LastLaunchFailureAt) {
				d.LastLaunchFailureAt = at
			}
			if inProgress && !d.ReachedRunning {
				d.FailedTasks++
				if at.After(d.LastFailureAt) {
					d.LastFailureAt = at
				}
			}
		}
		if i == r.primary {
			r.throttleCrossed = before < r.cfg.ThrottleAfter && d.LaunchFailures >= r.cfg.ThrottleAfter
		}
	}
}
