package docker_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/dnstest/taskhost"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskendpoint"
)

// resolvConfOf is the /etc/resolv.conf container h sees.
func (e *env) resolvConfOf(h driver.Handle) string {
	e.t.Helper()
	res, err := e.cli.ContainerInspect(e.ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/resolv.conf", res.Container.State.Pid))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func onlyNameserver(conf string) (string, bool) {
	var ns []string
	for _, l := range strings.Split(conf, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "nameserver" {
			ns = append(ns, f[1])
		}
	}
	if len(ns) != 1 {
		return strings.Join(ns, ","), false
	}
	return ns[0], true
}

// resolveVia asks the test application at base to resolve the probe name
// through its resolver.
func resolveVia(t *testing.T, base string) {
	t.Helper()
	code, body := get(t, base+"/resolve?type=A&name="+url.QueryEscape(dnstest.ProbeName))
	var ans struct{ Addresses []string }
	if code != 200 || json.Unmarshal([]byte(body), &ans) != nil || len(ans.Addresses) != 1 || ans.Addresses[0] != dnstest.ProbeAddr.String() {
		t.Fatalf("resolve from the container: %d %q", code, body)
	}
}

// TestTaskEndpointDNSBridge: a bridge container with the task endpoint as
// its nameserver lists only it, and its lookups reach the responder on
// 169.254.170.2:53 of the host.
func TestTaskEndpointDNSBridge(t *testing.T) {
	e := newEnv(t)
	srv := dnstest.ListenTaskEndpoint(t)
	spec := e.spec()
	spec.DNSServers = []string{taskendpoint.IP}
	spec.DNSSearch = []string{"corp.test"}
	spec.Ports = []driver.PortMapping{{ContainerPort: 8080}}
	h, st := e.run(spec)
	conf := e.resolvConfOf(h)
	if ns, ok := onlyNameserver(conf); !ok || ns != taskendpoint.IP || !strings.Contains(conf, "search corp.test") {
		t.Fatalf("resolv.conf %q", conf)
	}
	var port int
	for _, b := range st.Bindings {
		if !strings.Contains(b.HostIP, ":") {
			port = b.HostPort
		}
	}
	resolveVia(t, fmt.Sprintf("http://127.0.0.1:%d", port))
	if len(srv.Queries()) == 0 {
		t.Error("the responder saw no query")
	}
}

// TestTaskEndpointDNSHostMode: Docker takes no DNS settings with the
// host's network (SupportsDNS says so); a resolv.conf bind-mounted
// read-only over /etc/resolv.conf (what the agent does) is the
// container's, and the host's file does not change.
func TestTaskEndpointDNSHostMode(t *testing.T) {
	e := newEnv(t)
	if e.d.SupportsDNS("host") || !e.d.SupportsDNS("bridge") || !e.d.SupportsDNS(driver.NetworkAWSVPC) {
		t.Error("SupportsDNS: want bridge and awsvpc, not host")
	}
	hostBefore, _ := os.ReadFile("/etc/resolv.conf")
	dnstest.ListenTaskEndpoint(t)
	file := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(file, driver.ResolvConf([]string{taskendpoint.IP}, nil, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	spec := e.spec("--listen", fmt.Sprintf("127.0.0.1:%d", port))
	spec.NetworkMode = "host"
	spec.Mounts = []driver.Mount{{Source: file, Target: "/etc/resolv.conf", ReadOnly: true}}
	h, _ := e.run(spec)
	if ns, ok := onlyNameserver(e.resolvConfOf(h)); !ok || ns != taskendpoint.IP {
		t.Fatalf("resolv.conf nameservers %s", ns)
	}
	resolveVia(t, fmt.Sprintf("http://127.0.0.1:%d", port))
	if after, _ := os.ReadFile("/etc/resolv.conf"); string(after) != string(hostBefore) {
		t.Errorf("the host's resolv.conf changed: %q, was %q", after, hostBefore)
	}
}

// TestTaskEndpointDNSSandbox: a sandbox with the task endpoint as its
// nameserver gives it to its containers (their lookups are tested with a
// task network, in internal/tasknet and internal/agent).
func TestTaskEndpointDNSSandbox(t *testing.T) {
	e := newEnv(t)
	sb := e.sandbox(driver.SandboxSpec{DNSServers: []string{taskendpoint.IP}})
	h, _ := e.run(e.inSandbox(sb))
	if ns, ok := onlyNameserver(e.resolvConfOf(h)); !ok || ns != taskendpoint.IP {
		t.Fatalf("resolv.conf nameservers %s", ns)
	}
}

// TestTaskEndpointDNSSandboxQuery: a container of a sandbox with the task
// endpoint as nameserver resolves through the responder on its host's
// 169.254.170.2:53, across a task network (a stand-in host namespace).
func TestTaskEndpointDNSSandboxQuery(t *testing.T) {
	e := newEnv(t)
	if os.Geteuid() != 0 {
		if os.Getenv(dockertest.EnvRequire) == "1" {
			t.Fatalf("a task network needs root (%s=1)", dockertest.EnvRequire)
		}
		t.Skip("a task network needs root")
	}
	th := taskhost.New(t, "10.200.8.0/24")
	sb := e.sandbox(driver.SandboxSpec{DNSServers: []string{taskendpoint.IP}})
	th.Attach("docker-dnsq", sb.NetNSPath, "10.200.8.2")
	h, _ := e.run(e.inSandbox(sb))
	e.waitListening(h)
	target := "http://127.0.0.1:8080/resolve?type=A&name=" + url.QueryEscape(dnstest.ProbeName)
	if code := e.health(sb, target); code != 0 {
		t.Fatalf("GET /resolve in the sandbox: health exit %d; the responder saw %v", code, th.Server.Queries())
	}
}
