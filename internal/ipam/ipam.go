package ipam

import (
	"fmt"
	"net/netip"
)

// MinBits and MaxBits bound the prefix length of a task subnet: a /30 holds
// one task address, a /16 65,533.
const (
	MinBits = 16
	MaxBits = 30
)

// CheckRange reports whether a cluster range and subnet prefix length can
// be used together.
func CheckRange(r netip.Prefix, bits int) error {
	if !r.IsValid() || !r.Addr().Is4() {
		return fmt.Errorf("task range %s is not an IPv4 prefix", r)
	}
	if bits < MinBits || bits > MaxBits {
		return fmt.Errorf("task subnet prefix length %d is outside %d..%d", bits, MinBits, MaxBits)
	}
	if bits < r.Bits() {
		return fmt.Errorf("task subnets /%d do not fit in the range %s", bits, r.Masked())
	}
	return nil
}

// Subnet returns the lowest block of r with prefix length bits that
// overlaps none of used, and false when every block is taken. r and bits
// must pass CheckRange.
func Subnet(r netip.Prefix, bits int, used []netip.Prefix) (netip.Prefix, bool) {
	r = r.Masked()
	n := uint64(1) << (bits - r.Bits())
	size := uint64(1) << (32 - bits)
	base := u32(r.Addr())
	for i := uint64(0); i < n; i++ {
		p := netip.PrefixFrom(addr(base+uint32(i*size)), bits)
		free := true
		for _, u := range used {
			if u.IsValid() && u.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// Gateway is the subnet's gateway: its first host address.
func Gateway(subnet netip.Prefix) netip.Addr {
	return addr(u32(subnet.Masked().Addr()) + 1)
}

// Capacity is the number of task addresses of the subnet: all but the
// network, gateway and broadcast addresses.
func Capacity(subnet netip.Prefix) int {
	if !subnet.IsValid() || !subnet.Addr().Is4() || subnet.Bits() > MaxBits {
		return 0
	}
	return 1<<(32-subnet.Bits()) - 3
}

// Address returns the lowest task address of subnet not in used, and false
// when there is none.
func Address(subnet netip.Prefix, used []netip.Addr) (netip.Addr, bool) {
	if Capacity(subnet) <= 0 {
		return netip.Addr{}, false
	}
	subnet = subnet.Masked()
	first := u32(subnet.Addr()) + 2
	last := u32(subnet.Addr()) + uint32(Capacity(subnet)) + 1
	taken := make(map[uint32]bool, len(used))
	for _, a := range used {
		if a.Is4() && subnet.Contains(a) {
			taken[u32(a)] = true
		}
	}
	for v := first; v <= last; v++ {
		if !taken[v] {
			return addr(v), true
		}
	}
	return netip.Addr{}, false
}

// IsTaskAddress reports whether a is one of subnet's task addresses.
func IsTaskAddress(subnet netip.Prefix, a netip.Addr) bool {
	if Capacity(subnet) <= 0 || !a.Is4() || !subnet.Contains(a) {
		return false
	}
	off := u32(a) - u32(subnet.Masked().Addr())
	return off >= 2 && off <= uint32(Capacity(subnet))+1
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
