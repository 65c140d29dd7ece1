package docker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/testimage"
	"github.com/moby/moby/client"
)

type echo struct {
	Hostname string            `json:"hostname"`
	Env      map[string]string `json:"env"`
	Args     []string          `json:"args"`
	Cwd      string            `json:"cwd"`
	UID      int               `json:"uid"`
	GID      int               `json:"gid"`
}

func TestPortBindings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	static := freePort(t)
	spec := e.spec()
	spec.Ports = []driver.PortMapping{{ContainerPort: 8080, HostPort: 0}, {ContainerPort: 8080, HostPort: static, Protocol: "tcp"}}
	_, st := e.run(spec)
	// Docker picks the IPv6 side of a dynamic mapping on its own: it may
	// differ from the IPv4 port when that one is taken there. The IPv4
	// bindings are the ones to count.
	ports := map[int]bool{}
	for _, b := range st.Bindings {
		if b.ContainerPort != 8080 || b.Protocol != "tcp" || b.HostPort == 0 || b.HostIP == "" {
			t.Errorf("binding %+v", b)
		}
		if !strings.Contains(b.HostIP, ":") {
			ports[b.HostPort] = true
		}
	}
	if !ports[static] || len(ports) != 2 {
		t.Fatalf("bindings %+v: want the static port %d and one dynamic port", st.Bindings, static)
	}
	for p := range ports {
		if code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/health", p)); code != 200 || body != "ok\n" {
			t.Errorf("port %d: %d %q", p, code, body)
		}
	}
}

func TestHostNetwork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freePort(t)
	spec := e.spec("--listen", fmt.Sprintf("127.0.0.1:%d", port))
	spec.NetworkMode = "host"
	spec.Ports = []driver.PortMapping{{ContainerPort: port, HostPort: port}}
	_, st := e.run(spec)
	if len(st.Bindings) != 1 || st.Bindings[0].HostPort != port || st.Bindings[0].ContainerPort != port {
		t.Errorf("bindings %+v", st.Bindings)
	}
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/health", port)); code != 200 {
		t.Errorf("health over the host network: %d", code)
	}
}

func TestProcessConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := e.spec()
	spec.EntryPoint = []string{testimage.BinaryInImage, "--print", "1"}
	spec.Command = []string{"--listen", ":9090"}
	spec.Env = []string{"GREETING=hello world", "EMPTY="}
	spec.WorkingDir = "/work/dir"
	spec.User = "65534:65534"
	spec.Hostname = "berth-echo"
	spec.Ports = []driver.PortMapping{{ContainerPort: 9090}}
	_, st := e.run(spec)
	if len(st.Bindings) == 0 {
		t.Fatalf("no bindings: %+v", st)
	}
	code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", st.Bindings[0].HostPort))
	var got echo
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("GET /: %d %q %v", code, body, err)
	}
	wantArgs := []string{testimage.BinaryInImage, "--print", "1", "--listen", ":9090"}
	if strings.Join(got.Args, " ") != strings.Join(wantArgs, " ") {
		t.Errorf("args %q, want %q", got.Args, wantArgs)
	}
	if got.Env["GREETING"] != "hello world" || got.Env["HOSTNAME"] != "berth-echo" {
		t.Errorf("env %v", got.Env)
	}
	if _, ok := got.Env["EMPTY"]; !ok {
		t.Errorf("env lacks EMPTY: %v", got.Env)
	}
	if got.Cwd != "/work/dir" || got.UID != 65534 || got.GID != 65534 || got.Hostname != "berth-echo" {
		t.Errorf("cwd %q uid %d gid %d hostname %q", got.Cwd, got.UID, got.GID, got.Hostname)
	}
}

