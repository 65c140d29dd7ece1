package taskplan

import (
	"fmt"
	"time"
)

// death says that a container will never run, why and since when.
type death struct {
	at         time.Time
	reason     string // container reason to report
	dependency bool   // its dependsOn can never be satisfied (else its own action failed)
	pull       bool   // its own image pull failed
}

// depResult is the evaluation of one dependsOn entry of a pending container.
type depResult struct {
	satisfied bool
	dead      *death    // the dependency can never be satisfied
	deadline  time.Time // a startTimeout still running out (zero if none)
}

// failedAction returns the step that failed for a container that has not
// run: Err set with the phase still before RUNNING.
func failedAction(s ContainerState) (ActionKind, bool) {
	if s.Err == "" || s.Phase >= PhaseRunning {
		return 0, false
	}
	return nextStep(s.Phase), true
}

// nextStep is the action that moves a container out of phase p.
func nextStep(p Phase) ActionKind {
	switch p {
	case PhaseNone:
		return Pull
	case PhasePulled:
		return Create
	default:
		return Start
	}
}

// deathOf reports whether container i will never run. Containers that have
// started are never dead. The result depends only on the containers'
// histories and now, so a death, once seen, stays with the same time.
func (p *plan) deathOf(i int) *death {
	if p.deathDone[i] {
		return p.deaths[i]
	}
	if p.visiting[i] { // a dependency cycle: taskdef rejects them; treat as waiting
		return nil
	}
	p.visiting[i] = true
	d := p.computeDeath(i)
	p.visiting[i] = false
	p.deaths[i], p.deathDone[i] = d, true
	return d
}

func (p *plan) computeDeath(i int) *death {
	s := p.state(i)
	if s.Phase >= PhaseRunning {
		return nil
	}
	var first *death
	if kind, failed := failedAction(s); failed {
		first = &death{at: s.FinishedAt, reason: s.Err, pull: kind == Pull}
	} else if s.Applying == Start {
		// Its dependencies were met when the start was issued; the
		// container is about to run (the ECS agent checks them only
		// before a transition).
		return nil
	}
	// The earliest reason wins, so that a later one (an action under way
	// that fails after its dependency already failed) changes nothing.
	for _, dep := range p.t.Containers[i].DependsOn {
		if r := p.evalDep(i, dep); r.dead != nil && (first == nil || r.dead.at.Before(first.at)) {
			first = r.dead
		}
	}
	return first
}

// evalDep evaluates one dependsOn entry of pending container i, as the ECS
// agent's dependencygraph does (verifyContainerOrderingStatusResolvable and
// containerOrderingDependenciesIsResolved), with the differences listed in
// the package documentation.
func (p *plan) evalDep(i int, dep Dependency) depResult {
	target := p.t.Containers[i].Name
	j, ok := p.index[dep.Container]
	if !ok {
		return depResult{dead: depDeath(time.Time{}, "dependency graph: container ordering dependency [%s] for target [%s] does not exist.", dep.Container, target)}
	}
	ds := p.state(j)
	if ds.Phase < PhaseRunning {
		if d := p.deathOf(j); d != nil {
			return depResult{dead: depDeath(d.at, "dependency graph: failed to resolve container ordering dependency [%s] for target [%s] because dependency will never start", dep.Container, target)}
		}
	}
	stopped := ds.Phase == PhaseStopped
	var r depResult
	var satisfiedAt time.Time // when a COMPLETE, SUCCESS or HEALTHY condition was met
	switch dep.Condition {
	case ConditionStart:
		r.satisfied = ds.Phase == PhaseRunning
		if stopped {
			r.dead = depDeath(ds.FinishedAt, "dependency graph: failed to resolve container ordering dependency [%s] for target [%s] as dependency stopped before target started", dep.Container, target)
		}
	case ConditionComplete:
		switch {
		case stopped && ds.ExitCode != nil:
			r.satisfied, satisfiedAt = true, ds.FinishedAt
		case stopped:
			r.dead = depDeath(ds.FinishedAt, "dependency graph: failed to resolve container ordering dependency [%s] for target [%s] as dependency stopped without an exit code", dep.Container, target)
		}
	case ConditionSuccess:
		switch {
		case stopped && ds.ExitCode != nil && *ds.ExitCode == 0:
			r.satisfied, satisfiedAt = true, ds.FinishedAt
		case stopped:
			r.dead = depDeath(ds.FinishedAt, "dependency graph: failed to resolve container ordering dependency [%s] for target [%s] as dependency did not exit successfully.", dep.Container, target)
		}
	case ConditionHealthy:
		if !p.t.Containers[j].HealthCheck {
			return depResult{dead: depDeath(time.Time{}, "dependency graph: container ordering dependency [%s] for target [%s] has no health check.", dep.Container, target)}
		}
		r.satisfied, satisfiedAt = ds.Health == HealthHealthy, ds.HealthyAt
		if stopped && !r.satisfied {
			r.dead = depDeath(ds.FinishedAt, "dependency graph: failed to resolve container ordering dependency [%s] for target [%s] as dependency stopped before becoming healthy", dep.Container, target)
		}
	default:
		return depResult{dead: depDeath(time.Time{}, "dependency graph: container ordering dependency [%s] for target [%s] has unknown condition %s.", dep.Container, target, string(dep.Condition))}
	}
	p.applyStartTimeout(&r, j, dep, target, satisfiedAt)
	return r
}

// applyStartTimeout applies the dependency's startTimeout to COMPLETE,
// SUCCESS and HEALTHY conditions (the ECS agent's hasDependencyTimedOut):
// the wait runs from when the dependency started. The condition times out
// if it was not met by the deadline, judged from timestamps so that the
// verdict never changes afterwards.
func (p *plan) applyStartTimeout(r *depResult, j int, dep Dependency, target string, satisfiedAt time.Time) {
	if dep.Condition == ConditionStart {
		return
	}
	ds, limit := p.state(j), p.t.Containers[j].StartTimeout
	if limit <= 0 || ds.StartedAt.IsZero() {
		return
	}
	deadline := ds.StartedAt.Add(limit)
	// A condition met with no timestamp (a shell that does not record
	// HealthyAt) counts as met in time.
	metInTime := (r.satisfied && satisfiedAt.IsZero()) ||
		(!satisfiedAt.IsZero() && !satisfiedAt.After(deadline))
	if metInTime || (r.dead != nil && r.dead.at.Before(deadline)) {
		return
	}
	if p.now.Before(deadline) {
		if !r.satisfied && r.dead == nil {
			r.deadline = deadline
		}
		return
	}
	r.satisfied = false
	r.dead = depDeath(deadline, "dependency graph: container ordering dependency [%s] for target [%s] has timed out.", dep.Container, target)
}

// depDeath builds a dependency failure. The ECS agent reports it as a
// CannotStartContainerError wrapping the dependency graph error, with exit
// code 143 (handleTerminalDependencyError).
func depDeath(at time.Time, format string, args ...any) *death {
	return &death{at: at, dependency: true, reason: "CannotStartContainerError: " + fmt.Sprintf(format, args...)}
}

// depsSatisfied reports whether every dependsOn entry of container i is met
// now, and the earliest startTimeout deadline still running.
func (p *plan) depsSatisfied(i int) (bool, time.Time) {
	ok := true
	var wake time.Time
	for _, dep := range p.t.Containers[i].DependsOn {
		r := p.evalDep(i, dep)
		if !r.satisfied {
			ok = false
		}
		wake = earliest(wake, r.deadline)
	}
	return ok, wake
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
