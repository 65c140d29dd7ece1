package deploy

import "slices"

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
// Healthy (ecs-semantics §6.3): RUNNING and, when the deployment's task
// definition has health checks, HEALTHY; without health checks, RUNNING
// for SettleTime. Unhealthy: RUNNING, health UNHEALTHY, and the grace
// period since it started has passed (§6.8).
func (r *round) classify() {
	grace := r.in.Service.HealthCheckGracePeriod
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
			if end := t.StartedAt.Add(grace); grace > 0 && r.now.Before(end) {
				r.at(end)
				r.settling[t.ID] = true
			} else {
				r.unhealthy[t.ID] = true
			}
			continue
		}
		d := r.dep(t)
		if d != nil && d.HealthChecks {
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
