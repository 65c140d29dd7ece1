package taskplan

import "time"

// plan holds one evaluation of Next. It is discarded afterwards.
type plan struct {
	t         Task
	now       time.Time
	index     map[string]int
	deaths    []*death
	deathDone []bool
	visiting  []bool
	stop      *cause // nil while the task should run
}

// Next decides what to do for a task now. It is a pure function: the same
// inputs give the same Decision, and t is not modified.
func Next(t Task, now time.Time) Decision {
	n := len(t.Containers)
	p := &plan{
		t:         t,
		now:       now,
		index:     make(map[string]int, n),
		deaths:    make([]*death, n),
		deathDone: make([]bool, n),
		visiting:  make([]bool, n),
	}
	for i, c := range t.Containers {
		if _, dup := p.index[c.Name]; !dup {
			p.index[c.Name] = i
		}
	}
	p.stop = p.stopCause()

	d := Decision{Desired: DesiredRunning, Containers: make([]ContainerReport, n)}
	for i := range t.Containers {
		d.Containers[i] = p.report(i)
	}
	if p.stop != nil {
		d.Desired, d.StopCode, d.StoppedReason = DesiredStopped, p.stop.code, p.stop.reason
		d.Actions, d.Wake = p.stopActions(d.Containers)
		d.ExecutionStoppedAt = p.executionStoppedAt()
	} else {
		d.Actions, d.Wake = p.startActions()
	}
	d.Status, d.StartedAt = p.taskStatus(d.Containers)
	d.Health = p.taskHealth(d.Containers)
	return d
}

// state returns the observed state of container i (zero if missing).
func (p *plan) state(i int) ContainerState {
	if i < len(p.t.States) {
		return p.t.States[i]
	}
	return ContainerState{}
}

// reportedDeath is a death that counts for reporting. Once the task is
// stopping, the ECS agent marks containers that never started as STOPPED
// and ignores later news about them (dependencies are no longer evaluated,
// a late action error is a redundant transition). So a death that came
// after the stop began is not one: the container is simply abandoned.
func (p *plan) reportedDeath(i int) *death {
	d := p.deathOf(i)
	if d == nil || p.stop == nil || p.stop.at.IsZero() || !d.at.After(p.stop.at) {
		return d
	}
	return nil
}

// report computes what to report for container i.
func (p *plan) report(i int) ContainerReport {
	s, spec := p.state(i), p.t.Containers[i]
	r := ContainerReport{Status: StatusPending, Health: HealthUnknown}
	if spec.HealthCheck && s.Health != "" {
		r.Health = s.Health
	}
	switch {
	case s.Phase == PhaseStopped:
		r.Status, r.ExitCode, r.Reason = StatusStopped, s.ExitCode, s.Err
	case s.Phase == PhaseRunning:
		r.Status, r.Reason = StatusRunning, s.Err
	default:
		if d := p.reportedDeath(i); d != nil {
			r.Status, r.Reason = StatusStopped, d.reason
			if d.dependency {
				code := 143 // the ECS agent's handleTerminalDependencyError
				r.ExitCode = &code
			}
		} else if p.stop != nil && s.Applying != Start {
			r.Status = StatusStopped // abandoned: never started, never will
		}
	}
	return r
}

// startActions moves pending containers towards RUNNING: Pull, Create,
// Start, each once its dependencies are satisfied (Pull before them if the
// agent pulls dependent containers upfront).
func (p *plan) startActions() ([]Action, time.Time) {
	var actions []Action
	var wake time.Time
	for i := range p.t.Containers {
		s := p.state(i)
		if s.Phase >= PhaseRunning || s.Applying != 0 || p.deathOf(i) != nil {
			continue
		}
		ok, deadline := p.depsSatisfied(i)
		wake = earliest(wake, deadline)
		step := nextStep(s.Phase)
		if ok || (step == Pull && p.t.Agent.PullDependentContainersUpfront) {
			actions = append(actions, Action{Kind: step, Container: i, Timeout: p.actionTimeout(step, i)})
		}
	}
	return actions, wake
}

// actionTimeout is the timeout of an action on container i.
func (p *plan) actionTimeout(k ActionKind, i int) time.Duration {
	a := p.t.Agent
	switch k {
	case Pull:
		return orDefault(a.PullTimeout, DefaultPullTimeout)
	case Create:
		return orDefault(a.CreateTimeout, DefaultCreateTimeout)
	case Start:
		return orDefault(a.StartTimeout, DefaultStartTimeout)
	default:
		return orDefault(p.t.Containers[i].StopTimeout, orDefault(a.StopTimeout, DefaultStopTimeout))
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
