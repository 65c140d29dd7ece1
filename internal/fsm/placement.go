package fsm

import (
	"maps"
	"slices"
	"strconv"
	"sync"

	"berth.dev/berth/internal/ipam"
	"berth.dev/berth/internal/scheduler"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// SchedulerInstance is the scheduler's view of a container instance: its
// registered resources and what its tasks with desired status RUNNING hold.
func SchedulerInstance(s *state.Snapshot, ci *state.ContainerInstance) *scheduler.Instance {
	inst := staticInstance(ci)
	s.InstanceTasks(ci.ID, func(t *state.Task) bool {
		addUsage(inst, t)
		return true
	})
	return inst
}

// RecordInstance is the scheduler's view of a container instance from its
// record alone, as if it ran no task.
func RecordInstance(ci *state.ContainerInstance) *scheduler.Instance { return staticInstance(ci) }

// staticInstance is the part of an instance's view that only the instance
// record decides (not its tasks).
func staticInstance(ci *state.ContainerInstance) *scheduler.Instance {
	sh := ci.Shape
	inst := &scheduler.Instance{
		ID:            ci.ID,
		ARN:           deref(sh.ContainerInstanceArn),
		Status:        deref(sh.Status),
		Connected:     sh.AgentConnected,
		Attributes:    make(map[string]string, len(sh.Attributes)),
		EC2InstanceID: deref(sh.Ec2InstanceId),
		RegisteredAt:  sh.RegisteredAt.Time(),
	}
	if sh.VersionInfo != nil {
		inst.AgentVersion = deref(sh.VersionInfo.AgentVersion)
	}
	for _, a := range sh.Attributes {
		inst.Attributes[deref(a.Name)] = deref(a.Value)
	}
	for _, r := range sh.RegisteredResources {
		switch deref(r.Name) {
		case "CPU":
			inst.Registered.CPU = int64(r.IntegerValue)
		case "MEMORY":
			inst.Registered.Memory = int64(r.IntegerValue)
		case "PORTS":
			inst.Registered.TCPPorts = ports(r.StringSetValue)
		case "PORTS_UDP":
			inst.Registered.UDPPorts = ports(r.StringSetValue)
		case "GPU":
			inst.Registered.GPUs = len(r.StringSetValue)
		}
	}
	if subnet, ok := InstanceTaskSubnet(ci); ok {
		inst.Registered.ENIs = ipam.Capacity(subnet)
	}
	return inst
}

// addUsage adds what t holds (if anything) to inst.
func addUsage(inst *scheduler.Instance, t *state.Task) {
	if holdsAddress(t) {
		inst.Used.ENIs++ // until the task is STOPPED, whatever its desired status
	}
	if !t.HoldsResources() {
		return
	}
	if inst.GroupCounts == nil {
		inst.GroupCounts = map[string]int{}
	}
	inst.Tasks++
	inst.Used.CPU += t.Reserved.CPU
	inst.Used.Memory += t.Reserved.Memory
	inst.Used.GPUs += t.Reserved.GPUs
	inst.Used.TCPPorts = append(inst.Used.TCPPorts, t.Reserved.TCPPorts...)
	inst.Used.UDPPorts = append(inst.Used.UDPPorts, t.Reserved.UDPPorts...)
	inst.GroupCounts[deref(t.Shape.Group)]++
}

// AddPlanned adds a task placed but not yet committed to inst (a view the
// caller owns), so that later placements against the same view see it.
func AddPlanned(inst *scheduler.Instance, r scheduler.Task, group string) {
	if inst.GroupCounts == nil {
		inst.GroupCounts = map[string]int{}
	} else {
		inst.GroupCounts = maps.Clone(inst.GroupCounts)
	}
	inst.Tasks++
	inst.Used.CPU += r.CPU
	inst.Used.Memory += r.Memory
	inst.Used.GPUs += r.GPUs
	inst.Used.ENIs += r.ENIs
	inst.Used.TCPPorts = append(slices.Clip(inst.Used.TCPPorts), r.TCPPorts...)
	inst.Used.UDPPorts = append(slices.Clip(inst.Used.UDPPorts), r.UDPPorts...)
	inst.GroupCounts[group]++
}

// InstanceViews builds the scheduler's view of a cluster's container
// instances for RunTask, StartTask and the service controller, keeping the
// part each instance record decides (attributes, registered resources) from
// one call to the next: at thousands of instances, building that part is
// most of the cost of a placement.
//
// Invariants: the kept part of an instance is reused only for the very
// record it was built from (state records are replaced, never changed, on
// every update); what the instance's tasks hold is read from the snapshot
// on every call; the instances returned are the caller's, and the kept
// parts they share (attribute maps, registered port lists) are never
// written to. Safe for concurrent use; the zero value is ready.
type InstanceViews struct {
	mu   sync.Mutex
	kept map[string]map[*state.ContainerInstance]*scheduler.Instance // by cluster
}

// Cluster returns the scheduler's view of cluster's instances that are not
// deregistered (INACTIVE), in ID order.
func (v *InstanceViews) Cluster(s *state.Snapshot, cluster string) []*scheduler.Instance {
	v.mu.Lock()
	prev := v.kept[cluster]
	v.mu.Unlock()
	next := make(map[*state.ContainerInstance]*scheduler.Instance, len(prev))
	out := make([]*scheduler.Instance, 0, len(prev))
	byID := make(map[string]*scheduler.Instance, len(prev))
	s.Instances(cluster, "", func(ci *state.ContainerInstance) bool {
		if deref(ci.Shape.Status) == "INACTIVE" {
			return true
		}
		tmpl := prev[ci]
		if tmpl == nil {
			tmpl = staticInstance(ci)
		}
		next[ci] = tmpl
		inst := *tmpl
		out = append(out, &inst)
		byID[ci.ID] = &inst
		return true
	})
	s.Tasks(cluster, "", func(t *state.Task) bool {
		if inst := byID[t.InstanceID]; inst != nil {
			addUsage(inst, t)
		}
		return true
	})
	v.mu.Lock()
	if v.kept == nil {
		v.kept = map[string]map[*state.ContainerInstance]*scheduler.Instance{}
	}
	v.kept[cluster] = next
	v.mu.Unlock()
	return out
}

func ports(ss []string) []int {
	out := make([]int, 0, len(ss))
	for _, s := range ss {
		if n, err := strconv.Atoi(s); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// SchedulerTask is a reservation in the scheduler's terms, for a task that
// needs enis task addresses (TaskENIs).
func SchedulerTask(r state.Reservation, enis int) scheduler.Task {
	return scheduler.Task{CPU: r.CPU, Memory: r.Memory, TCPPorts: r.TCPPorts, UDPPorts: r.UDPPorts, GPUs: r.GPUs, ENIs: enis}
}

// Reservation is what one task of def holds on its instance: the task-level
// cpu and memory when set, else the containers' sums (memoryReservation when
// set, else memory), and its static host ports (none in the awsvpc network
// mode: the task's ports are on its own address).
func Reservation(def *shape.TaskDefinition, ov *shape.TaskOverride) state.Reservation {
	var r state.Reservation
	var cpuSum, memSum int64
	for _, cd := range def.ContainerDefinitions {
		var co *shape.ContainerOverride
		if ov != nil {
			for i := range ov.ContainerOverrides {
				if deref(ov.ContainerOverrides[i].Name) == deref(cd.Name) {
					co = &ov.ContainerOverrides[i]
				}
			}
		}
		cpu, mem, res := int64(cd.Cpu), int32Value(cd.Memory), int32Value(cd.MemoryReservation)
		if co != nil {
			if co.Cpu != nil {
				cpu = int64(*co.Cpu)
			}
			if co.Memory != nil {
				mem = int64(*co.Memory)
			}
			if co.MemoryReservation != nil {
				res = int64(*co.MemoryReservation)
			}
		}
		cpuSum += cpu
		if res > 0 {
			memSum += res
		} else {
			memSum += mem
		}
		for _, pm := range cd.PortMappings {
			if def.NetworkMode == shape.NetworkModeAwsvpc {
				break
			}
			host := 0
			switch def.NetworkMode {
			case shape.NetworkModeHost:
				host = int(int32Value(pm.ContainerPort))
			default:
				host = int(int32Value(pm.HostPort))
			}
			if host == 0 {
				continue
			}
			if pm.Protocol == shape.TransportProtocolUdp {
				r.UDPPorts = append(r.UDPPorts, host)
			} else {
				r.TCPPorts = append(r.TCPPorts, host)
			}
		}
		for _, rr := range cd.ResourceRequirements {
			if rr.Type == shape.ResourceTypeGpu {
				n, _ := strconv.Atoi(deref(rr.Value))
				r.GPUs += n
			}
		}
	}
	r.CPU, r.Memory = cpuSum, memSum
	if n, err := strconv.ParseInt(deref(def.Cpu), 10, 64); err == nil {
		r.CPU = n
	}
	if n, err := strconv.ParseInt(deref(def.Memory), 10, 64); err == nil {
		r.Memory = n
	}
	if ov != nil {
		if n, err := strconv.ParseInt(deref(ov.Cpu), 10, 64); err == nil {
			r.CPU = n
		}
		if n, err := strconv.ParseInt(deref(ov.Memory), 10, 64); err == nil {
			r.Memory = n
		}
	}
	return r
}

func int32Value(p *int32) int64 {
	if p == nil {
		return 0
	}
	return int64(*p)
}
