package scheduler

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// This file holds a naive reference implementation of the placement rules,
// written independently of the optimised code: it works on committed
// Instance values (the state machine's view) and recomputes everything from
// scratch for every task. The property and differential tests compare Place
// with it.

// view makes a committed *Instance a cql.Instance.
type view struct{ in *Instance }

func (v view) Attribute(name string) (string, bool) {
	s, ok := v.in.Attributes[name]
	return s, ok
}
func (v view) AgentConnected() bool    { return v.in.Connected }
func (v view) AgentVersion() string    { return v.in.AgentVersion }
func (v view) EC2InstanceID() string   { return v.in.EC2InstanceID }
func (v view) RegisteredAt() time.Time { return v.in.RegisteredAt }
func (v view) RunningTasksCount() int  { return v.in.Tasks }
func (v view) TaskGroups() []string {
	var gs []string
	for _, g := range slices.Sorted(maps.Keys(v.in.GroupCounts)) {
		for range v.in.GroupCounts[g] {
			gs = append(gs, g)
		}
	}
	return gs
}

// refReason is why a committed instance cannot take one more task of req,
// or "".
func refReason(in *Instance, req *Request) string {
	switch {
	case in.Status == StatusDraining:
		return ReasonDraining
	case in.Status != StatusActive:
		return ReasonInactive
	case !in.Connected:
		return ReasonAgent
	}
	t := req.Task
	busy := func(p int, reserved, used []int) bool {
		return slices.Contains(reserved, p) || slices.Contains(used, p)
	}
	switch {
	case in.Used.CPU+t.CPU > in.Registered.CPU:
		return ReasonCPU
	case in.Used.Memory+t.Memory > in.Registered.Memory:
		return ReasonMemory
	case slices.ContainsFunc(t.TCPPorts, func(p int) bool { return busy(p, in.Registered.TCPPorts, in.Used.TCPPorts) }):
		return ReasonPorts
	case slices.ContainsFunc(t.UDPPorts, func(p int) bool { return busy(p, in.Registered.UDPPorts, in.Used.UDPPorts) }):
		return ReasonPortsUDP
	case in.Used.GPUs+t.GPUs > in.Registered.GPUs:
		return ReasonGPU
	case in.Used.ENIs+t.ENIs > in.Registered.ENIs:
		return ReasonENI
	}
	if refMissing(in, req) != nil {
		return ReasonAttribute
	}
	for _, c := range req.Constraints {
		if c.Type == ConstraintDistinctInstance && in.GroupCounts[req.Group] > 0 {
			return ReasonDistinctInstance
		}
		if c.Type == ConstraintMemberOf && !c.Expression.Match(view{in}) {
			return ReasonMemberOf
		}
	}
	return ""
}

// refMissing returns the first required attribute in lacks, or nil.
func refMissing(in *Instance, req *Request) *Attribute {
	for _, a := range req.RequiredAttributes {
		v, ok := in.Attributes[a.Name]
		if !ok || a.Value != nil && *a.Value != v {
			return &a
		}
	}
	return nil
}

// refDetail is the failure detail for reason r on in.
func refDetail(in *Instance, req *Request, r string) string {
	if r != ReasonAttribute {
		return ""
	}
	return AttributeDetail(*refMissing(in, req))
}

// refKey is a committed instance's key for one deterministic strategy;
// smaller is better.
func refKey(s Strategy, in *Instance, all []*Instance, group string) int64 {
	switch {
	case s.Type == StrategyBinpack && strings.EqualFold(s.Field, FieldCPU):
		return in.Registered.CPU - in.Used.CPU
	case s.Type == StrategyBinpack:
		return in.Registered.Memory - in.Used.Memory
	case s.Field == FieldInstanceID || s.Field == FieldHost:
		return int64(in.GroupCounts[group])
	}
	name := strings.TrimPrefix(s.Field, FieldAttributePrefix)
	v, ok := in.Attributes[name]
	var n int64
	for _, o := range all {
		if w, ok2 := o.Attributes[name]; ok2 == ok && w == v {
			n += int64(o.GroupCounts[group])
		}
	}
	return n
}

// refPlace is the reference RunTask: the request group must not be empty.
func refPlace(instances []*Instance, req Request, rng Rand) Plan {
	state := cloneAll(instances)
	slices.SortFunc(state, cmpID)
	var plan Plan
	if !slices.ContainsFunc(state, isRegistered) {
		return plan
	}
	for range req.Count {
		var cands []*Instance
		for _, in := range state {
			if in.Status != StatusInactive && refReason(in, &req) == "" {
				cands = append(cands, in)
			}
		}
		if len(cands) == 0 {
			for _, in := range state {
				if in.Status != StatusInactive {
					r := refReason(in, &req)
					plan.Failures = append(plan.Failures, Failure{ARN: in.ARN, Reason: r, Detail: refDetail(in, &req, r)})
				}
			}
			break
		}
		for _, s := range req.Strategies {
			if s.Type == StrategyRandom {
				break
			}
			best := slices.MinFunc(cands, func(a, b *Instance) int {
				return compareInt64(refKey(s, a, state, req.Group), refKey(s, b, state, req.Group))
			})
			k := refKey(s, best, state, req.Group)
			cands = slices.DeleteFunc(cands, func(in *Instance) bool { return refKey(s, in, state, req.Group) != k })
		}
		pick := cands[0]
		if len(cands) > 1 {
			pick = cands[rng.IntN(len(cands))]
		}
		addTask(pick, req.Task, req.Group)
		plan.Placements = append(plan.Placements, Placement{InstanceID: pick.ID})
	}
	return plan
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
