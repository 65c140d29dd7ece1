package taskplan

import "time"

// cause is why the task stops.
type cause struct {
	at              time.Time
	code, reason    string
	rank, container int // orders causes that happened at the same time
}

// Ranks of the task's own failures, for causes at the same instant.
const (
	rankPull = iota
	rankAction
	rankDependency
	rankExit
)

// ownFailure returns the earliest failure of the task itself, or nil:
//   - any container's image pull failed (the ECS agent stops the task
//     whatever the container's essential flag, handleEventError);
//   - an essential container can never run: its create or start failed, or
//     its dependsOn can never be satisfied;
//   - an essential container stopped (updateTaskDesiredStatus).
func (p *plan) ownFailure() *cause {
	var first *cause
	consider := func(c cause) {
		if first == nil || c.at.Before(first.at) ||
			(c.at.Equal(first.at) && (c.rank < first.rank || (c.rank == first.rank && c.container < first.container))) {
			cc := c
			first = &cc
		}
	}
	for i, spec := range p.t.Containers {
		s := p.state(i)
		if d := p.deathOf(i); d != nil {
			switch {
			case d.pull:
				consider(cause{at: d.at, code: StopCodeTaskFailedToStart, reason: d.reason, rank: rankPull, container: i})
			case !spec.Essential:
			case d.dependency:
				consider(cause{at: d.at, code: StopCodeTaskFailedToStart, reason: ReasonTaskFailedToStart, rank: rankDependency, container: i})
			default:
				consider(cause{at: d.at, code: StopCodeTaskFailedToStart, reason: d.reason, rank: rankAction, container: i})
			}
		}
		if spec.Essential && s.Phase == PhaseStopped {
			consider(cause{at: s.FinishedAt, code: StopCodeEssentialContainerExited, reason: ReasonEssentialContainerExited, rank: rankExit, container: i})
		}
	}
	return first
}

// stopCause returns why the task stops, or nil while it should run. The
// control plane's request wins unless the task failed on its own strictly
// before it: of two events at the same instant, the request counts as the
// first.
func (p *plan) stopCause() *cause {
	own := p.ownFailure()
	if p.t.Desired != DesiredStopped {
		return own
	}
	if own != nil && !p.t.StoppingAt.IsZero() && own.at.Before(p.t.StoppingAt) {
		return own
	}
	code, reason := p.t.StopCode, p.t.StopReason
	if code == "" {
		code = StopCodeUserInitiated
	}
	if reason == "" && code == StopCodeUserInitiated {
		reason = ReasonStoppedByUser
	}
	return &cause{at: p.t.StoppingAt, code: code, reason: reason}
}
