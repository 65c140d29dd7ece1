package docker_test

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/e2e/testimage"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// pauseImage makes the pause image once for the test binary, so that
// parallel tests do not import it side by side.
var pauseImage struct {
	once sync.Once
	err  error
}

// sandbox creates a sandbox with e's driver and removes its pause
// container (forcibly) when the test ends.
func (e *env) sandbox(spec driver.SandboxSpec) driver.Sandbox {
	e.t.Helper()
	pauseImage.once.Do(func() { _, pauseImage.err = e.d.EnsurePauseImage(e.ctx) })
	if pauseImage.err != nil {
		e.t.Fatalf("pause image: %v", pauseImage.err)
	}
	if spec.Name == "" {
		spec.Name = "berth-test-sandbox-" + randomHex(6)
	}
	if spec.Labels == nil {
		spec.Labels = map[string]string{driver.LabelTaskARN: "arn:aws:ecs:local:0:task/test/" + randomHex(4)}
	}
	sb, err := e.d.CreateSandbox(e.ctx, spec)
	if err != nil {
		e.t.Fatalf("create sandbox: %v", err)
	}
	e.removeAtEnd(sb.ID)
	return sb
}

// inSandbox is a container of the test application in sb.
func (e *env) inSandbox(sb driver.Sandbox, args ...string) driver.Spec {
	spec := e.spec(args...)
	spec.NetworkMode, spec.Sandbox = driver.NetworkAWSVPC, sb.ID
	return spec
}

// waitListening follows a container's output until the test application
// says it listens.
func (e *env) waitListening(h driver.Handle) {
	e.t.Helper()
	s, err := e.d.Logs(e.ctx, h, true)
	if err != nil {
		e.t.Fatal(err)
	}
	defer s.Close()
	for {
		l, err := s.Next()
		if err != nil {
			e.t.Fatalf("%s never said it listens: %v", h.Name, err)
		}
		if strings.HasPrefix(string(l.Text), "listening on ") {
			return
		}
	}
}

// health runs the test application's health command against url in sb
// and returns its exit code.
func (e *env) health(sb driver.Sandbox, url string) int {
	e.t.Helper()
	spec := e.inSandbox(sb, "health", url)
	spec.EntryPoint = []string{testimage.BinaryInImage}
	h, _ := e.run(spec)
	return e.wait(h).ExitCode
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestSandboxLocalhost: two containers of one sandbox talk over 127.0.0.1;
// a container of another sandbox does not reach them, and the server has
// no port bindings.
func TestSandboxLocalhost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb, other := e.sandbox(driver.SandboxSpec{}), e.sandbox(driver.SandboxSpec{})
	spec := e.inSandbox(sb, "--listen", "127.0.0.1:8080")
	spec.Ports = []driver.PortMapping{{ContainerPort: 8080}}
	server, st := e.run(spec)
	if len(st.Bindings) != 0 {
		t.Errorf("bindings %+v: a sandbox publishes nothing", st.Bindings)
	}
	e.waitListening(server)
	if code := e.health(sb, "http://127.0.0.1:8080/health"); code != 0 {
		t.Errorf("health over localhost in the sandbox: exit %d", code)
	}
	if code := e.health(other, "http://127.0.0.1:8080/health"); code == 0 {
		t.Error("a container of another sandbox reached the server")
	}
}

// TestSandboxesShareAPort: the servers of two sandboxes both listen on
// 8080, each in its own namespace (read from /proc/PID/net of the pause
// processes: no traffic).
func TestSandboxesShareAPort(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hostNS := inode(t, "/proc/self/ns/net")
	seen := map[uint64]bool{}
	for range 2 {
		sb := e.sandbox(driver.SandboxSpec{})
		if ino := inode(t, sb.NetNSPath); ino == hostNS || seen[ino] {
			t.Fatalf("%s is not a namespace of its own", sb.NetNSPath)
		} else {
			seen[ino] = true
		}
		h, _ := e.run(e.inSandbox(sb, "--listen", ":8080"))
		e.waitListening(h)
		if st, err := e.d.Inspect(e.ctx, h); err != nil || !st.Running {
			t.Fatalf("server: %+v %v", st, err)
		}
		proc := strings.TrimSuffix(sb.NetNSPath, "/ns/net")
		if !listensOn(t, proc, 8080) {
			t.Errorf("no listener on 8080 in %s's namespace", sb.ID)
		}
		if ifaces := interfaces(t, proc); strings.Join(ifaces, ",") != "lo" {
			t.Errorf("interfaces %q in the sandbox, want lo only", ifaces)
		}
	}
}

// listensOn reports whether the namespace of process dir proc has a TCP
// listener on port (/proc/PID/net/tcp and tcp6, state 0A).
func listensOn(t *testing.T, proc string, port int) bool {
	t.Helper()
	suffix := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(proc + "/net/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) > 3 && strings.HasSuffix(fields[1], suffix) && fields[3] == "0A" {
				return true
			}
		}
	}
	return false
}