// TestHostConfig checks, by inspecting the container, what the process
// cannot show: limits, labels, capabilities, DNS, devices, tmpfs, shm,
// sysctls, security options.
func TestHostConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := e.spec()
	spec.MemoryMiB = 64
	spec.MemoryReservation = 32
	spec.CPUShares = 1
	spec.Ulimits = []driver.Ulimit{{Name: "nofile", Soft: 1000, Hard: 2000}}
	spec.CapAdd = []string{"NET_ADMIN"}
	spec.CapDrop = []string{"MKNOD"}
	spec.Init = true
	spec.ExtraHosts = []string{"db.internal:10.1.2.3"}
	spec.DNSServers = []string{"10.1.2.53"}
	spec.DNSSearch = []string{"berth.internal"}
	spec.Labels["com.example.team"] = "infra"
	spec.Devices = []driver.Device{{HostPath: "/dev/null", ContainerPath: "/dev/berth-null", Permissions: "rw"}}
	spec.Tmpfs = []driver.Tmpfs{{ContainerPath: "/scratch", SizeMiB: 8, Options: []string{"noexec"}}}
	spec.ShmSizeMiB = 32
	spec.Sysctls = map[string]string{"net.core.somaxconn": "1024"}
	spec.SecurityOpt = []string{"no-new-privileges"}
	h, _ := e.run(spec)
	raw, err := e.cli.ContainerInspect(e.ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := raw.Container
	hc := c.HostConfig
	if hc.Memory != 64<<20 || hc.MemoryReservation != 32<<20 || hc.CPUShares != 2 {
		t.Errorf("memory %d reservation %d shares %d", hc.Memory, hc.MemoryReservation, hc.CPUShares)
	}
	if len(hc.Ulimits) != 1 || hc.Ulimits[0].Name != "nofile" || hc.Ulimits[0].Soft != 1000 || hc.Ulimits[0].Hard != 2000 {
		t.Errorf("ulimits %v", hc.Ulimits)
	}
	if strings.Join(hc.CapAdd, ",") != "CAP_NET_ADMIN" || strings.Join(hc.CapDrop, ",") != "CAP_MKNOD" {
		t.Errorf("caps +%v -%v", hc.CapAdd, hc.CapDrop)
	}
	if hc.Init == nil || !*hc.Init {
		t.Errorf("init %v", hc.Init)
	}
	if strings.Join(hc.ExtraHosts, ",") != "db.internal:10.1.2.3" || len(hc.DNS) != 1 || hc.DNS[0].String() != "10.1.2.53" || strings.Join(hc.DNSSearch, ",") != "berth.internal" {
		t.Errorf("hosts %v dns %v search %v", hc.ExtraHosts, hc.DNS, hc.DNSSearch)
	}
	if len(hc.Devices) != 1 || hc.Devices[0].PathOnHost != "/dev/null" || hc.Devices[0].PathInContainer != "/dev/berth-null" || hc.Devices[0].CgroupPermissions != "rw" {
		t.Errorf("devices %+v", hc.Devices)
	}
	if hc.Tmpfs["/scratch"] != "size=8m,noexec" || hc.ShmSize != 32<<20 || hc.Sysctls["net.core.somaxconn"] != "1024" || strings.Join(hc.SecurityOpt, ",") != "no-new-privileges" {
		t.Errorf("tmpfs %v shm %d sysctls %v security %v", hc.Tmpfs, hc.ShmSize, hc.Sysctls, hc.SecurityOpt)
	}
	for k, v := range spec.Labels {
		if c.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Config.Labels[k], v)
		}
	}
	if c.Config.Labels[driver.LabelManaged] != "true" || h.Labels[driver.LabelManaged] != "true" {
		t.Errorf("labels %v, handle %v", c.Config.Labels, h.Labels)
	}
	// The memory limit reaches the cgroup: the process still runs under it.
	if st, err := e.d.Inspect(e.ctx, h); err != nil || !st.Running {
		t.Errorf("%+v %v", st, err)
	}
}

func TestReadonlyRootfs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rw := e.spec("--touch", "/tmp/probe", "--exit-code", "0")
	h, _ := e.run(rw)
	if st := e.wait(h); st.ExitCode != 0 {
		t.Errorf("writable rootfs: exit %d; logs:\n%s", st.ExitCode, readLogs(t, e, h, false))
	}
	ro := e.spec("--touch", "/tmp/probe", "--exit-code", "0")
	ro.ReadonlyRootfs = true
	h, _ = e.run(ro)
	if st := e.wait(h); st.ExitCode != 1 {
		t.Errorf("read-only rootfs: exit %d, want 1", st.ExitCode)
	}
	if logs := readLogs(t, e, h, false); !strings.Contains(logs, "read-only file system") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestBindMount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	user := fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()) // files t.TempDir can remove
	spec := e.spec("--touch", "/data/out.txt", "--exit-code", "0")
	spec.Mounts = []driver.Mount{{Source: dir, Target: "/data"}}
	spec.User = user
	h, _ := e.run(spec)
	if st := e.wait(h); st.ExitCode != 0 {
		t.Fatalf("exit %d; logs:\n%s", st.ExitCode, readLogs(t, e, h, false))
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	if err != nil || !strings.HasPrefix(string(b), "berth-testapp pid") {
		t.Errorf("file on the host: %q %v", b, err)
	}

	ro := e.spec("--touch", "/data/ro.txt", "--exit-code", "0")
	ro.Mounts = []driver.Mount{{Source: dir, Target: "/data", ReadOnly: true}}
	ro.User = user
	h, _ = e.run(ro)
	if st := e.wait(h); st.ExitCode != 1 {
		t.Errorf("write to a read-only bind: exit %d, want 1", st.ExitCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "ro.txt")); err == nil {
		t.Error("a read-only bind was written")
	}
}

func TestExecHealthCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := e.spec()
	spec.Ports = []driver.PortMapping{{ContainerPort: testimage.Port}}
	h, st := e.run(spec)
	url := fmt.Sprintf("http://127.0.0.1:%d", st.Bindings[0].HostPort)
	get(t, url+"/health")
	check := []string{testimage.BinaryInImage, "health", "http://127.0.0.1:8080/health"}
	res, err := e.d.Exec(e.ctx, h, check, 10*time.Second)
	if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Output), "healthy: 200") {
		t.Fatalf("healthy check: %+v (%q) %v", res, res.Output, err)
	}
	if resp, err := http.Get(url + "/fail"); err == nil {
		resp.Body.Close()
	} else {
		t.Fatal(err)
	}
	res, err = e.d.Exec(e.ctx, h, check, 10*time.Second)
	if err != nil || res.ExitCode != 1 || !strings.Contains(string(res.Output), "unhealthy: 500") {
		t.Fatalf("unhealthy check: %+v (%q) %v", res, res.Output, err)
	}
	// A command that outlives its timeout is a deadline error, not an exit code.
	_, err = e.d.Exec(e.ctx, h, []string{testimage.BinaryInImage, "--listen", "127.0.0.1:0"}, time.Second)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("exec past its timeout: got %v, want a deadline error", err)
	}
	// A missing command is an error or a non-zero exit, never healthy.
	if res, err := e.d.Exec(e.ctx, h, []string{"/no/such/command"}, 5*time.Second); err == nil && res.ExitCode == 0 {
		t.Errorf("missing command: %+v", res)
	}
}
