package agentapi

import (
	"net/netip"
	"slices"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/ipam"
	"berth.dev/berth/internal/state"
)

// AttrHostAddress is the attribute an agent registers with: the address
// other hosts reach it at, which their routes to its task subnet go via.
const AttrHostAddress = "berth.host-address"

// hostNetwork is the task network of instance self as its agent needs it,
// and a channel closed when any instance changes.
func hostNetwork(snap *state.Snapshot, self, taskRange string) (*agentproto.HostNetwork, <-chan struct{}) {
	out := &agentproto.HostNetwork{Range: taskRange, Peers: []agentproto.Peer{}}
	ch := snap.WatchAllInstances(func(ci *state.ContainerInstance) bool {
		subnet, ok := fsm.InstanceTaskSubnet(ci)
		if !ok || deref(ci.Shape.Status) == "INACTIVE" {
			return true
		}
		if ci.ID == self {
			out.Subnet = subnet.String()
			return true
		}
		for _, a := range ci.Shape.Attributes {
			if deref(a.Name) != AttrHostAddress {
				continue
			}
			if via, err := netip.ParseAddr(deref(a.Value)); err == nil {
				out.Peers = append(out.Peers, agentproto.Peer{Subnet: subnet.String(), Via: via.String()})
			}
		}
		return true
	})
	slices.SortFunc(out.Peers, func(a, b agentproto.Peer) int {
		if a.Subnet < b.Subnet {
			return -1
		} else if a.Subnet > b.Subnet {
			return 1
		}
		return 0
	})
	return out, ch
}

// sameNetwork reports whether two host networks are equal.
func sameNetwork(a, b *agentproto.HostNetwork) bool {
	return a != nil && b != nil && a.Range == b.Range && a.Subnet == b.Subnet && slices.Equal(a.Peers, b.Peers)
}

// taskNetwork is the network interface of an awsvpc task, or nil.
func taskNetwork(ci *state.ContainerInstance, t *state.Task, region string) *agentproto.TaskNetwork {
	addr, ok := fsm.TaskAddress(t)
	if !ok {
		return nil
	}
	subnet, _ := fsm.InstanceTaskSubnet(ci)
	id := fsm.TaskENIIdentity(t.ID)
	out := &agentproto.TaskNetwork{
		AttachmentID: id.AttachmentID, ENIID: id.ENIID, MAC: fsm.TaskMAC(addr),
		Address:        netip.PrefixFrom(addr, subnet.Bits()).String(),
		Gateway:        ipam.Gateway(subnet).String(),
		PrivateDNSName: fsm.PrivateDNSName(addr, region),
	}
	for _, at := range t.Shape.Attachments {
		for _, d := range at.Details {
			if deref(d.Name) == "subnetId" {
				out.SubnetID = deref(d.Value)
			}
		}
	}
	return out
}
