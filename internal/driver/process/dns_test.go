//go:build linux

package process

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/dnstest/taskhost"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskendpoint"
)

// hostResolver is the host's /etc/resolv.conf and the mount points that
// show it, which no workload may change.
func hostResolver(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(hostResolvConf)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := string(data)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.Contains(fields[4], "resolv.conf") {
			out += "\nmount " + fields[4]
		}
	}
	return out
}

// nameservers are the nameserver lines of a resolv.conf's lines.
func nameservers(lines []string) []string {
	var out []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return out
}

// TestDNSSettingsInAMountNamespace: a workload with DNS servers and search
// domains (directly, and through the trampoline with a user switch) sees
// them in /etc/resolv.conf; the host's file and mounts do not change.
func TestDNSSettingsInAMountNamespace(t *testing.T) {
	requireRoot(t)
	d := newDriver(t, Options{})
	before := hostResolver(t)
	for name, mode := range map[string]string{"host": "host", "bridge": "bridge", "as nobody": "host"} {
		spec := sh("cat /etc/resolv.conf; echo done")
		spec.NetworkMode = mode
		spec.DNSServers = []string{taskendpoint.IP}
		spec.DNSSearch = []string{"corp.test"}
		if name == "as nobody" {
			spec.User = "65534"
		}
		code, out := run(t, d, spec)
		if code != 0 || !strings.Contains(strings.Join(out, "\n"), "search corp.test") {
			t.Fatalf("%s: exit %d, resolv.conf %q", name, code, out)
		}
		if ns := nameservers(out); len(ns) != 1 || ns[0] != taskendpoint.IP {
			t.Errorf("%s: nameservers %v, want only %s", name, ns, taskendpoint.IP)
		}
	}
	if after := hostResolver(t); after != before {
		t.Errorf("the host's resolver changed:\n%s\nwas\n%s", after, before)
	}
}

// TestDNSQueryReachesTheTaskEndpoint: a workload's lookup goes to the
// responder on 169.254.170.2:53.
func TestDNSQueryReachesTheTaskEndpoint(t *testing.T) {
	requireRoot(t)
	srv := dnstest.ListenTaskEndpoint(t)
	d := newDriver(t, Options{})
	spec := driver.Spec{EntryPoint: []string{workloadBin, "resolve", dnstest.ProbeName}, NetworkMode: "host", DNSServers: []string{taskendpoint.IP}}
	code, out := run(t, d, spec)
	if code != 0 || len(out) == 0 || out[0] != "resolved "+dnstest.ProbeAddr.String() {
		t.Fatalf("exit %d, output %q; the responder saw %v", code, out, srv.Queries())
	}
}

// TestSandboxDNS: a sandbox's DNS settings are its containers'
// resolv.conf, which goes with the sandbox.
func TestSandboxDNS(t *testing.T) {
	requireRoot(t)
	d := sandboxDriver(t, Options{})
	before := hostResolver(t)
	sb, err := d.CreateSandbox(ctxT(t), driver.SandboxSpec{Name: "dns", DNSServers: []string{taskendpoint.IP}, DNSSearch: []string{"task.test"},
		Labels: map[string]string{driver.LabelTaskARN: "arn:aws:ecs:local:0:task/test/dns"}})
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			d.RemoveSandbox(ctxT(t), sb.ID)
		}
	})
	spec := driver.Spec{EntryPoint: []string{"/bin/cat", hostResolvConf}, NetworkMode: driver.NetworkAWSVPC, Sandbox: sb.ID}
	code, out := run(t, d, spec)
	if ns := nameservers(out); code != 0 || len(ns) != 1 || ns[0] != taskendpoint.IP || !strings.Contains(strings.Join(out, "\n"), "search task.test") {
		t.Fatalf("exit %d, resolv.conf %q", code, out)
	}
	// Without DNS settings, a sandbox's containers see the host's file.
	plain := newSandbox(t, d, "plain")
	code, out = run(t, d, driver.Spec{EntryPoint: []string{"/bin/cat", hostResolvConf}, NetworkMode: driver.NetworkAWSVPC, Sandbox: plain.ID})
	if host, _ := os.ReadFile(hostResolvConf); code != 0 || strings.Join(out, "\n") != strings.TrimRight(string(host), "\n") {
		t.Errorf("sandbox without DNS: exit %d, %q", code, out)
	}
	cleanupDriver(t, d)
	if err := d.RemoveSandbox(ctxT(t), sb.ID); err != nil {
		t.Fatal(err)
	}
	removed = true
	if _, err := os.Stat(d.sandboxResolvPath(sb.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the sandbox's resolv.conf outlived it: %v", err)
	}
	if after := hostResolver(t); after != before {
		t.Errorf("the host's resolver changed:\n%s\nwas\n%s", after, before)
	}
}

// TestDNSRefusedWithoutMountNamespaces: where the runtime may not make
// mount namespaces, DNS settings fail the container (and the sandbox) with
// the reason, and SupportsDNS says so.
func TestDNSRefusedWithoutMountNamespaces(t *testing.T) {
	d := newDriver(t, Options{})
	d.mountNS = false
	if d.SupportsDNS("host") || d.SupportsDNS(driver.NetworkAWSVPC) {
		t.Error("SupportsDNS without mount namespaces")
	}
	spec := sh("true")
	spec.DNSServers = []string{taskendpoint.IP}
	_, err := d.Create(ctxT(t), spec)
	if !errors.Is(err, driver.ErrCannotCreate) || !strings.Contains(err.Error(), "mount namespace") {
		t.Errorf("create: %v", err)
	}
	_, err = d.CreateSandbox(ctxT(t), driver.SandboxSpec{Name: "dns", DNSSearch: []string{"corp.test"}})
	if !errors.Is(err, driver.ErrCannotCreate) || !strings.Contains(err.Error(), "mount namespace") {
		t.Errorf("create sandbox: %v", err)
	}
	if _, err := d.Create(ctxT(t), sh("true")); err != nil {
		t.Errorf("a spec without DNS settings: %v", err)
	}
}

// TestSandboxDNSQueryReachesTheTaskEndpoint: an awsvpc workload whose
// sandbox has the task endpoint as nameserver resolves through the
// responder on its host's 169.254.170.2:53, across the task network.
func TestSandboxDNSQueryReachesTheTaskEndpoint(t *testing.T) {
	requireRoot(t)
	th := taskhost.New(t, "10.200.9.0/24")
	d := sandboxDriver(t, Options{})
	sb, err := d.CreateSandbox(ctxT(t), driver.SandboxSpec{Name: "dnsq", DNSServers: []string{taskendpoint.IP},
		Labels: map[string]string{driver.LabelTaskARN: "arn:aws:ecs:local:0:task/test/dnsq"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cleanupDriver(t, d) // the containers first
		if err := d.RemoveSandbox(ctxT(t), sb.ID); err != nil {
			t.Errorf("cleanup: remove sandbox: %v", err)
		}
	})
	th.Attach("dnsq", sb.NetNSPath, "10.200.9.2")
	code, out := run(t, d, inSandbox(sb, "resolve", dnstest.ProbeName))
	if code != 0 || len(out) == 0 || out[0] != "resolved "+dnstest.ProbeAddr.String() {
		t.Fatalf("exit %d, output %q; the responder saw %v", code, out, th.Server.Queries())
	}
}
