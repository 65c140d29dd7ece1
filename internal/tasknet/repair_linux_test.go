package tasknet

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestAttachRepairs: attaching a task again with another address, or from
// a namespace that replaced its first, repairs the attachment; a namespace
// whose eth0 is not berth's, a bad address, or a host not Ensured yet is
// a clear error.
func TestAttachRepairs(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host := newNS(t, "host")
	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	first := newNS(t, "t1")
	serve(t, first, "0.0.0.0:8080", "first")
	a, err := h.Attach(ctx, "task-1", first.path, netip.MustParseAddr("10.200.1.2"))
	if err != nil {
		t.Fatal(err)
	}
	// Another address: eth0 gets it instead of the old one.
	a, err = h.Attach(ctx, "task-1", first.path, netip.MustParseAddr("10.200.1.5"))
	if err != nil {
		t.Fatal(err)
	}
	checkAttachment(t, h, first, a, "task-1", "10.200.1.5/24")
	mustCall(t, host, "10.200.1.5:8080", "first")

	// The task's namespace was replaced (a new pause container): the old
	// veth goes, a new one connects the new namespace.
	second := newNS(t, "t1b")
	serve(t, second, "0.0.0.0:8080", "second")
	b, err := h.Attach(ctx, "task-1", second.path, netip.MustParseAddr("10.200.1.5"))
	if err != nil {
		t.Fatal(err)
	}
	checkAttachment(t, h, second, b, "task-1", "10.200.1.5/24")
	if _, err := first.nl.LinkByName("eth0"); !isNotFound(err) {
		t.Errorf("the replaced namespace still has eth0: %v", err)
	}
	mustCall(t, host, "10.200.1.5:8080", "second")

	// An eth0 that is not berth's.
	foreign := newNS(t, "t2")
	// (a veth pair of its own: this kernel may have no dummy links)
	if err := foreign.nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "other0"}); err != nil {
		t.Fatal(err)
	}
	_, err = h.Attach(ctx, "task-2", foreign.path, netip.MustParseAddr("10.200.1.6"))
	if err == nil || !strings.Contains(err.Error(), "has an eth0 already") {
		t.Errorf("Attach over a foreign eth0: %v", err)
	}
	if _, err := host.nl.LinkByName(HostVethName("task-2")); !isNotFound(err) {
		t.Errorf("a failed Attach left its veth: %v", err)
	}
	// The veth of another task in the namespace that has this task's eth0.
	if _, err := h.Attach(ctx, "task-3", second.path, netip.MustParseAddr("10.200.1.7")); err == nil {
		t.Error("Attach into a namespace attached to another task succeeded")
	}

	for _, bad := range []string{"10.200.1.1", "10.200.1.0", "10.200.1.255", "10.200.2.3"} {
		if _, err := h.Attach(ctx, "task-4", second.path, netip.MustParseAddr(bad)); err == nil {
			t.Errorf("Attach with address %s succeeded", bad)
		}
	}
	if _, err := h.Attach(ctx, "task-4", "/nonexistent/ns", netip.MustParseAddr("10.200.1.8")); err == nil {
		t.Error("Attach to a missing namespace succeeded")
	}

	// A host that was not Ensured has no bridge to attach to.
	bare := newNS(t, "bare")
	hb, err := New(Config{Subnet: netip.MustParsePrefix("10.200.3.0/24"), NetNS: bare.path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	task := newNS(t, "t5")
	if _, err := hb.Attach(ctx, "task-5", task.path, netip.MustParseAddr("10.200.3.2")); err == nil || !strings.Contains(err.Error(), "Ensure first") {
		t.Errorf("Attach before Ensure: %v", err)
	}
}

// TestEnsureRepairs: Ensure puts right what drifted: a changed config's
// rules replace the old ones in berth's chains, extra jumps and bridge
// addresses go, and a missing jump comes back; rules of others stay.
func TestEnsureRepairs(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host := newNS(t, "host")
	realBefore := realChains(t)
	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	checkRules(t, host, "berth0", "10.200.1.0/24", "10.200.0.0/16")
	if realChains(t) != realBefore {
		t.Fatalf("berth's chains appeared in or left the machine's own namespace")
	}

	host.sh(t, "iptables", "-I", "FORWARD", "1", "-j", "BERTH-FORWARD")
	host.sh(t, "iptables", "-A", "FORWARD", "-s", "192.0.2.0/24", "-j", "DROP")
	host.sh(t, "iptables", "-t", "nat", "-D", "POSTROUTING", "-j", "BERTH-POSTROUTING")
	host.sh(t, "iptables", "-A", "BERTH-FORWARD", "-p", "udp", "-j", "DROP")
	host.sh(t, "ip", "addr", "add", "10.99.0.1/24", "dev", "berth0")
	if err := host.run(func() error { return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0\n"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	if err := h.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	checkRules(t, host, "berth0", "10.200.1.0/24", "10.200.0.0/16")
	if out := strings.TrimSpace(host.sh(t, "cat", "/proc/sys/net/ipv4/ip_forward")); out != "1" {
		t.Errorf("ip_forward after Ensure: %s", out)
	}
	if out := host.sh(t, "ip", "-4", "-o", "addr", "show", "dev", "berth0"); strings.Contains(out, "10.99.0.1") || !strings.Contains(out, "10.200.1.1/24") {
		t.Errorf("bridge addresses after Ensure: %s", out)
	}

	// A new config (wider cluster range) on the same host.
	h2, err := New(Config{Subnet: netip.MustParsePrefix("10.200.1.0/24"), ClusterRange: netip.MustParsePrefix("10.0.0.0/8"), NetNS: host.path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if err := h2.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	checkRules(t, host, "berth0", "10.200.1.0/24", "10.0.0.0/8")

	if err := h2.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if rules := rulesOf(t, host); strings.Contains(rules, "BERTH") || !strings.Contains(rules, "-A FORWARD -s 192.0.2.0/24 -j DROP") {
		t.Errorf("after Teardown:\n%s", rules)
	}
}

// realChains says whether berth's chains exist in the machine's own
// namespace (read only: iptables -S of the two chains).
func realChains(t *testing.T) string {
	t.Helper()
	var s string
	for _, c := range [][]string{{"-S", ForwardChain}, {"-t", "nat", "-S", PostroutingChain}} {
		err := exec.Command("iptables", c...).Run()
		s += c[len(c)-1] + "=" + map[bool]string{true: "yes", false: "no"}[err == nil] + " "
	}
	return s
}

func TestNewRefusesBadConfig(t *testing.T) {
	subnet := netip.MustParsePrefix("10.200.1.0/24")
	for name, cfg := range map[string]Config{
		"no subnet":       {},
		"long bridge":     {Subnet: subnet, Bridge: "a-bridge-name-too-long"},
		"slash bridge":    {Subnet: subnet, Bridge: "br/0"},
		"small MTU":       {Subnet: subnet, MTU: 60},
		"outside range":   {Subnet: subnet, ClusterRange: netip.MustParsePrefix("10.201.0.0/16")},
		"missing netns":   {Subnet: subnet, NetNS: "/nonexistent/netns"},
		"subnet host bit": {Subnet: netip.MustParsePrefix("10.200.1.1/24")},
	} {
		if name == "missing netns" {
			if _, err := exec.LookPath("iptables"); err != nil {
				continue // New finds iptables before it opens the namespace
			}
		}
		if h, err := New(cfg, nil); err == nil {
			h.Close()
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

// TestSweepLeavesOthers: Sweep removes berth's veths of unknown tasks only:
// not a veth of another name on the bridge, nor one named like berth's on
// another bridge.
func TestSweepLeavesOthers(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host := newNS(t, "host")
	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	br, err := host.nl.LinkByName("berth0")
	if err != nil {
		t.Fatal(err)
	}
	if err := host.nl.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "other-br"}}); err != nil {
		t.Fatal(err)
	}
	other, err := host.nl.LinkByName("other-br")
	if err != nil {
		t.Fatal(err)
	}
	lookalike := HostVethName("not berth's")
	for _, v := range []*netlink.Veth{
		{LinkAttrs: netlink.LinkAttrs{Name: "other0", MasterIndex: br.Attrs().Index}, PeerName: "other1"},
		{LinkAttrs: netlink.LinkAttrs{Name: lookalike, MasterIndex: other.Attrs().Index}, PeerName: "other2"},
	} {
		if err := host.nl.LinkAdd(v); err != nil {
			t.Fatal(err)
		}
	}
	task := newNS(t, "t1")
	a, err := h.Attach(ctx, "task-1", task.path, netip.MustParseAddr("10.200.1.2"))
	if err != nil {
		t.Fatal(err)
	}
	removed, err := h.Sweep(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != a.HostVeth {
		t.Errorf("Sweep removed %v, want only %s", removed, a.HostVeth)
	}
	for _, name := range []string{"other0", "other1", lookalike, "other2"} {
		if _, err := host.nl.LinkByName(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
