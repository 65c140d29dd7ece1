package scheduler

import (
	"slices"
	"strings"
)

// Place decides where the tasks of req go: NewCluster(instances).Place(req,
// rng). Use a Cluster to place several requests against one snapshot.
func Place(instances []*Instance, req Request, rng Rand) Plan {
	return NewCluster(instances).Place(req, rng)
}

// Place decides where the tasks of req go. It never modifies the instances
// or the request, and the plan shares no memory with them.
//
// Without req.Instances (RunTask, services) it places req.Count tasks one at
// a time, each on the best candidate by req.Strategies with ties broken by
// rng; each placement updates the state the next one sees. When a task
// cannot be placed no later one can either: Place stops and reports, for
// every instance of the cluster, why it cannot take the task. A cluster with
// no ACTIVE or DRAINING instance gets an empty plan: ECS answers such a
// RunTask with an error, which is the caller's to return (see
// NoContainerInstancesMessage and Registered).
//
// With req.Instances (StartTask) it places one task on each named
// instance, in order, or reports why it cannot.
//
// req must pass Validate: the API layer rejects invalid input with ECS's
// messages, and Place panics on a request Validate rejects, a bug in the
// caller. rng may be nil, which picks the first tie in instance ID order.
func (c *Cluster) Place(req Request, rng Rand) Plan {
	if err := req.Validate(); err != nil {
		panic("scheduler: " + err.Error())
	}
	p := newPlacer(c, &req)
	defer p.s.release()
	if len(req.Instances) > 0 {
		return p.startTask()
	}
	if req.Count == 0 || c.registered == 0 {
		return Plan{}
	}
	return p.runTask(rng)
}

func cmpID(a, b *Instance) int { return strings.Compare(a.ID, b.ID) }

func (p *placer) runTask(rng Rand) Plan {
	c := p.c
	cands := p.candidates()
	ch := p.compileChain()
	plan := Plan{Placements: make([]Placement, 0, p.req.Count)}
	sel := selector{p: p, c: &ch, t0: p.s.t0[:0], buf: p.s.buf[:0]}
	defer func() { p.s.t0, p.s.buf = sel.t0, sel.buf }()
	for range p.req.Count {
		ties := sel.ties(cands)
		if len(ties) == 0 {
			plan.Failures = p.runTaskFailures()
			break
		}
		pick := ties[0]
		if len(ties) > 1 && rng != nil {
			pick = ties[rng.IntN(len(ties))]
		}
		p.place(pick)
		ch.placedOn(pick)
		plan.Placements = append(plan.Placements, Placement{InstanceID: c.inst[pick].ID})
		// Only the chosen instance changed: re-check it alone.
		removed := p.reason(int(pick)) != ""
		if removed {
			j, _ := slices.BinarySearch(cands, pick)
			cands = slices.Delete(cands, j, j+1)
		}
		sel.placed(pick, removed)
	}
	return plan
}

// candidates returns, in ID order, the instances that can take the first
// task: p.reason(i) == "" for every instance, unrolled for speed (no task
// is placed yet). Deregistered instances are not in the cluster for
// RunTask; their tasks still count for spread, like every task in the view.
func (p *placer) candidates() []int32 {
	c, t := p.c, p.task
	cands := grow(p.s.cands, len(c.inst))
	defer func() { p.s.cands = cands }()
	tcp, udp := len(t.TCPPorts) > 0, len(t.UDPPorts) > 0
	simple := len(p.attrs) == 0 && len(p.cons) == 0
	for i := range c.st {
		if c.st[i] != eligible || c.cpu[i] < t.CPU || c.mem[i] < t.Memory || int64(c.gpu[i]) < int64(t.GPUs) || int64(c.eni[i]) < int64(t.ENIs) {
			continue
		}
		if tcp && c.tcpBusy(i, t.TCPPorts) || udp && c.udpBusy(i, t.UDPPorts) {
			continue
		}
		if !simple && p.ruleReason(i) != "" {
			continue
		}
		cands = append(cands, int32(i))
	}
	return cands
}

// runTaskFailures reports, for every instance in the cluster, why it cannot
// take the next task. It runs when no candidate is left, so every instance
// has a reason.
func (p *placer) runTaskFailures() []Failure {
	var fs failures
	for i, in := range p.c.inst {
		if p.c.dereg[i] {
			continue
		}
		if r := p.reason(i); r != "" {
			fs.add(in.ARN, r, p.detail(i, r))
		}
	}
	return fs.list
}

// detail is the failure detail for reason r on instance i.
func (p *placer) detail(i int, r string) string {
	if r == ReasonAttribute {
		return p.attributeDetail(i)
	}
	return ""
}

func (p *placer) startTask() Plan {
	var plan Plan
	var fs failures
	for _, id := range p.req.Instances {
		i, found := slices.BinarySearchFunc(p.c.inst, id, func(in *Instance, id string) int {
			return strings.Compare(in.ID, id)
		})
		if !found {
			fs.add(id, ReasonMissing, "")
			continue
		}
		if r := p.reason(i); r != "" {
			fs.add(p.c.inst[i].ARN, r, p.detail(i, r))
			continue
		}
		p.place(int32(i))
		plan.Placements = append(plan.Placements, Placement{InstanceID: id})
	}
	plan.Failures = fs.list
	return plan
}
