package tasknet

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Network is a host's validated address plan: its task subnet, the
// gateway the bridge carries, and the cluster range. It does no I/O.
type Network struct {
	Subnet  netip.Prefix // masked, IPv4, at most /30
	Gateway netip.Addr   // Subnet's first host address
	Cluster netip.Prefix // masked, IPv4, contains Subnet
}

// NewNetwork checks a subnet and cluster range (an invalid cluster range
// means the subnet alone) and derives the gateway.
func NewNetwork(subnet, cluster netip.Prefix) (Network, error) {
	if err := checkPrefix("subnet", subnet); err != nil {
		return Network{}, err
	}
	if subnet.Bits() > 30 {
		return Network{}, fmt.Errorf("subnet %s: too small for a gateway and a task (at most /30)", subnet)
	}
	if !cluster.IsValid() {
		cluster = subnet
	}
	if err := checkPrefix("cluster range", cluster); err != nil {
		return Network{}, err
	}
	if cluster.Bits() > subnet.Bits() || !cluster.Contains(subnet.Addr()) {
		return Network{}, fmt.Errorf("cluster range %s does not contain subnet %s", cluster, subnet)
	}
	return Network{Subnet: subnet, Gateway: subnet.Addr().Next(), Cluster: cluster}, nil
}

func checkPrefix(what string, p netip.Prefix) error {
	switch {
	case !p.IsValid():
		return fmt.Errorf("%s: not set or not valid", what)
	case !p.Addr().Is4():
		return fmt.Errorf("%s %s: not IPv4", what, p)
	case p != p.Masked():
		return fmt.Errorf("%s %s: host bits set (the network is %s)", what, p, p.Masked())
	}
	return nil
}

// Broadcast is the subnet's last address.
func (n Network) Broadcast() netip.Addr {
	a := n.Subnet.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (^uint32(0) >> n.Subnet.Bits())
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// TaskPrefix is addr with the subnet's length, as it is set on eth0.
func (n Network) TaskPrefix(addr netip.Addr) netip.Prefix {
	return netip.PrefixFrom(addr, n.Subnet.Bits())
}

// CheckTask says why addr cannot be a task's address on this host, if it
// cannot: it must be an IPv4 address of the subnet other than the network
// address, the gateway and the broadcast address.
func (n Network) CheckTask(addr netip.Addr) error {
	switch {
	case !addr.IsValid():
		return errors.New("task address not set")
	case !addr.Is4():
		return fmt.Errorf("task address %s: not IPv4", addr)
	case !n.Subnet.Contains(addr):
		return fmt.Errorf("task address %s: not in subnet %s", addr, n.Subnet)
	case addr == n.Subnet.Addr():
		return fmt.Errorf("task address %s: the subnet's network address", addr)
	case addr == n.Gateway:
		return fmt.Errorf("task address %s: the gateway's", addr)
	case addr == n.Broadcast():
		return fmt.Errorf("task address %s: the subnet's broadcast address", addr)
	}
	return nil
}

// CheckPeers says why peers cannot be routed from this host, if they
// cannot: every subnet must be IPv4 and masked, overlap neither this host's
// subnet nor another peer's, and every Via must be an IPv4 address outside
// the task subnets.
func (n Network) CheckPeers(peers []Peer) error {
	var errs []error
	for i, p := range peers {
		if err := checkPrefix("peer subnet", p.Subnet); err != nil {
			errs = append(errs, err)
			continue
		}
		if p.Subnet.Overlaps(n.Subnet) {
			errs = append(errs, fmt.Errorf("peer subnet %s overlaps this host's subnet %s", p.Subnet, n.Subnet))
		}
		switch {
		case !p.Via.IsValid() || !p.Via.Is4():
			errs = append(errs, fmt.Errorf("peer %s: via %v is not an IPv4 address", p.Subnet, p.Via))
		case n.Subnet.Contains(p.Via):
			errs = append(errs, fmt.Errorf("peer %s: via %s is in this host's task subnet", p.Subnet, p.Via))
		}
		for _, q := range peers[:i] {
			if q.Subnet.IsValid() && p.Subnet.Overlaps(q.Subnet) {
				errs = append(errs, fmt.Errorf("peer subnets %s and %s overlap", q.Subnet, p.Subnet))
			}
		}
		for _, q := range peers {
			if q.Subnet.IsValid() && p.Via.IsValid() && q.Subnet.Contains(p.Via) {
				errs = append(errs, fmt.Errorf("peer %s: via %s is in peer subnet %s", p.Subnet, p.Via, q.Subnet))
			}
		}
	}
	return errors.Join(errs...)
}

// MACOf is the MAC address of the interface that holds addr, a task's or
// the gateway's: locally administered, 02:be and the address's four bytes.
// Derived from the address, it is the same for whatever task holds the
// address, so the neighbour entries of the host and of the other tasks stay
// right when an address is given to a new task or namespace (Docker does
// the same with 02:42).
func MACOf(addr netip.Addr) net.HardwareAddr {
	a := addr.As4()
	return net.HardwareAddr{0x02, 0xbe, a[0], a[1], a[2], a[3]}
}

// vethPrefix starts every host veth's name.
const vethPrefix = "bt"

// HostVethName is the name of a task's host veth: "bt" and the first 12
// hex digits of the SHA-256 of the task ID (14 characters, within Linux's 15).
func HostVethName(taskID string) string {
	sum := sha256.Sum256([]byte(taskID))
	return vethPrefix + hex.EncodeToString(sum[:6])
}

// IsHostVethName says whether name has the form of HostVethName's names.
func IsHostVethName(name string) bool {
	rest, ok := strings.CutPrefix(name, vethPrefix)
	if !ok || len(rest) != 12 {
		return false
	}
	for _, c := range rest {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
