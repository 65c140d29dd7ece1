package deploy

import (
	"slices"
	"time"
)

// stoppedByItself reports whether a STOPPED task ended on its own: nobody
// stopped it on purpose (a user, the service scheduler, or the loss of its
// host).
func stoppedByItself(t *Task) bool {
	switch t.StopCode {
	case StopUserInitiated, StopServiceSchedulerInitiated, StopTerminationNotice, StopSpotInterruption:
		return false
	}
	return true
}

// launchFailure reports whether a STOPPED task failed to launch: it never
// reached RUNNING and stopped on its own.
func launchFailure(t *Task) bool {
	return t.StartedAt.IsZero() && stoppedByItself(t)
}

// checked reports whether the circuit breaker treats a deployment as one
// with health checks: its task definition has container health checks, or
// the service has target groups (the load balancer's health checks).
func (r *round) checked(d *Deployment) bool {
	return d.HealthChecks || r.in.Service.TargetGroups > 0
}

// healthFailure reports whether a STOPPED task of a checked deployment
// ended before it passed its health checks: it stopped on its own and its
// last reported health was not healthy (a container that exits as it
// starts reaches RUNNING for a moment, then stops before its first check):
// with container health checks, its health was not HEALTHY; with target
// groups, it was not registered in every one of them with every target
// healthy (the shell keeps a stopped task's targets as they were before
// it deregistered them).
func (r *round) healthFailure(d *Deployment, t *Task) bool {
	if !stoppedByItself(t) {
		return false
	}
	if d.HealthChecks && t.Health != HealthHealthy {
		return true
	}
	n := r.in.Service.TargetGroups
	return n > 0 && !targetsHealthy(t, n)
}

// account counts, once per task, the tasks that stopped before reaching
// RUNNING: the launch throttle's consecutive failures and, while the
// deployment has no task that reached RUNNING, the circuit breaker's
// stage-1 failures. In stage 2, a deployment with health checks (container
// health checks, or target groups: see checked) also counts for the
// circuit breaker the tasks that stopped on their own before they passed
// their health checks, and reaching RUNNING does not reset its count (ECS changed the breaker so in December 2021: "if a Task fails
// before reporting a health check, the failedTask count is not reset",
// aws/containers-roadmap#1206).
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
			if inProgress && !r.checked(d) {
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
			at := t.StoppedAt
			if at.IsZero() {
				at = r.now
			}
			// The circuit breaker: stage 1 counts launch failures until a
			// task reaches RUNNING; with health checks (container or ELB),
			// a task that ends before it passed them counts in either
			// stage.
			if inProgress && ((!d.ReachedRunning && launchFailure(t)) || (r.checked(d) && r.healthFailure(d, t))) {
				d.FailedTasks++
				if at.After(d.LastFailureAt) {
					d.LastFailureAt = at
				}
			}
			if !launchFailure(t) {
				continue
			}
			if at.Before(lastStart) {
				continue // a task has run since: not consecutive
			}
			d.LaunchFailures++
			if at.After(d.LastLaunchFailureAt) {
				d.LastLaunchFailureAt = at
			}
		}
		if i == r.primary {
			r.throttleCrossed = before < r.cfg.ThrottleAfter && d.LaunchFailures >= r.cfg.ThrottleAfter
		}
	}
}
