package deploy

import (
	"slices"
	"strings"
)

// hostLost reports whether an instance's agent has been disconnected for
// longer than LostHostTimeout.
func (r *round) hostLost(in *Instance) bool {
	return !in.Connected && !in.DisconnectedAt.IsZero() && !r.now.Before(in.DisconnectedAt.Add(r.cfg.LostHostTimeout))
}

// daemonEligible: the instance should run one task of the DAEMON service
// (ecs-semantics §6.7: one task per ACTIVE container instance matching the
// constraints). An instance whose agent is briefly disconnected still
// counts; a lost one does not.
func (r *round) daemonEligible(in *Instance) bool {
	return in.Status == InstanceActive && in.Eligible && !r.hostLost(in)
}

// daemonStops stops the tasks on instances that should not run the
// service (DRAINING, no longer matching its constraints: ECS stops
// daemon tasks that violate them), then, within the bounds, tasks of
// older deployments and extra PRIMARY tasks on one instance.
func (r *round) daemonStops() {
	r.forcedStops()
	scaling := ScalingReason(r.primaryID())
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if in := r.inst[t.InstanceID]; r.kept(t) && (in == nil || !r.daemonEligible(in)) {
			r.stop(t, scaling)
		}
	}
	if r.stalled() {
		return
	}
	p := r.primaryDep()
	var old, excess []*Task
	per := map[string][]*Task{}
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		switch {
		case !r.kept(t):
		case t.DeploymentID != p.ID:
			old = append(old, t)
		default:
			per[t.InstanceID] = append(per[t.InstanceID], t)
		}
	}
	for _, id := range sortedKeys(per) {
		ts := per[id]
		// Keep the best task on the instance: healthy, then the oldest.
		slices.SortFunc(ts, func(a, b *Task) int {
			if ha, hb := r.healthy[a.ID], r.healthy[b.ID]; ha != hb {
				if ha {
					return -1
				}
				return 1
			}
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		excess = append(excess, ts[1:]...)
	}
	r.stopWithin([][]*Task{old, excess})
}

// daemonStarts starts one PRIMARY task on every eligible instance with a
// connected agent that has none, within floor(instances ×
// maximumPercent) live tasks, in instance ID order.
func (r *round) daemonStarts() {
	if r.stalled() {
		return
	}
	p := r.primaryDep()
	has := map[string]bool{}
	live := 0
	for i := range r.in.Tasks {
		t := &r.in.Tasks[i]
		if !r.kept(t) {
			continue
		}
		live++
		if t.DeploymentID == p.ID {
			has[t.InstanceID] = true
		}
	}
	var want []string
	for _, in := range sortedInstances(r.in.Instances) {
		if r.daemonEligible(in) && in.Connected && !has[in.ID] {
			want = append(want, in.ID)
		}
	}
	r.need = len(want)
	r.room = r.maxT - live
	n := min(r.need, r.room)
	if n <= 0 || r.holdStarts() {
		return
	}
	r.res.Starts = append(r.res.Starts, Start{
		DeploymentID:      p.ID,
		TaskDefinition:    p.TaskDefinition,
		Instances:         slices.Clone(want[:n]),
		ReplacesUnhealthy: min(r.replaced, n),
	})
}

func sortedInstances(ins []Instance) []*Instance {
	out := make([]*Instance, len(ins))
	for i := range ins {
		out[i] = &ins[i]
	}
	slices.SortFunc(out, func(a, b *Instance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
