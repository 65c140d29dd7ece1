package tasknet

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestNewNetwork(t *testing.T) {
	p := netip.MustParsePrefix
	cases := []struct {
		subnet, cluster string
		gateway         string
		err             string
	}{
		{"10.200.1.0/24", "10.200.0.0/16", "10.200.1.1", ""},
		{"10.200.1.0/24", "", "10.200.1.1", ""},
		{"192.168.0.0/30", "192.168.0.0/30", "192.168.0.1", ""},
		{"10.0.0.0/8", "0.0.0.0/0", "10.0.0.1", ""},
		{"10.200.1.0/31", "", "", "too small"},
		{"10.200.1.1/24", "10.200.0.0/16", "", "host bits set (the network is 10.200.1.0/24)"},
		{"10.200.1.0/24", "10.200.0.1/16", "", "cluster range 10.200.0.1/16: host bits set"},
		{"10.200.1.0/24", "10.201.0.0/16", "", "does not contain"},
		{"10.200.0.0/16", "10.200.1.0/24", "", "does not contain"},
		{"fd00::/64", "", "", "not IPv4"},
		{"::ffff:10.0.0.0/104", "", "", "not IPv4"},
		{"", "", "", "not set"},
	}
	for _, c := range cases {
		var subnet, cluster netip.Prefix
		if c.subnet != "" {
			subnet = p(c.subnet)
		}
		if c.cluster != "" {
			cluster = p(c.cluster)
		}
		n, err := NewNetwork(subnet, cluster)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("NewNetwork(%s, %s) = %v, want error containing %q", c.subnet, c.cluster, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewNetwork(%s, %s): %v", c.subnet, c.cluster, err)
			continue
		}
		if n.Gateway != netip.MustParseAddr(c.gateway) {
			t.Errorf("NewNetwork(%s).Gateway = %s, want %s", c.subnet, n.Gateway, c.gateway)
		}
		if c.cluster == "" && n.Cluster != subnet {
			t.Errorf("default cluster = %s, want the subnet", n.Cluster)
		}
	}
}

func TestCheckTask(t *testing.T) {
	n, err := NewNetwork(netip.MustParsePrefix("10.200.1.0/24"), netip.MustParsePrefix("10.200.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{
		"10.200.1.2":           "",
		"10.200.1.254":         "",
		"10.200.1.0":           "network address",
		"10.200.1.1":           "gateway",
		"10.200.1.255":         "broadcast",
		"10.200.2.5":           "not in subnet",
		"::ffff:10.200.1.5":    "not IPv4",
		"fd00::1":              "not IPv4",
		"invalid (zero netip)": "not set",
	} {
		a, _ := netip.ParseAddr(addr)
		err := n.CheckTask(a)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("CheckTask(%s) = %v, want %q", addr, err, want)
		}
	}
	if got := n.TaskPrefix(netip.MustParseAddr("10.200.1.7")).String(); got != "10.200.1.7/24" {
		t.Errorf("TaskPrefix = %s", got)
	}
}

func TestCheckPeers(t *testing.T) {
	n, _ := NewNetwork(netip.MustParsePrefix("10.200.1.0/24"), netip.MustParsePrefix("10.200.0.0/16"))
	peer := func(s, via string) Peer {
		return Peer{Subnet: netip.MustParsePrefix(s), Via: netip.MustParseAddr(via)}
	}
	ok := [][]Peer{
		nil,
		{peer("10.200.2.0/24", "192.168.1.2"), peer("10.200.3.0/24", "192.168.1.3")},
	}
	for _, ps := range ok {
		if err := n.CheckPeers(ps); err != nil {
			t.Errorf("CheckPeers(%v): %v", ps, err)
		}
	}
	bad := map[string][]Peer{
		"overlaps this host's":  {peer("10.200.0.0/16", "192.168.1.2")},
		"host bits set":         {peer("10.200.2.1/24", "192.168.1.2")},
		"overlap":               {peer("10.200.2.0/24", "192.168.1.2"), peer("10.200.2.128/25", "192.168.1.3")},
		"in this host's task":   {peer("10.200.2.0/24", "10.200.1.9")},
		"is in peer subnet":     {peer("10.200.2.0/24", "10.200.2.1")},
		"not an IPv4 address":   {{Subnet: netip.MustParsePrefix("10.200.2.0/24")}},
		"peer subnet: not set":  {{Via: netip.MustParseAddr("192.168.1.2")}},
		"peer subnet fd00::/64": {peer("fd00::/64", "192.168.1.2")},
	}
	for want, ps := range bad {
		err := n.CheckPeers(ps)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPeers(%v) = %v, want error containing %q", ps, err, want)
		}
	}
}

