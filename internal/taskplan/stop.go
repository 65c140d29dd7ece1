package taskplan

import "time"

// stopActions stops running containers in reverse dependency order: a
// container is stopped only once every container that depends on it
// reports STOPPED (the ECS agent's verifyShutdownOrder). A stop already sent
// is sent again only if the container still runs StopRetryBuffer after its
// timeout ran out.
func (p *plan) stopActions(reports []ContainerReport) ([]Action, time.Time) {
	var actions []Action
	var wake time.Time
	for i := range p.t.Containers {
		s := p.state(i)
		if s.Phase != PhaseRunning || !p.dependentsStopped(i, reports) {
			continue
		}
		timeout := p.actionTimeout(Stop, i)
		if !s.StopSentAt.IsZero() {
			retry := s.StopSentAt.Add(timeout + StopRetryBuffer)
			if p.now.Before(retry) {
				wake = earliest(wake, retry)
				continue
			}
		}
		actions = append(actions, Action{Kind: Stop, Container: i, Timeout: timeout})
		wake = earliest(wake, p.now.Add(timeout+StopRetryBuffer))
	}
	return actions, wake
}

// dependentsStopped reports whether every container that declares a
// dependency on container i reports STOPPED.
func (p *plan) dependentsStopped(i int, reports []ContainerReport) bool {
	name := p.t.Containers[i].Name
	for j, c := range p.t.Containers {
		if j == i {
			continue
		}
		for _, dep := range c.DependsOn {
			if dep.Container == name && reports[j].Status != StatusStopped {
				return false
			}
		}
	}
	return true
}

// executionStoppedAt is when the first essential container stopped or was
// found unable to run.
func (p *plan) executionStoppedAt() time.Time {
	var at time.Time
	for i, spec := range p.t.Containers {
		if !spec.Essential {
			continue
		}
		s := p.state(i)
		if s.Phase == PhaseStopped {
			at = earliest(at, s.FinishedAt)
		} else if d := p.reportedDeath(i); d != nil {
			at = earliest(at, d.at)
		}
	}
	return at
}
