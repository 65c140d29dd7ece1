package tasknet

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

// TestTwoHosts: two hosts on a shared segment, each with its own subnet;
// SetPeers routes each to the other's tasks, which reach each other by
// address with their own source addresses (no masquerade inside the
// cluster range); SetPeers replaces and removes berth's routes only.
func TestTwoHosts(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	hostA, hostB := newNS(t, "hostA"), newNS(t, "hostB")
	link(t, hostA, "seg0", hostB, "seg0")
	hostA.addr(t, "seg0", "192.168.250.1/24")
	hostB.addr(t, "seg0", "192.168.250.2/24")
	dockerLike(t, hostA)
	dockerLike(t, hostB)
	hA := newHost(t, hostA, "10.200.1.0/24", "10.200.0.0/16")
	hB := newHostWith(t, hostB, Config{Subnet: netip.MustParsePrefix("10.200.2.0/24"), ClusterRange: netip.MustParsePrefix("10.200.0.0/16"), MTU: 1400})

	taskA, taskB := newNS(t, "taskA"), newNS(t, "taskB")
	serve(t, taskA, "0.0.0.0:8080", "task-a")
	serve(t, taskB, "0.0.0.0:8080", "task-b")
	if _, err := hA.Attach(ctx, "task-a", taskA.path, netip.MustParseAddr("10.200.1.2")); err != nil {
		t.Fatal(err)
	}
	if _, err := hB.Attach(ctx, "task-b", taskB.path, netip.MustParseAddr("10.200.2.2")); err != nil {
		t.Fatal(err)
	}
	peersA := []Peer{{Subnet: netip.MustParsePrefix("10.200.2.0/24"), Via: netip.MustParseAddr("192.168.250.2")}}
	peersB := []Peer{{Subnet: netip.MustParsePrefix("10.200.1.0/24"), Via: netip.MustParseAddr("192.168.250.1")}}
	for range 2 { // the second time changes nothing
		if err := hA.SetPeers(ctx, peersA); err != nil {
			t.Fatal(err)
		}
		if err := hB.SetPeers(ctx, peersB); err != nil {
			t.Fatal(err)
		}
	}
	checkPeerRoutes(t, hostA, "10.200.2.0/24 via 192.168.250.2 dev seg0")
	if mtu := eth0MTU(t, taskB); mtu != 1400 {
		t.Errorf("eth0 of task-b has MTU %d, want host B's 1400", mtu)
	}

	if a := mustCall(t, taskA, "10.200.2.2:8080", "task-b"); a.from != netip.MustParseAddr("10.200.1.2") {
		t.Errorf("task-b saw task-a as %s, want 10.200.1.2 (not masqueraded)", a.from)
	}
	if a := mustCall(t, taskB, "10.200.1.2:8080", "task-a"); a.from != netip.MustParseAddr("10.200.2.2") {
		t.Errorf("task-a saw task-b as %s, want 10.200.2.2 (not masqueraded)", a.from)
	}
	// Host A reaches a task on host B, and task B reaches host A's segment address.
	mustCall(t, hostA, "10.200.2.2:8080", "task-b")
	serve(t, hostA, "192.168.250.1:9000", "host-a")
	mustCall(t, taskB, "192.168.250.1:9000", "host-a")

	// A route that is not berth's is neither replaced nor removed.
	hostA.route(t, "10.200.9.0/24", "192.168.250.2")
	err := hA.SetPeers(ctx, append(peersA[:1:1], Peer{Subnet: netip.MustParsePrefix("10.200.9.0/24"), Via: netip.MustParseAddr("192.168.250.3")}))
	if err == nil || !strings.Contains(err.Error(), "not berth's") {
		t.Errorf("SetPeers over a route that is not berth's: %v", err)
	}
	// A peer that moved: its route is replaced.
	hostA.addr(t, "seg0", "192.168.251.1/24")
	hostB.addr(t, "seg0", "192.168.251.2/24")
	if err := hA.SetPeers(ctx, []Peer{{Subnet: netip.MustParsePrefix("10.200.2.0/24"), Via: netip.MustParseAddr("192.168.251.2")}}); err != nil {
		t.Fatal(err)
	}
	checkPeerRoutes(t, hostA, "10.200.2.0/24 via 192.168.251.2 dev seg0")
	mustCall(t, taskA, "10.200.2.2:8080", "task-b")

	// No peers: berth's routes go, the others stay.
	if err := hA.SetPeers(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkPeerRoutes(t, hostA, "")
	if out := hostA.sh(t, "ip", "route", "show", "10.200.9.0/24"); !strings.Contains(out, "via 192.168.250.2") {
		t.Errorf("the route that is not berth's is gone: %q", out)
	}
	if err := hA.SetPeers(ctx, []Peer{{Subnet: netip.MustParsePrefix("10.200.1.128/25"), Via: netip.MustParseAddr("192.168.251.2")}}); err == nil {
		t.Error("SetPeers accepted a peer subnet inside the host's own")
	}
}

// checkPeerRoutes checks berth's routes in the namespace, as ip lists them.
func checkPeerRoutes(t *testing.T, n *testNS, want string) {
	t.Helper()
	if have := strings.TrimSpace(n.sh(t, "ip", "route", "show", "proto", "98")); have != want {
		t.Errorf("berth's routes in %s:\n%s\nwant:\n%s", n.name, have, want)
	}
}

// TestMasquerade: a task reaching an address outside the cluster range
// through its host is seen with the host's address; one reaching an
// address inside the cluster range over the same interface keeps its own.
func TestMasquerade(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host, world := newNS(t, "host"), newNS(t, "world")
	link(t, host, "wan0", world, "eth0")
	host.addr(t, "wan0", "198.51.100.2/24")
	world.addr(t, "eth0", "198.51.100.1/24")
	// The world also holds an address of the cluster range (another host's
	// task, as far as this host knows) and routes this host's subnet back.
	world.addr(t, "lo", "10.200.5.1/32")
	world.route(t, "10.200.1.0/24", "198.51.100.2")
	dockerLike(t, host)
	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	if err := h.SetPeers(ctx, []Peer{{Subnet: netip.MustParsePrefix("10.200.5.0/24"), Via: netip.MustParseAddr("198.51.100.1")}}); err != nil {
		t.Fatal(err)
	}
	task := newNS(t, "task")
	if _, err := h.Attach(ctx, "task", task.path, netip.MustParseAddr("10.200.1.9")); err != nil {
		t.Fatal(err)
	}
	serve(t, world, "0.0.0.0:8080", "world")

	if a := mustCall(t, task, "198.51.100.1:8080", "world"); a.from != netip.MustParseAddr("198.51.100.2") {
		t.Errorf("outside the cluster range the task was seen as %s, want the host's 198.51.100.2", a.from)
	}
	if a := mustCall(t, task, "10.200.5.1:8080", "world"); a.from != netip.MustParseAddr("10.200.1.9") {
		t.Errorf("inside the cluster range the task was seen as %s, want its own 10.200.1.9", a.from)
	}
}