// interfaces lists the interfaces of process dir proc's namespace.
func interfaces(t *testing.T, proc string) []string {
	t.Helper()
	f, err := os.Open(proc + "/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, _, ok := strings.Cut(sc.Text(), ":"); ok {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out
}

// TestSandboxHostnameAndDNS: the pause container has the sandbox's
// hostname and DNS, no network, no restart policy, and its containers see
// them.
func TestSandboxHostnameAndDNS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.sandbox(driver.SandboxSpec{Hostname: "task-host", DNSServers: []string{"10.0.0.2"}, DNSSearch: []string{"svc.local"}})
	res, err := e.cli.ContainerInspect(e.ctx, sb.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hc := res.Container.HostConfig; hc.NetworkMode != "none" || hc.RestartPolicy.Name != "no" || hc.AutoRemove {
		t.Errorf("pause container: network %q restart %q auto-remove %v", hc.NetworkMode, hc.RestartPolicy.Name, hc.AutoRemove)
	}
	if l := res.Container.Config.Labels; l[driver.LabelSandbox] != "true" || l[driver.LabelManaged] != "true" || l[driver.LabelTaskARN] != sb.Labels[driver.LabelTaskARN] {
		t.Errorf("labels %v", l)
	}
	h, _ := e.run(e.inSandbox(sb))
	app, err := e.cli.ContainerInspect(e.ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root := fmt.Sprintf("/proc/%d/root", app.Container.State.Pid)
	if b, err := os.ReadFile(root + "/etc/hostname"); err != nil || strings.TrimSpace(string(b)) != "task-host" {
		t.Errorf("hostname %q %v", b, err)
	}
	b, err := os.ReadFile(root + "/etc/resolv.conf")
	if err != nil || !strings.Contains(string(b), "nameserver 10.0.0.2") || !strings.Contains(string(b), "search svc.local") {
		t.Errorf("resolv.conf %q %v", b, err)
	}
	if ino := inode(t, fmt.Sprintf("/proc/%d/ns/net", app.Container.State.Pid)); ino != inode(t, sb.NetNSPath) {
		t.Error("the container is not in the sandbox's namespace")
	}
}

// TestSandboxAdopted: a new driver finds the sandbox (and List, which is
// for containers, does not).
func TestSandboxAdopted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.sandbox(driver.SandboxSpec{Labels: map[string]string{"k": "v"}})
	d2 := newDriver(t, e.ctx, t.TempDir())
	list, err := d2.ListSandboxes(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found *driver.Sandbox
	for i := range list {
		if list[i].ID == sb.ID {
			found = &list[i]
		}
	}
	if found == nil || found.NetNSPath != sb.NetNSPath || found.Name != sb.Name || !maps.Equal(found.Labels, sb.Labels) {
		t.Fatalf("new driver lists %+v; want %+v", found, sb)
	}
	want := map[string]string{driver.LabelManaged: "true", driver.LabelSandbox: "true", "k": "v"}
	if !maps.Equal(sb.Labels, want) {
		t.Errorf("labels %v, want %v", sb.Labels, want)
	}
	handles, err := d2.List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range handles {
		if h.ID == sb.ID {
			t.Error("List returned the pause container")
		}
	}
	h, _ := e.run(e.inSandbox(*found, "--exit-code", "0"))
	if st := e.wait(h); st.ExitCode != 0 {
		t.Errorf("container in the adopted sandbox: %+v", st)
	}
}

// TestRemoveSandbox: no container is left, a second remove succeeds, and a
// container that is not a sandbox is refused.
func TestRemoveSandbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.sandbox(driver.SandboxSpec{})
	for range 2 {
		if err := e.d.RemoveSandbox(e.ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.cli.ContainerInspect(e.ctx, sb.ID, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("pause container after remove: %v", err)
	}
	if list, _ := e.d.ListSandboxes(e.ctx); len(list) > 0 {
		for _, s := range list {
			if s.ID == sb.ID {
				t.Error("ListSandboxes still returns it")
			}
		}
	}
	h := e.create(e.spec())
	if err := e.d.RemoveSandbox(e.ctx, h.ID); err == nil {
		t.Error("RemoveSandbox accepted a container that is not a sandbox")
	}
	if _, err := e.d.Inspect(e.ctx, h); err != nil {
		t.Errorf("the container is gone: %v", err)
	}
	if h, err := e.d.Create(e.ctx, e.inSandbox(sb)); err == nil {
		e.removeAtEnd(h.ID)
		t.Error("create in a removed sandbox succeeded")
	} else if !errors.Is(err, driver.ErrCannotCreate) {
		t.Errorf("create in a removed sandbox: %v", err)
	}
}

// TestPauseImageMadeOnce: the pause image runs `berth pause`, and a new
// driver finds it up to date instead of making it again.
func TestPauseImageMadeOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sandbox(driver.SandboxSpec{}) // makes the image
	before, err := e.cli.ImageInspect(e.ctx, pauseTag)
	if err != nil {
		t.Fatal(err)
	}
	if ep := before.Config.Entrypoint; strings.Join(ep, " ") != "/berth pause" || before.Config.Labels[docker.LabelPauseSHA256] == "" {
		t.Errorf("entrypoint %q labels %v", ep, before.Config.Labels)
	}
	tag, err := newDriver(t, e.ctx, t.TempDir()).EnsurePauseImage(e.ctx)
	if err != nil || tag != pauseTag {
		t.Fatalf("EnsurePauseImage = %q, %v", tag, err)
	}
	if after, err := e.cli.ImageInspect(e.ctx, pauseTag); err != nil || after.ID != before.ID {
		t.Errorf("the image was made again: %s -> %s (%v)", before.ID, after.ID, err)
	}
}
