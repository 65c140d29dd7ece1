package tasknet

import (
	"errors"
	"net"
	"net/netip"
)

// DefaultBridge is the bridge's name when Config.Bridge is empty.
const DefaultBridge = "berth0"

// DefaultMTU is the MTU of the bridge and veths when Config.MTU is zero.
const DefaultMTU = 1500

// RouteProtocol marks the routes SetPeers owns (the rtm_protocol of a
// route: `ip route show proto 98`). No registered routing daemon uses it.
const RouteProtocol = 98

// Chains are berth's own iptables chains; teardown removes them whole.
const (
	ForwardChain     = "BERTH-FORWARD"     // filter table, jumped to from FORWARD
	PostroutingChain = "BERTH-POSTROUTING" // nat table, jumped to from POSTROUTING
	InputChain       = "BERTH-INPUT"       // filter table, jumped to from INPUT
)

// Config is one host's task network.
type Config struct {
	// Bridge is the bridge's name (default DefaultBridge).
	Bridge string
	// Subnet is this host's task subnet; the bridge gets its first address
	// as the tasks' gateway.
	Subnet netip.Prefix
	// ClusterRange holds every host's task subnet: traffic from Subnet to it
	// keeps its source address, traffic to anywhere else leaving by another
	// interface than the bridge is masqueraded. Default: Subnet.
	ClusterRange netip.Prefix
	// MTU of the bridge and the veths (default DefaultMTU).
	MTU int
	// NetNS is the path of the host's network namespace (a bind-mounted
	// netns file or /proc/PID/ns/net). Empty: the namespace of the thread
	// that calls New, which is the process's unless the caller switched it.
	NetNS string
}

// Attachment is a task's end of the network as Attach made it.
type Attachment struct {
	HostVeth string           // the host end, on the bridge
	MAC      net.HardwareAddr // eth0's, inside the task's namespace
	Addr     netip.Addr       // eth0's address
	Prefix   netip.Prefix     // Addr with the subnet's length, as on eth0 (10.200.1.5/24)
	Gateway  netip.Addr       // the bridge's address, the task's default route
}

// Peer is another host's task subnet and the address this host reaches
// that host by (on a directly connected network).
type Peer struct {
	Subnet netip.Prefix
	Via    netip.Addr
}

// ErrUnsupported is returned by every Host method off Linux.
var ErrUnsupported = errors.New("task networks are not supported")

// ErrClosed is returned by the methods of a Host after Close.
var ErrClosed = errors.New("tasknet: host closed")
