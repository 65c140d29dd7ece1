package tasknet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestOneHost: two tasks on one host, each answering on its own
// address:8080, reachable from the host and from each other through a
// FORWARD chain whose policy is DROP (as Docker leaves it); the rules are
// made once however often Ensure runs; Attach is idempotent; Detach, Sweep
// and Teardown remove exactly what berth made.
func TestOneHost(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host := newNS(t, "host")
	dockerLike(t, host)
	before := rulesOf(t, host)
	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	if err := h.Ensure(ctx); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	checkRules(t, host, "berth0", "10.200.1.0/24", "10.200.0.0/16")

	t1, t2 := newNS(t, "t1"), newNS(t, "t2")
	serve(t, t1, "0.0.0.0:8080", "task-1")
	serve(t, t2, "0.0.0.0:8080", "task-2")
	a1, err := h.Attach(ctx, "task-1", t1.path, netip.MustParseAddr("10.200.1.2"))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := h.Attach(ctx, "task-2", t2.path, netip.MustParseAddr("10.200.1.3"))
	if err != nil {
		t.Fatal(err)
	}
	checkAttachment(t, h, t1, a1, "task-1", "10.200.1.2/24")
	checkAttachment(t, h, t2, a2, "task-2", "10.200.1.3/24")

	// Agent restart: the same attachment again, nothing changed.
	again, err := h.Attach(ctx, "task-1", t1.path, netip.MustParseAddr("10.200.1.2"))
	if err != nil {
		t.Fatalf("second Attach: %v", err)
	}
	if again.HostVeth != a1.HostVeth || again.MAC.String() != a1.MAC.String() || again.Addr != a1.Addr || again.Prefix != a1.Prefix || again.Gateway != a1.Gateway {
		t.Fatalf("second Attach = %+v, first %+v", again, a1)
	}
	checkAttachment(t, h, t1, again, "task-1", "10.200.1.2/24")

	// Host → each task, by its own address: the host's source is the gateway.
	if a := mustCall(t, host, "10.200.1.2:8080", "task-1"); a.from != netip.MustParseAddr("10.200.1.1") {
		t.Errorf("task-1 saw the host as %s, want the gateway", a.from)
	}
	mustCall(t, host, "10.200.1.3:8080", "task-2")
	// Task → task on the same bridge (bridged, through FORWARD with
	// br_netfilter): the source address is kept.
	if a := mustCall(t, t1, "10.200.1.3:8080", "task-2"); a.from != a1.Addr {
		t.Errorf("task-2 saw task-1 as %s, want %s", a.from, a1.Addr)
	}
	// Task → the gateway, a host address.
	serve(t, host, "10.200.1.1:8081", "host")
	if a := mustCall(t, t2, "10.200.1.1:8081", "host"); a.from != a2.Addr {
		t.Errorf("the host saw task-2 as %s, want %s", a.from, a2.Addr)
	}

	// Detach deletes both ends; again is no error.
	if err := h.Detach(ctx, "task-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := host.nl.LinkByName(a2.HostVeth); !isNotFound(err) {
		t.Errorf("after Detach, %s: %v", a2.HostVeth, err)
	}
	if _, err := t2.nl.LinkByName("eth0"); !isNotFound(err) {
		t.Errorf("after Detach, eth0 in the task: %v", err)
	}
	if err := h.Detach(ctx, "task-2"); err != nil {
		t.Errorf("second Detach: %v", err)
	}

	// Sweep keeps the known task and removes the unknown one.
	t3 := newNS(t, "t3")
	a3, err := h.Attach(ctx, "task-3", t3.path, netip.MustParseAddr("10.200.1.4"))
	if err != nil {
		t.Fatal(err)
	}
	removed, err := h.Sweep(ctx, []string{"task-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{a3.HostVeth}) {
		t.Errorf("Sweep removed %v, want [%s]", removed, a3.HostVeth)
	}
	mustCall(t, host, "10.200.1.2:8080", "task-1")

	// Teardown leaves the namespace's tables as they were, and no links.
	if err := h.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if after := rulesOf(t, host); after != before {
		t.Errorf("after Teardown the rules are\n%s\nwere\n%s", after, before)
	}
	links, err := host.nl.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			t.Errorf("after Teardown, link %s (%s) is left", l.Attrs().Name, l.Type())
		}
	}
	if _, err := t1.nl.LinkByName("eth0"); !isNotFound(err) {
		t.Errorf("after Teardown, eth0 in task-1: %v", err)
	}
	if err := h.Teardown(ctx); err != nil {
		t.Errorf("second Teardown: %v", err)
	}
	closed, err := New(Config{Subnet: netip.MustParsePrefix("10.200.1.0/24"), NetNS: host.path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if err := closed.Ensure(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ensure after Close: %v", err)
	}
}

// rulesOf is iptables -S of the filter and nat tables inside the namespace.
func rulesOf(t *testing.T, n *testNS) string {
	return n.sh(t, "iptables", "-S") + n.sh(t, "iptables", "-t", "nat", "-S")
}

// checkRules checks that berth's chains hold exactly their rules and are
// jumped to once each, at the top, in the namespace (as iptables itself,
// run there by ip netns exec, lists them).
func checkRules(t *testing.T, n *testNS, bridge, subnet, cluster string) {
	t.Helper()
	checkBerthRules(t, n, bridge, subnet, cluster, true)
}

// checkBerthRules is checkRules, with the jumps anywhere in their chains
// unless top.
func checkBerthRules(t *testing.T, n *testNS, bridge, subnet, cluster string, top bool) {
	t.Helper()
	filter := lines(n.sh(t, "iptables", "-S"))
	nat := lines(n.sh(t, "iptables", "-t", "nat", "-S"))
	want := map[string][]string{
		"filter": {"-N BERTH-FORWARD", "-N BERTH-INPUT", "-A INPUT -j BERTH-INPUT", "-A FORWARD -j BERTH-FORWARD",
			"-A BERTH-FORWARD -i " + bridge + " -j ACCEPT", "-A BERTH-FORWARD -o " + bridge + " -j ACCEPT",
			"-A BERTH-INPUT -d 169.254.170.2/32 -i " + bridge + " -p udp -m udp --dport 53 -j ACCEPT",
			"-A BERTH-INPUT -d 169.254.170.2/32 -i " + bridge + " -p tcp -m tcp --dport 53 -j ACCEPT",
			"-A BERTH-INPUT -d 169.254.170.2/32 -i " + bridge + " -p tcp -m tcp --dport 80 -j ACCEPT"},
		"nat": {"-N BERTH-POSTROUTING", "-A POSTROUTING -j BERTH-POSTROUTING",
			"-A BERTH-POSTROUTING -s " + subnet + " ! -d " + cluster + " ! -o " + bridge + " -j MASQUERADE"},
	}
	for table, have := range map[string][]string{"filter": filter, "nat": nat} {
		var berth []string
		for _, l := range have {
			if strings.Contains(l, "BERTH") {
				berth = append(berth, l)
			}
		}
		if !slices.Equal(berth, want[table]) {
			t.Errorf("%s table, berth's lines:\n%s\nwant:\n%s", table, strings.Join(berth, "\n"), strings.Join(want[table], "\n"))
		}
	}
	if !top {
		return
	}
	for _, c := range []struct {
		lines      []string
		from, jump string
	}{{filter, "FORWARD", "-A FORWARD -j BERTH-FORWARD"}, {filter, "INPUT", "-A INPUT -j BERTH-INPUT"}, {nat, "POSTROUTING", "-A POSTROUTING -j BERTH-POSTROUTING"}} {
		for _, l := range c.lines {
			if strings.HasPrefix(l, "-A "+c.from+" ") {
				if l != c.jump {
					t.Errorf("first rule of %s is %q, want the jump to berth's chain", c.from, l)
				}
				break
			}
		}
	}
}

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// checkAttachment checks the links, address and route Attach made.
func checkAttachment(t *testing.T, h *Host, task *testNS, a Attachment, taskID, prefix string) {
	t.Helper()
	if a.HostVeth != HostVethName(taskID) || a.Prefix != netip.MustParsePrefix(prefix) || a.Addr != a.Prefix.Addr() || a.Gateway != h.Network().Gateway {
		t.Errorf("attachment %+v", a)
	}
	hostEnd, err := h.nl.LinkByName(a.HostVeth)
	if err != nil {
		t.Fatal(err)
	}
	br, err := h.nl.LinkByName("berth0")
	if err != nil {
		t.Fatal(err)
	}
	if hostEnd.Attrs().MTU != h.cfg.MTU || eth0MTU(t, task) != h.cfg.MTU {
		t.Errorf("MTU: host end %d, eth0 %d, want %d", hostEnd.Attrs().MTU, eth0MTU(t, task), h.cfg.MTU)
	}
	if want := h.bridgeMAC().String(); br.Attrs().HardwareAddr.String() != want || !strings.HasPrefix(want, "02:be:") {
		t.Errorf("bridge MAC %s, want %s", br.Attrs().HardwareAddr, want)
	}
	if hostEnd.Attrs().MasterIndex != br.Attrs().Index || hostEnd.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s: master %d (bridge %d), flags %v", a.HostVeth, hostEnd.Attrs().MasterIndex, br.Attrs().Index, hostEnd.Attrs().Flags)
	}
	eth0, err := task.nl.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if eth0.Attrs().HardwareAddr.String() != a.MAC.String() || a.MAC.String() != MACOf(a.Addr).String() || eth0.Attrs().Flags&net.FlagUp == 0 || !peers(hostEnd, eth0) {
		t.Errorf("eth0: mac %s (attachment %s), flags %v, peer of host end %v", eth0.Attrs().HardwareAddr, a.MAC, eth0.Attrs().Flags, peers(hostEnd, eth0))
	}
	addrs, err := task.nl.AddrList(eth0, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0].IPNet.String() != prefix {
		t.Errorf("eth0 addresses %v, want only %s", addrs, prefix)
	}
	routes, err := task.nl.RouteList(eth0, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var def int
	for _, r := range routes {
		if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
			def++
			if !r.Gw.Equal(a.Gateway.AsSlice()) {
				t.Errorf("default route via %s, want %s", r.Gw, a.Gateway)
			}
		}
	}
	if def != 1 {
		t.Errorf("%d default routes in the task, want 1: %v", def, routes)
	}
}

