package deploy

import (
	"cmp"
	"slices"
	"time"
)

// countHealthFailures counts the circuit breaker's stage-2 failures: tasks
// of the PRIMARY deployment stopped this round for failing their health
// checks. A healthy task started after the last failure resets the count
// (the breaker counts consecutive failures).
func (r *round) countHealthFailures() {
	p := r.primaryDep()
	if p == nil || p.RolloutState != RolloutInProgress || !p.ReachedRunning {
		return
	}
	n := 0
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if t.DeploymentID != p.ID {
			continue
		}
		if r.healthy[t.ID] && p.FailedTasks > 0 && t.StartedAt.After(p.LastFailureAt) {
			p.FailedTasks = 0
		}
		if r.unhealthy[t.ID] {
			n++
		}
	}
	if n > 0 {
		p.FailedTasks += n
		p.LastFailureAt = r.now
	}
}

// circuitBreaker fails the PRIMARY deployment when its failures reach the
// threshold and, with rollback, re-deploys the last COMPLETED deployment
// (ecs-semantics §6.5).
func (r *round) circuitBreaker() {
	p := r.primaryDep()
	cb := r.in.Service.CircuitBreaker
	if p == nil || !cb.Enable || p.RolloutState != RolloutInProgress || p.FailedTasks < BreakerThreshold(r.desired) {
		return
	}
	p.RolloutState = RolloutFailed
	p.RolloutStateReason = BreakerReason
	r.deployEvents = append(r.deployEvents, failedMessage(r.name, p.ID))
	target := r.res.LastCompleted
	if !cb.Rollback || target == nil || target.ID == p.ID {
		return // no rollback target: the deployment stalls
	}
	p.Status = StatusActive
	i, ok := r.byID[target.ID]
	if !ok {
		r.deps = append(r.deps, cloneDeployment(*target))
		i = len(r.deps) - 1
	}
	t := &r.deps[i]
	t.Status = StatusPrimary
	t.RolloutState = RolloutInProgress
	t.RolloutStateReason = RollbackReason(target.ID)
	t.Rollback = true
	t.DesiredCount = r.desired
	t.FailedTasks, t.LaunchFailures = 0, 0
	t.LastFailureAt, t.LastLaunchFailureAt = time.Time{}, time.Time{}
	t.ReachedRunning = false
	t.Placement = nil
	// It can't be the target of another rollback until it completes again.
	r.res.LastCompleted = nil
	r.deployEvents = append(r.deployEvents, rollingBackMessage(r.name, target.ID))
	r.reindex()
}

// reindex puts the PRIMARY first and the others newest first, and rebuilds
// the ID index.
func (r *round) reindex() {
	slices.SortStableFunc(r.deps, func(a, b Deployment) int {
		return cmp.Or(
			cmp.Compare(rank(a), rank(b)),
			-a.CreatedAt.Compare(b.CreatedAt),
			cmp.Compare(a.ID, b.ID),
		)
	})
	clear(r.byID)
	for i := range r.deps {
		r.byID[r.deps[i].ID] = i
	}
	r.primary = 0
}

func rank(d Deployment) int {
	if d.Status == StatusPrimary {
		return 0
	}
	return 1
}
