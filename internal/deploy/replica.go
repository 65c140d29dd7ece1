package deploy

// stalled: the PRIMARY deployment failed and nothing replaced it, so the
// scheduler neither launches tasks nor moves the deployment along.
func (r *round) stalled() bool {
	p := r.primaryDep()
	return p == nil || p.RolloutState == RolloutFailed
}

// forcedStops stops, whatever the bounds, the tasks that failed their
// container or ELB health checks (they do not count as healthy, so stopping them never
// lowers the healthy count) and the tasks still pending on a DRAINING
// instance (ecs-semantics §8.5: "stopped immediately").
func (r *round) forcedStops() {
	scaling := ScalingReason(r.primaryID())
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		switch {
		case !r.live(t):
		case r.unhealthy[t.ID]:
			r.replaced++
			if bad := r.elbFailed[t.ID]; len(bad) > 0 {
				for _, tg := range bad {
					r.healthEvents = append(r.healthEvents, elbUnhealthyMessage(r.name, tg))
				}
				r.stop(t, ELBHealthReason(bad[0].TargetGroupARN))
				continue
			}
			r.healthEvents = append(r.healthEvents, unhealthyMessage(r.name, t.ID))
			r.stop(t, ReasonHealthCheck)
		case preRunning(t.LastStatus) && r.draining(t):
			r.stop(t, scaling)
		}
	}
}

func (r *round) primaryID() string {
	if p := r.primaryDep(); p != nil {
		return p.ID
	}
	return ""
}

// replicaStops stops the tasks that must go: tasks of older deployments,
// PRIMARY tasks on DRAINING instances, and PRIMARY tasks beyond the
// desired count (scale-in). Tasks that do not count as healthy go
// first and freely; healthy ones only while the healthy count stays at or
// above ceil(desired × minimumHealthyPercent) (ecs-semantics §6.3).
func (r *round) replicaStops() {
	r.forcedStops()
	if r.stalled() {
		return
	}
	p := r.primaryDep()
	var old, drain, keep []*Task
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		switch {
		case !r.kept(t):
		case t.DeploymentID != p.ID:
			old = append(old, t)
		case r.draining(t):
			drain = append(drain, t)
		default:
			keep = append(keep, t)
		}
	}
	// Scale-in: the PRIMARY tasks beyond the desired count, picked like
	// every other stop (§6.10).
	var excess []*Task
	picked := map[string]bool{}
	for n := len(keep) - r.desired; n > 0; n-- {
		i := r.pickNext(keep, picked)
		excess = append(excess, keep[i])
		picked[keep[i].ID] = true
		keep = removeAt(keep, i)
	}
	r.stopWithin([][]*Task{old, drain, excess})
}

// stopWithin stops the tasks of the classes, in order: every task that is
// not healthy, then healthy ones while the budget lasts. It records what
// it had to keep.
func (r *round) stopWithin(classes [][]*Task) {
	reason := ScalingReason(r.primaryID())
	for _, class := range classes {
		for _, t := range class {
			if !r.healthy[t.ID] {
				r.stop(t, reason)
			}
		}
	}
	h := r.healthyKept()
	for _, class := range classes {
		var pool []*Task
		for _, t := range class {
			if r.healthy[t.ID] {
				pool = append(pool, t)
			}
		}
		for len(pool) > 0 {
			if h <= r.minH {
				r.mustGoLeft += len(pool)
				r.budgetBlocked = true
				break
			}
			i := r.pickNext(pool, nil)
			r.stop(pool[i], reason)
			pool = removeAt(pool, i)
			h--
		}
	}
}

// replicaStarts starts PRIMARY tasks up to the desired count (not counting
// those on DRAINING instances, which need replacing), within
// floor(desired × maximumPercent) live tasks.
func (r *round) replicaStarts() {
	if r.stalled() {
		return
	}
	p := r.primaryDep()
	keep, live := 0, 0
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if !r.kept(t) {
			continue
		}
		live++
		if t.DeploymentID == p.ID && !r.draining(t) {
			keep++
		}
	}
	r.need = r.desired - keep
	r.room = r.maxT - live
	n := min(r.need, r.room)
	if n <= 0 || r.holdStarts() {
		return
	}
	r.res.Starts = append(r.res.Starts, Start{
		DeploymentID:      p.ID,
		TaskDefinition:    p.TaskDefinition,
		Count:             n,
		ReplacesUnhealthy: min(r.replaced, n),
	})
}
