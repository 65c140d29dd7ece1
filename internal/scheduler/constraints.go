package scheduler

// constraintReason returns the reason of the first constraint instance i
// does not satisfy now, or "".
//
// distinctInstance: no task of the request's group may be on the instance,
// neither one already running nor one this call placed. memberOf: the
// expression must match the instance as it is now; the cached result holds
// until this call places a task there, after which the expression is
// evaluated again with runningTasksCount and task:group including the
// call's tasks.
func (p *placer) constraintReason(i int) string {
	k := p.placed[i]
	for j := range p.cons {
		r := &p.cons[j]
		switch {
		case r.distinct:
			if k > 0 || (p.group != nil && p.group[i] > 0) {
				return ReasonDistinctInstance
			}
		case k == 0:
			if !r.member[i] {
				return ReasonMemberOf
			}
		default:
			v := memberView{in: p.c.inst[i], placed: int(k), group: p.req.Group}
			if !r.expr.Match(&v) {
				return ReasonMemberOf
			}
		}
	}
	return ""
}
