package taskplan

import "time"

// taskStatus returns the task's lastStatus and, if it reached RUNNING, when.
//
// The ECS agent's task known status is the minimum over its containers,
// where a stopped container counts as past RUNNING; it does not move to
// RUNNING while an essential container has stopped (updateTaskKnownStatus).
// The planner keeps no memory, so it rebuilds that from timestamps: the
// task reached RUNNING at T, the latest time a container started (or, for a
// non-essential one, was found unable to run), if no essential container
// had stopped before T. Once reached, it stays RUNNING until every container
// reports STOPPED.
func (p *plan) taskStatus(reports []ContainerReport) (string, time.Time) {
	allStopped := true
	for _, r := range reports {
		if r.Status != StatusStopped {
			allStopped = false
		}
	}
	startedAt := p.reachedRunning()
	switch {
	case allStopped:
		return StatusStopped, startedAt
	case !startedAt.IsZero():
		return StatusRunning, startedAt
	default:
		return StatusPending, time.Time{}
	}
}

// reachedRunning returns when the task reached RUNNING, zero if it has not.
func (p *plan) reachedRunning() time.Time {
	var settled time.Time
	for i, spec := range p.t.Containers {
		s := p.state(i)
		switch {
		case s.Phase >= PhaseRunning && !s.StartedAt.IsZero():
			settled = latest(settled, s.StartedAt)
		case !spec.Essential && p.reportedDeath(i) != nil && s.Phase < PhaseRunning:
			settled = latest(settled, p.reportedDeath(i).at)
		default:
			return time.Time{}
		}
	}
	if settled.IsZero() {
		return time.Time{}
	}
	for i, spec := range p.t.Containers {
		s := p.state(i)
		if spec.Essential && s.Phase == PhaseStopped && s.FinishedAt.Before(settled) {
			return time.Time{}
		}
	}
	return settled
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// taskHealth applies the ECS rule over essential containers: any UNHEALTHY
// makes the task UNHEALTHY, else any UNKNOWN makes it UNKNOWN, else it is
// HEALTHY. A container without a health check is UNKNOWN, so a task with
// none reports UNKNOWN.
func (p *plan) taskHealth(reports []ContainerReport) Health {
	unknown, essentials := false, false
	for i, spec := range p.t.Containers {
		if !spec.Essential {
			continue
		}
		essentials = true
		switch reports[i].Health {
		case HealthUnhealthy:
			return HealthUnhealthy
		case HealthHealthy:
		default:
			unknown = true
		}
	}
	if unknown || !essentials {
		return HealthUnknown
	}
	return HealthHealthy
}
