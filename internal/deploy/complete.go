package deploy

// quiet reports whether the round did nothing and nothing is moving on its
// own: no action, no task pending, settling or stopping.
func (r *round) quiet() bool {
	if len(r.res.Lost)+len(r.res.Stops)+len(r.res.Starts) > 0 || len(r.settling) > 0 {
		return false
	}
	for i := range r.in.Tasks {
		if r.stopping(&r.in.Tasks[i]) {
			return false
		}
	}
	return true
}

// deadlock reports ECS's deployment-configuration message when
// minimumHealthyPercent and maximumPercent leave no move: tasks must be
// replaced or started, there is no room under maximumPercent to start one,
// no healthy task may be stopped under minimumHealthyPercent, and nothing
// else is going to change (ecs-semantics §6.6).
func (r *round) deadlock() {
	if r.stalled() || r.gated || !r.quiet() {
		return
	}
	if r.mustGoLeft == 0 && r.need <= 0 {
		return
	}
	if r.need > 0 && r.room > 0 {
		return
	}
	if r.mustGoLeft > 0 && !r.budgetBlocked {
		return
	}
	r.condition(deadlockMessage(r.name))
}

// settled reports whether the service is at its desired state: only
// PRIMARY tasks, the desired number of them, all healthy, none on a
// DRAINING or ineligible instance, and a quiet round.
func (r *round) settled() bool {
	p := r.primaryDep()
	if p == nil || !r.quiet() {
		return false
	}
	n := 0
	seen := map[string]bool{}
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if !r.live(t) {
			continue
		}
		if t.DeploymentID != p.ID || !r.healthy[t.ID] || r.draining(t) {
			return false
		}
		if r.daemon {
			in := r.inst[t.InstanceID]
			if in == nil || !r.daemonEligible(in) || seen[t.InstanceID] {
				return false
			}
			seen[t.InstanceID] = true
		}
		n++
	}
	return n == r.desired
}

// complete marks the PRIMARY deployment COMPLETED once the service is
// settled, and drops every other deployment from the array: the
// services-stable waiter needs exactly one (design.md).
func (r *round) complete() {
	p := r.primaryDep()
	if p == nil || p.RolloutState != RolloutInProgress || !r.settled() {
		if p != nil && p.RolloutState == RolloutCompleted && len(r.deps) > 1 && r.settled() {
			r.deps = r.deps[:1]
			r.reindex()
		}
		return
	}
	p.RolloutState = RolloutCompleted
	p.RolloutStateReason = completedReason(p.ID)
	r.deps = r.deps[:1]
	r.reindex()
	done := cloneDeployment(r.deps[0])
	done.Counted = nil
	done.Placement = nil
	r.res.LastCompleted = &done
	r.deployEvents = append(r.deployEvents, completedMessage(r.name, p.ID))
}

// steady reports the steady state (de-duplicated like every condition).
func (r *round) steady() {
	p := r.primaryDep()
	if p != nil && p.RolloutState == RolloutCompleted && len(r.deps) == 1 && r.settled() {
		r.condition(steadyMessage(r.name))
	}
}

// placementEvent reports the PRIMARY's last placement failure while tasks
// remain to be placed, and throttleEvent the launch throttle.
func (r *round) placementEvent() {
	p := r.primaryDep()
	if p == nil || p.Placement == nil || r.stalled() {
		return
	}
	if r.need <= 0 {
		p.Placement = nil // nothing left to place: the cause is gone
		return
	}
	r.condition(placementMessage(r.name, p.Placement))
}

func (r *round) throttleEvent() {
	p := r.primaryDep()
	if p == nil || r.stalled() || p.LaunchFailures < r.cfg.ThrottleAfter {
		return
	}
	msg := throttleMessage(r.name)
	if r.throttleCrossed {
		r.conditions = append(r.conditions, msg)
		return
	}
	// Still throttled: repeat after EventRepeat, whatever happened since.
	if last, ok := r.lastEvent(msg); ok {
		if until := last.Add(r.cfg.EventRepeat); r.now.Before(until) {
			r.at(until)
			return
		}
	}
	r.conditions = append(r.conditions, msg)
}