// TestConcurrentAttach: tasks attached and detached at once each get their
// own veth and address, all reachable.
func TestConcurrentAttach(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host := newNS(t, "host")
	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	const n = 8
	tasks := make([]*testNS, n)
	for i := range tasks {
		tasks[i] = newNS(t, fmt.Sprintf("t%d", i))
		serve(t, tasks[i], "0.0.0.0:8080", fmt.Sprintf("task-%d", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range tasks {
		wg.Go(func() {
			_, errs[i] = h.Attach(ctx, fmt.Sprintf("task-%d", i), tasks[i].path, netip.AddrFrom4([4]byte{10, 200, 1, byte(10 + i)}))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("task-%d: %v", i, err)
		}
		mustCall(t, host, fmt.Sprintf("10.200.1.%d:8080", 10+i), fmt.Sprintf("task-%d", i))
	}
	for i := range tasks {
		wg.Go(func() { errs[i] = h.Detach(ctx, fmt.Sprintf("task-%d", i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("detach task-%d: %v", i, err)
		}
	}
	if removed, err := h.Sweep(ctx, nil); err != nil || len(removed) != 0 {
		t.Errorf("Sweep after detaching all: %v, %v", removed, err)
	}
}

func eth0MTU(t *testing.T, task *testNS) int {
	t.Helper()
	l, err := task.nl.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().MTU
}