func TestHostVethName(t *testing.T) {
	a, b := HostVethName("arn:aws:ecs:us-east-1:1:task/c/1"), HostVethName("arn:aws:ecs:us-east-1:1:task/c/2")
	if a == b || len(a) != 14 || !IsHostVethName(a) || !IsHostVethName(b) {
		t.Errorf("names %q %q", a, b)
	}
	if a != HostVethName("arn:aws:ecs:us-east-1:1:task/c/1") {
		t.Error("not deterministic")
	}
	for _, s := range []string{"berth0", "bt", "bt0123456789a", "bt0123456789abc", "bt0123456789AB", "xt0123456789ab", "eth0"} {
		if IsHostVethName(s) {
			t.Errorf("IsHostVethName(%q) = true", s)
		}
	}
}

// u32 and a4 convert between addresses and numbers, for the model below.
func u32(a netip.Addr) uint32 { b := a.As4(); return binary.BigEndian.Uint32(b[:]) }
func a4(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// TestNetworkProperties checks Network against plain integer arithmetic:
// for any subnet and address, the gateway is the network address + 1, the
// broadcast the last, and CheckTask accepts exactly the other addresses of
// the subnet.
func TestNetworkProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bits := rapid.IntRange(0, 30).Draw(t, "bits")
		base := rapid.Uint32().Draw(t, "base")
		mask := ^uint32(0) << (32 - bits)
		if bits == 0 {
			mask = 0
		}
		netAddr := base & mask
		subnet := netip.PrefixFrom(a4(netAddr), bits)
		clusterBits := rapid.IntRange(0, bits).Draw(t, "clusterBits")
		cluster := netip.PrefixFrom(a4(netAddr), clusterBits).Masked()
		n, err := NewNetwork(subnet, cluster)
		if err != nil {
			t.Fatalf("NewNetwork(%s, %s): %v", subnet, cluster, err)
		}
		last := netAddr | ^mask
		if u32(n.Gateway) != netAddr+1 || u32(n.Broadcast()) != last {
			t.Fatalf("%s: gateway %s broadcast %s", subnet, n.Gateway, n.Broadcast())
		}
		var addr uint32
		if rapid.Bool().Draw(t, "inside") {
			addr = netAddr | rapid.Uint32().Draw(t, "host")&^mask
		} else {
			addr = rapid.Uint32().Draw(t, "addr")
		}
		other := rapid.Uint32().Draw(t, "other")
		m, mo := MACOf(a4(addr)), MACOf(a4(other))
		if m[0]&0x03 != 0x02 || (m.String() == mo.String()) != (addr == other) {
			t.Fatalf("MACOf(%s) = %s, MACOf(%s) = %s: want locally administered unicast, one per address", a4(addr), m, a4(other), mo)
		}
		want := addr&mask == netAddr && addr != netAddr && addr != netAddr+1 && addr != last
		if got := n.CheckTask(a4(addr)) == nil; got != want {
			t.Fatalf("%s: CheckTask(%s) accepted=%v, want %v", subnet, a4(addr), got, want)
		}
	})
}

// FuzzNetwork feeds arbitrary prefixes and addresses (as text, the way a
// config reaches the agent) through NewNetwork and CheckTask and checks
// the invariants of what they accept.
func FuzzNetwork(f *testing.F) {
	f.Add("10.200.1.0/24", "10.200.0.0/16", "10.200.1.5")
	f.Add("10.200.1.0/30", "", "10.200.1.2")
	f.Add("0.0.0.0/0", "0.0.0.0/0", "255.255.255.255")
	f.Add("::ffff:10.0.0.0/120", "", "::ffff:10.0.0.3")
	f.Fuzz(func(t *testing.T, subnetS, clusterS, addrS string) {
		subnet, _ := netip.ParsePrefix(subnetS)
		cluster, _ := netip.ParsePrefix(clusterS)
		addr, _ := netip.ParseAddr(addrS)
		n, err := NewNetwork(subnet, cluster)
		if err != nil {
			return
		}
		if !n.Subnet.Addr().Is4() || n.Subnet != n.Subnet.Masked() || n.Subnet.Bits() > 30 {
			t.Fatalf("accepted subnet %s", n.Subnet)
		}
		if !n.Cluster.Contains(n.Subnet.Addr()) || n.Cluster.Bits() > n.Subnet.Bits() {
			t.Fatalf("cluster %s does not contain %s", n.Cluster, n.Subnet)
		}
		if !n.Subnet.Contains(n.Gateway) || n.CheckTask(n.Gateway) == nil || n.CheckTask(n.Broadcast()) == nil {
			t.Fatalf("%s: gateway %s or broadcast %s accepted as a task address", n.Subnet, n.Gateway, n.Broadcast())
		}
		if n.CheckTask(addr) == nil {
			if !n.Subnet.Contains(addr) || !addr.Is4() || addr == n.Subnet.Addr() {
				t.Fatalf("%s: accepted task address %s", n.Subnet, addr)
			}
			if p := n.TaskPrefix(addr); p.Masked() != n.Subnet {
				t.Fatalf("TaskPrefix(%s) = %s, not in %s", addr, p, n.Subnet)
			}
		}
	})
}
