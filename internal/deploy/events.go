package deploy

import "time"

// condition records a condition message unless it is a duplicate: the same
// message was recorded less than EventRepeat ago and no activity event
// (tasks started or stopped, a deployment changing) came after it, in the
// history or in this round. ECS: "duplicate event messages are omitted
// until either the cause is resolved or six hours passes".
func (r *round) condition(msg string) {
	for _, c := range r.conditions {
		if c == msg {
			return
		}
	}
	if len(r.healthEvents)+len(r.res.Stops)+len(r.deployEvents) == 0 {
		ev := r.in.Events
		for i := len(ev) - 1; i >= 0; i-- {
			if activity(r.name, ev[i].Message) {
				break
			}
			if ev[i].Message != msg {
				continue
			}
			if until := ev[i].At.Add(r.cfg.EventRepeat); r.now.Before(until) {
				r.at(until)
				return
			}
			break
		}
	}
	r.conditions = append(r.conditions, msg)
}

// lastEvent returns when msg was last recorded.
func (r *round) lastEvent(msg string) (time.Time, bool) {
	var last time.Time
	found := false
	for _, e := range r.in.Events {
		if e.Message == msg && (!found || e.At.After(last)) {
			last, found = e.At, true
		}
	}
	return last, found
}
