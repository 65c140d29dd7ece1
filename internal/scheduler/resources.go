package scheduler

import "slices"

// Fits reports whether one more task t fits on the instance as it is now:
// the instance is ACTIVE with a connected agent and has the CPU, memory,
// static TCP and UDP ports, GPUs and task addresses t needs. reason is "" when ok, else the
// failure reason (INACTIVE, DRAINING, AGENT or RESOURCE:*), chosen in the
// same order as Place chooses it.
//
// The state machine calls Fits for each placement of a plan when it commits
// the plan, against the instance state of that moment, so plans computed
// concurrently from older snapshots can never over-commit an instance (the
// idea of Nomad's plan applier). Fits does not check required attributes or
// constraints, which depend on the request.
func Fits(inst *Instance, t Task) (ok bool, reason string) {
	if r := stateReason[stateOf(inst)]; r != "" {
		return false, r
	}
	switch {
	case t.CPU > inst.Registered.CPU-inst.Used.CPU:
		return false, ReasonCPU
	case t.Memory > inst.Registered.Memory-inst.Used.Memory:
		return false, ReasonMemory
	case portsBusy(t.TCPPorts, inst.Registered.TCPPorts, inst.Used.TCPPorts):
		return false, ReasonPorts
	case portsBusy(t.UDPPorts, inst.Registered.UDPPorts, inst.Used.UDPPorts):
		return false, ReasonPortsUDP
	case t.GPUs > inst.Registered.GPUs-inst.Used.GPUs:
		return false, ReasonGPU
	case t.ENIs > inst.Registered.ENIs-inst.Used.ENIs:
		return false, ReasonENI
	}
	return true, ""
}

// resourceReason returns the first resource instance i lacks for one more
// task, counting what this call placed there, or "". The call's earlier
// tasks on the instance hold the same static ports, so an instance takes at
// most one task with static ports per call.
func (p *placer) resourceReason(i int) string {
	c, t := p.c, p.task
	k := int64(p.placed[i])
	switch {
	case t.CPU > c.cpu[i]-k*t.CPU:
		return ReasonCPU
	case t.Memory > c.mem[i]-k*t.Memory:
		return ReasonMemory
	case len(t.TCPPorts) > 0 && (k > 0 || c.tcpBusy(i, t.TCPPorts)):
		return ReasonPorts
	case len(t.UDPPorts) > 0 && (k > 0 || c.udpBusy(i, t.UDPPorts)):
		return ReasonPortsUDP
	case int64(t.GPUs) > int64(c.gpu[i])-k*int64(t.GPUs):
		return ReasonGPU
	case int64(t.ENIs) > int64(c.eni[i])-k*int64(t.ENIs):
		return ReasonENI
	}
	return ""
}

// tcpBusy and udpBusy report whether one of the ports is reserved or used
// on instance i. The lists are short (ECS allows 100 reserved ports), so a
// scan beats a set.
func (c *Cluster) tcpBusy(i int, want []int) bool {
	in := c.inst[i]
	return portsBusy(want, in.Registered.TCPPorts, in.Used.TCPPorts)
}

func (c *Cluster) udpBusy(i int, want []int) bool {
	in := c.inst[i]
	return portsBusy(want, in.Registered.UDPPorts, in.Used.UDPPorts)
}

func portsBusy(want, reserved, used []int) bool {
	for _, p := range want {
		if slices.Contains(reserved, p) || slices.Contains(used, p) {
			return true
		}
	}
	return false
}
