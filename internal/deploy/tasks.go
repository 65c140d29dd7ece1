package deploy

import (
	"slices"
	"strings"
)

// preRunning reports whether a lastStatus comes before RUNNING.
func preRunning(s string) bool {
	switch s {
	case "", "PROVISIONING", "PENDING", "ACTIVATING":
		return true
	}
	return false
}

// live: the task is wanted (desired RUNNING) and not STOPPED. Live tasks
// are what maximumPercent bounds ("RUNNING or PENDING").
func (r *round) live(t *Task) bool {
	return t.DesiredStatus != TaskStopped && t.LastStatus != TaskStopped && !r.lost[t.ID]
}

// stopping: the task was asked to stop and has not stopped yet.
func (r *round) stopping(t *Task) bool {
	return t.DesiredStatus == TaskStopped && t.LastStatus != TaskStopped && !r.lost[t.ID]
}

// kept: live and not stopped this round.
func (r *round) kept(t *Task) bool { return r.live(t) && !r.stopped[t.ID] }

// draining: the task's instance is DRAINING.
func (r *round) draining(t *Task) bool {
	in := r.inst[t.InstanceID]
	return in != nil && in.Status == InstanceDraining
}

// markLost marks STOPPED the tasks whose container instance is gone
// (deregistered, or not in the cluster any more) or whose agent has been
// disconnected for longer than LostHostTimeout.
func (r *round) markLost() {
	used := map[string]bool{}
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if t.LastStatus != TaskStopped && t.InstanceID != "" {
			used[t.InstanceID] = true
		}
	}
	for id := range used {
		in := r.inst[id]
		switch {
		case in == nil || (in.Status != InstanceActive && in.Status != InstanceDraining):
			r.gone[id] = GoneReason(id)
		case !in.Connected && !in.DisconnectedAt.IsZero():
			deadline := in.DisconnectedAt.Add(r.cfg.LostHostTimeout)
			if r.now.Before(deadline) {
				r.at(deadline)
			} else {
				r.gone[id] = LostReason(id, r.cfg.LostHostTimeout)
			}
		}
	}
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		reason, ok := r.gone[t.InstanceID]
		if !ok || t.LastStatus == TaskStopped {
			continue
		}
		r.lost[t.ID] = true
		r.res.Lost = append(r.res.Lost, Stop{TaskID: t.ID, StopCode: StopTerminationNotice, Reason: reason})
	}
}

// classify decides for every live task whether it counts as healthy, has
// failed its health checks, or is still settling.
//
// Healthy (ecs-semantics §6.3, traffic.md E.1): RUNNING and, when the
// deployment's task definition has health checks, HEALTHY; when the
// service has target groups, also registered in every one of them with
// every target healthy; with neither, RUNNING for SettleTime. Unhealthy:
// RUNNING, health UNHEALTHY or a target unhealthy, and the grace period
// since it started has passed (§6.8).
func (r *round) classify() {
	grace := r.in.Service.HealthCheckGracePeriod
	groups := r.in.Service.TargetGroups
	// inGrace reports whether the task is still in its grace period, and
	// wakes the round when it ends.
	inGrace := func(t *Task) bool {
		if end := t.StartedAt.Add(grace); grace > 0 && r.now.Before(end) {
			r.at(end)
			return true
		}
		return false
	}
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if !r.live(t) {
			continue
		}
		if t.LastStatus != TaskRunning {
			r.settling[t.ID] = true
			continue
		}
		if t.Health == HealthUnhealthy {
			if inGrace(t) {
				r.settling[t.ID] = true
			} else {
				r.unhealthy[t.ID] = true
			}
			continue
		}
		d := r.dep(t)
		checks := d != nil && d.HealthChecks
		if groups > 0 {
			if bad := failedTargets(t); len(bad) > 0 {
				if inGrace(t) {
					r.settling[t.ID] = true
				} else {
					r.unhealthy[t.ID] = true
					r.elbFailed[t.ID] = bad
				}
				continue
			}
			// The load balancer's health is the signal: no settle time.
			if targetsHealthy(t, groups) && (!checks || t.Health == HealthHealthy) {
				r.healthy[t.ID] = true
			} else {
				r.settling[t.ID] = true
			}
			continue
		}
		if checks {
			if t.Health == HealthHealthy {
				r.healthy[t.ID] = true
			} else {
				r.settling[t.ID] = true
			}
			continue
		}
		if end := t.StartedAt.Add(r.cfg.SettleTime); !t.StartedAt.IsZero() && r.now.Before(end) {
			r.at(end)
			r.settling[t.ID] = true
			continue
		}
		r.healthy[t.ID] = true
	}
}

// targetUnhealthy reports whether an ELB target state is a failed health
// check (NLB's unhealthy.draining included).
func targetUnhealthy(state string) bool {
	return state == TargetUnhealthy || strings.HasPrefix(state, TargetUnhealthy+".")
}

// failedTargets returns the task's targets that fail their ELB health
// checks, in the order given.
func failedTargets(t *Task) []Target {
	var bad []Target
	for _, tg := range t.Targets {
		if targetUnhealthy(tg.State) {
			bad = append(bad, tg)
		}
	}
	return bad
}

// targetsHealthy reports whether a task is registered in at least groups
// distinct target groups and every one of its targets is healthy.
func targetsHealthy(t *Task, groups int) bool {
	seen := map[string]bool{}
	for _, tg := range t.Targets {
		if tg.State != TargetHealthy {
			return false
		}
		seen[tg.TargetGroupARN] = true
	}
	return len(seen) >= groups
}

// healthyKept counts the healthy tasks still kept.
func (r *round) healthyKept() int {
	n := 0
	for id := range r.healthy {
		if !r.stopped[id] {
			n++
		}
	}
	return n
}

// pickNext returns the index in pool of the task to stop next (§6.10):
// tasks that are not healthy first; then the task in the availability zone
// with the most kept tasks of the service, then on the instance with the
// most; then the lowest ID.
//
// skip holds tasks already picked but not stopped yet: they do not count.
func (r *round) pickNext(pool []*Task, skip map[string]bool) int {
	az, inst := map[string]int{}, map[string]int{}
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if r.kept(t) && !skip[t.ID] {
			az[t.AvailabilityZone]++
			inst[t.InstanceID]++
		}
	}
	best := -1
	for i, t := range pool {
		if best < 0 || r.stopsBefore(t, pool[best], az, inst) {
			best = i
		}
	}
	return best
}

func (r *round) stopsBefore(a, b *Task, az, inst map[string]int) bool {
	if ha, hb := r.healthy[a.ID], r.healthy[b.ID]; ha != hb {
		return !ha
	}
	if x, y := az[a.AvailabilityZone], az[b.AvailabilityZone]; x != y {
		return x > y
	}
	if x, y := inst[a.InstanceID], inst[b.InstanceID]; x != y {
		return x > y
	}
	return a.ID < b.ID
}

// removeAt deletes pool[i].
func removeAt(pool []*Task, i int) []*Task { return slices.Delete(pool, i, i+1) }
