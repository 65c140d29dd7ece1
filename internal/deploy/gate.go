package deploy

import "strings"

// holdStarts reports whether the PRIMARY's launches must wait this round,
// and records when they may go ahead:
//
//   - the launch throttle: after ThrottleAfter consecutive launch failures,
//     until the backoff since the last one has passed (ECS service
//     throttle logic);
//   - a placement failure at the unchanged ClusterVersion, until
//     PlacementRetry has passed (nothing changed, so placing again would
//     fail again);
//   - tasks the scheduler stopped to make room, this round or in an
//     earlier one, that are still stopping (at most StopWait): their
//     resources are not free yet, and ECS's rolling update starts the new
//     tasks once the old ones are gone ("stop 3 a → start 5 b").
func (r *round) holdStarts() bool {
	p := r.primaryDep()
	hold := false
	if d := r.cfg.throttleDelay(p.LaunchFailures); d > 0 {
		if until := p.LastLaunchFailureAt.Add(d); r.now.Before(until) {
			r.at(until)
			hold = true
		}
	}
	if f := p.Placement; f != nil && f.ClusterVersion == r.in.ClusterVersion {
		if until := f.At.Add(r.cfg.PlacementRetry); r.now.Before(until) {
			r.at(until)
			hold = true
		}
	}
	for _, s := range r.res.Stops {
		if strings.HasPrefix(s.Reason, scalingPrefix) {
			hold = true
		}
	}
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if !r.stopping(t) || t.StopCode != StopServiceSchedulerInitiated || !strings.HasPrefix(t.StoppedReason, scalingPrefix) {
			continue
		}
		if t.StoppingAt.IsZero() {
			hold = true
			continue
		}
		if until := t.StoppingAt.Add(r.cfg.StopWait); r.now.Before(until) {
			r.at(until)
			hold = true
		}
	}
	r.gated = hold
	return hold
}
