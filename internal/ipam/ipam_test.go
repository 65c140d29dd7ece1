package ipam

import (
	"net/netip"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestSubnetLowestFree(t *testing.T) {
	r := netip.MustParsePrefix("10.200.0.0/16")
	got, ok := Subnet(r, 24, nil)
	if !ok || got != netip.MustParsePrefix("10.200.0.0/24") {
		t.Fatalf("first subnet = %v, %v", got, ok)
	}
	used := []netip.Prefix{netip.MustParsePrefix("10.200.0.0/24"), netip.MustParsePrefix("10.200.2.0/24")}
	if got, _ := Subnet(r, 24, used); got != netip.MustParsePrefix("10.200.1.0/24") {
		t.Fatalf("with 0 and 2 used = %v, want 10.200.1.0/24", got)
	}
	// A used subnet of another size blocks every block it overlaps.
	used = []netip.Prefix{netip.MustParsePrefix("10.200.0.0/23")}
	if got, _ := Subnet(r, 24, used); got != netip.MustParsePrefix("10.200.2.0/24") {
		t.Fatalf("with a /23 used = %v, want 10.200.2.0/24", got)
	}
	full := []netip.Prefix{netip.MustParsePrefix("10.200.0.0/16")}
	if got, ok := Subnet(r, 24, full); ok {
		t.Fatalf("full range gave %v", got)
	}
}

func TestCheckRange(t *testing.T) {
	for _, c := range []struct {
		r    string
		bits int
		ok   bool
	}{
		{"10.200.0.0/16", 24, true},
		{"10.200.0.0/24", 24, true},
		{"10.200.0.0/24", 23, false},
		{"10.200.0.0/16", 31, false},
		{"10.0.0.0/8", 15, false},
		{"fd00::/64", 24, false},
	} {
		err := CheckRange(netip.MustParsePrefix(c.r), c.bits)
		if (err == nil) != c.ok {
			t.Errorf("CheckRange(%s, %d) = %v, want ok=%v", c.r, c.bits, err, c.ok)
		}
	}
}

func TestAddressSkipsNetworkGatewayBroadcast(t *testing.T) {
	s := netip.MustParsePrefix("10.200.3.0/30")
	if Capacity(s) != 1 || Gateway(s) != netip.MustParseAddr("10.200.3.1") {
		t.Fatalf("capacity %d gateway %v", Capacity(s), Gateway(s))
	}
	a, ok := Address(s, nil)
	if !ok || a != netip.MustParseAddr("10.200.3.2") {
		t.Fatalf("address = %v, %v", a, ok)
	}
	if _, ok := Address(s, []netip.Addr{a}); ok {
		t.Fatal("a /30 with its one address used still gave one")
	}
	if Capacity(netip.MustParsePrefix("10.200.0.0/24")) != 253 {
		t.Fatal("a /24 holds 253 task addresses")
	}
}

// Allocating and releasing addresses in any order never hands out an
// address twice, never one outside the task addresses, and fails only when
// every task address is held.
func TestAddressProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bits := rapid.IntRange(26, 30).Draw(t, "bits")
		subnet := netip.PrefixFrom(netip.MustParseAddr("10.200.7.0"), bits).Masked()
		var held []netip.Addr
		steps := rapid.IntRange(1, 120).Draw(t, "steps")
		for range steps {
			if len(held) > 0 && rapid.IntRange(0, 2).Draw(t, "release") == 0 {
				i := rapid.IntRange(0, len(held)-1).Draw(t, "which")
				held = slices.Delete(held, i, i+1)
				continue
			}
			a, ok := Address(subnet, held)
			if !ok {
				if len(held) != Capacity(subnet) {
					t.Fatalf("no address with %d of %d held", len(held), Capacity(subnet))
				}
				continue
			}
			if !IsTaskAddress(subnet, a) || a == Gateway(subnet) {
				t.Fatalf("%v is not a task address of %v", a, subnet)
			}
			if slices.Contains(held, a) {
				t.Fatalf("%v handed out twice", a)
			}
			held = append(held, a)
		}
	})
}

// Subnets handed out one after another never overlap and stay in the range.
func TestSubnetProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rbits := rapid.IntRange(16, 26).Draw(t, "range-bits")
		bits := rapid.IntRange(rbits, min(rbits+4, MaxBits)).Draw(t, "bits")
		r := netip.PrefixFrom(netip.MustParseAddr("10.128.0.0"), rbits).Masked()
		var used []netip.Prefix
		for range rapid.IntRange(1, 20).Draw(t, "count") {
			if len(used) > 0 && rapid.Bool().Draw(t, "release") {
				i := rapid.IntRange(0, len(used)-1).Draw(t, "which")
				used = slices.Delete(used, i, i+1)
				continue
			}
			p, ok := Subnet(r, bits, used)
			if !ok {
				if len(used) != 1<<(bits-rbits) {
					t.Fatalf("range full with %d of %d subnets", len(used), 1<<(bits-rbits))
				}
				continue
			}
			if p.Bits() != bits || !r.Contains(p.Addr()) || p != p.Masked() {
				t.Fatalf("subnet %v outside %v or misaligned", p, r)
			}
			for _, u := range used {
				if u.Overlaps(p) {
					t.Fatalf("%v overlaps %v", p, u)
				}
			}
			used = append(used, p)
		}
	})
}
