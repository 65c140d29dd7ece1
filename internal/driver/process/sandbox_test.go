//go:build linux

package process

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"golang.org/x/sys/unix"
)

// requireRoot skips a test that needs root (namespaces, mounts), or fails
// it where the environment requires the runtimes' full tests
// (BERTH_REQUIRE_DOCKER=1, as CI sets).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(dockertest.EnvRequire) == "1" {
		t.Fatalf("sandboxes need root (%s=1)", dockertest.EnvRequire)
	}
	t.Skip("sandboxes need root")
}

// sandboxDriver is newDriver for tests of sandboxes: whatever is still
// mounted in its state directory once they are removed (a bug) is
// unmounted, so the directory can be deleted, and reported.
func sandboxDriver(t *testing.T, opts Options) *Driver {
	t.Helper()
	d := newDriver(t, opts)
	t.Cleanup(func() {
		for _, m := range slices.Backward(mountsUnder(t, d.netnsDir())) {
			if err := unix.Unmount(m, unix.MNT_DETACH); err == nil {
				t.Errorf("cleanup: %s was still mounted", m)
			}
		}
	})
	return d
}

// newSandbox creates a sandbox removed when the test ends, even when it
// fails (before the state directory is).
func newSandbox(t *testing.T, d *Driver, name string) driver.Sandbox {
	t.Helper()
	sb, err := d.CreateSandbox(ctxT(t), driver.SandboxSpec{Name: name, Labels: map[string]string{driver.LabelTaskARN: "arn:aws:ecs:local:0:task/test/" + name}})
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := d.RemoveSandbox(ctxT(t), sb.ID); err != nil {
			t.Errorf("cleanup: remove sandbox %s: %v", sb.ID, err)
		}
	})
	return sb
}

// inSandbox is a spec of testworkload args in sandbox sb.
func inSandbox(sb driver.Sandbox, args ...string) driver.Spec {
	return driver.Spec{EntryPoint: append([]string{workloadBin}, args...), NetworkMode: driver.NetworkAWSVPC, Sandbox: sb.ID}
}

// waitLine follows a running container's output until a line has prefix,
// and returns it.
func waitLine(t *testing.T, d *Driver, h driver.Handle, prefix string) string {
	t.Helper()
	ls, err := d.Logs(ctxT(t), h, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	for {
		l, err := ls.Next()
		if err != nil {
			t.Fatalf("no line %q in the output of %s: %v", prefix, h.ID, err)
		}
		if strings.HasPrefix(string(l.Text), prefix) {
			return string(l.Text)
		}
	}
}

// run runs spec to its end and returns its exit code and stdout.
func run(t *testing.T, d *Driver, spec driver.Spec) (int, []string) {
	t.Helper()
	h, _ := mustStart(t, d, spec)
	st := mustWait(t, d, h)
	return st.ExitCode, texts(readLogs(t, d, h, false), "stdout")
}

func netnsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestSandboxHasOnlyLoopback: a container in a sandbox, started directly
// or through the trampoline (ulimits), sees lo and nothing else, in a
// namespace that is not the host's.
func TestSandboxHasOnlyLoopback(t *testing.T) {
	requireRoot(t)
	d := sandboxDriver(t, Options{})
	sb := newSandbox(t, d, "lo-only")
	if !isNetNS(sb.NetNSPath) || netnsInode(t, sb.NetNSPath) == netnsInode(t, "/proc/self/ns/net") {
		t.Fatalf("%s is not a namespace of its own", sb.NetNSPath)
	}
	if sb.Labels[driver.LabelSandbox] != "true" || sb.Labels[driver.LabelManaged] != "true" || sb.Labels[driver.LabelTaskARN] == "" {
		t.Errorf("labels %v", sb.Labels)
	}
	direct := inSandbox(sb, "ifaces")
	tramp := inSandbox(sb, "ifaces")
	tramp.Ulimits = []driver.Ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}}
	for name, spec := range map[string]driver.Spec{"direct": direct, "trampoline": tramp} {
		code, out := run(t, d, spec)
		if code != 0 || !slices.Equal(out, []string{"lo"}) {
			t.Errorf("%s: exit %d, interfaces %q; want only lo", name, code, out)
		}
	}
	code, out := run(t, d, driver.Spec{EntryPoint: []string{workloadBin, "ifaces"}})
	if code != 0 || !slices.Contains(out, "lo") {
		t.Errorf("host container: exit %d, interfaces %q", code, out)
	}
}

// TestSandboxLocalhost: two containers of one sandbox talk over
// 127.0.0.1, and Exec runs in the sandbox too; a container of another
// sandbox does not reach them.
func TestSandboxLocalhost(t *testing.T) {
	requireRoot(t)
	host := netnsInode(t, "/proc/self/ns/net")
	d := sandboxDriver(t, Options{})
	sb := newSandbox(t, d, "task-a")
	other := newSandbox(t, d, "task-b")
	server, _ := mustStart(t, d, inSandbox(sb, "listen", "127.0.0.1:8080"))
	waitLine(t, d, server, "listening on 127.0.0.1:8080")

	code, out := run(t, d, inSandbox(sb, "dial", "127.0.0.1:8080"))
	if code != 0 || len(out) != 1 || !strings.HasPrefix(out[0], "hello from ") {
		t.Errorf("dial from the same sandbox: exit %d, %q", code, out)
	}
	res, err := d.Exec(ctxT(t), server, []string{workloadBin, "dial", "127.0.0.1:8080"}, 0)
	if err != nil || res.ExitCode != 0 || !strings.HasPrefix(string(res.Output), "hello from ") {
		t.Errorf("exec in the sandbox: %+v %v", res, err)
	}
	if code, _ := run(t, d, inSandbox(other, "dial", "127.0.0.1:8080")); code == 0 {
		t.Error("a container of another sandbox reached the server")
	}
	threadsInHostNamespace(t, host)
}

// threadsInHostNamespace checks that no thread of this process was left in
// a sandbox's namespace (which it would keep alive).
func threadsInHostNamespace(t *testing.T, host uint64) {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		var st unix.Stat_t
		if unix.Stat("/proc/self/task/"+task.Name()+"/ns/net", &st) == nil && st.Ino != host {
			t.Errorf("thread %s is in network namespace %d, not the host's (%d)", task.Name(), st.Ino, host)
		}
	}
}

// TestSandboxesShareAPort: two sandboxes each bind 0.0.0.0:8080, and each
// server answers in its own sandbox.
func TestSandboxesShareAPort(t *testing.T) {
	requireRoot(t)
	d := sandboxDriver(t, Options{})
	var servers []driver.Handle
	var sbs []driver.Sandbox
	for _, name := range []string{"one", "two"} {
		sb := newSandbox(t, d, name)
		spec := inSandbox(sb, "listen", "0.0.0.0:8080")
		spec.Ports = []driver.PortMapping{{ContainerPort: 8080, HostPort: 8080}}
		h, st := mustStart(t, d, spec)
		if len(st.Bindings) != 0 {
			t.Errorf("bindings %+v: a sandbox publishes nothing", st.Bindings)
		}
		waitLine(t, d, h, "listening on ")
		servers, sbs = append(servers, h), append(sbs, sb)
	}
	pids := map[string]bool{}
	for i, sb := range sbs {
		code, out := run(t, d, inSandbox(sb, "dial", "127.0.0.1:8080"))
		if code != 0 || len(out) != 1 {
			t.Fatalf("sandbox %d: exit %d, %q", i, code, out)
		}
		pids[out[0]] = true
		if s := snap(t, d, servers[i]); !s.running() {
			t.Errorf("server %d is not running", i)
		}
	}
	if len(pids) != 2 {
		t.Errorf("both dials reached one server: %v", pids)
	}
}

// TestSandboxAdoptedAndRemoved: a new driver on the state directory finds
// the sandbox; RemoveSandbox leaves no mount and no file, and is
// idempotent.
func TestSandboxAdoptedAndRemoved(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	d := sandboxDriver(t, Options{StateDir: state})
	sb := newSandbox(t, d, "adopted")

	d2 := sandboxDriver(t, Options{StateDir: state})
	list, err := d2.ListSandboxes(ctxT(t))
	if err != nil || len(list) != 1 || list[0].ID != sb.ID || list[0].NetNSPath != sb.NetNSPath || list[0].Name != "adopted" ||
		list[0].Labels[driver.LabelTaskARN] != sb.Labels[driver.LabelTaskARN] {
		t.Fatalf("new driver lists %+v, %v; want %+v", list, err, sb)
	}
	if _, err := d2.CreateSandbox(ctxT(t), driver.SandboxSpec{Name: "adopted"}); !errors.Is(err, driver.ErrCannotCreate) {
		t.Errorf("a second sandbox of one name: %v", err)
	}
	code, out := run(t, d2, inSandbox(list[0], "ifaces"))
	if code != 0 || !slices.Equal(out, []string{"lo"}) {
		t.Errorf("container in the adopted sandbox: exit %d, %q", code, out)
	}

	for range 2 {
		if err := d2.RemoveSandbox(ctxT(t), sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	if m := mountsUnder(t, state); len(m) > 0 {
		t.Errorf("mounts left: %q", m)
	}
	for _, p := range []string{sb.NetNSPath, filepath.Join(state, dirSandboxes, sb.ID+".json")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	if list, err := d.ListSandboxes(ctxT(t)); err != nil || len(list) != 0 {
		t.Errorf("after remove: %+v %v", list, err)
	}
	if _, err := d.Create(ctxT(t), inSandbox(sb, "ifaces")); !errors.Is(err, driver.ErrCannotCreate) {
		t.Errorf("create in a removed sandbox: %v", err)
	}
}

func TestSandboxSpecRefused(t *testing.T) {
	requireRoot(t)
	d := sandboxDriver(t, Options{})
	sb := newSandbox(t, d, "refusals")
	for name, spec := range map[string]driver.Spec{
		"unknown sandbox":    inSandbox(driver.Sandbox{ID: strings.Repeat("0", 32)}, "ifaces"),
		"bridge and sandbox": func() driver.Spec { s := inSandbox(sb, "ifaces"); s.NetworkMode = "bridge"; return s }(),
		"awsvpc, no sandbox": func() driver.Spec { s := inSandbox(sb, "ifaces"); s.Sandbox = ""; return s }(),
		"published port": func() driver.Spec {
			s := inSandbox(sb, "ifaces")
			s.Ports = []driver.PortMapping{{ContainerPort: 8080, HostPort: 80}}
			return s
		}(),
	} {
		if _, err := d.Create(ctxT(t), spec); !errors.Is(err, driver.ErrCannotCreate) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// mountsUnder lists the mount points at or below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	return out
}

// envHelperSandboxState makes TestHelperSandboxAgent act as an agent on
// that state dir.
const envHelperSandboxState = "BERTH_PROCESS_TEST_SANDBOX_STATE"

// TestHelperSandboxAgent is the agent process of TestSandboxOutlivesAgent:
// it creates a sandbox, prints its ID and exits.
func TestHelperSandboxAgent(t *testing.T) {
	stateDir := os.Getenv(envHelperSandboxState)
	if stateDir == "" {
		t.Skip("helper process for TestSandboxOutlivesAgent")
	}
	d, err := New(Options{StateDir: stateDir, ShimPath: shimBin})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := d.CreateSandbox(ctxT(t), driver.SandboxSpec{Name: "outlives", Labels: map[string]string{driver.LabelTaskARN: "arn:t"}})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ID " + sb.ID + "\n")
}

// TestSandboxOutlivesAgent: a sandbox an agent process created is there,
// usable, after that process exited.
func TestSandboxOutlivesAgent(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	d := sandboxDriver(t, Options{StateDir: state})
	agent := exec.Command(os.Args[0], "-test.run=^TestHelperSandboxAgent$", "-test.count=1")
	agent.Env = append(os.Environ(), envHelperSandboxState+"="+state, envHelperBin+"="+filepath.Dir(shimBin))
	agent.Stderr = os.Stderr
	out, err := agent.Output()
	t.Cleanup(func() { // whatever the helper made
		list, _ := d.ListSandboxes(context.Background())
		for _, sb := range list {
			d.RemoveSandbox(context.Background(), sb.ID)
		}
	})
	if err != nil {
		t.Fatalf("helper agent: %v: %s", err, out)
	}
	var id string
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "ID "); ok {
			id = rest
		}
	}
	list, err := d.ListSandboxes(ctxT(t))
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Labels[driver.LabelTaskARN] != "arn:t" {
		t.Fatalf("after the agent exited: %+v %v; want sandbox %q", list, err, id)
	}
	code, ifaces := run(t, d, inSandbox(list[0], "ifaces"))
	if code != 0 || !slices.Equal(ifaces, []string{"lo"}) {
		t.Errorf("container in the sandbox: exit %d, %q", code, ifaces)
	}
}

// TestSandboxWithoutNamespaceIsDropped: a sandbox whose namespace is no
// longer mounted (as after a reboot) is not listed, and its files go.
func TestSandboxWithoutNamespaceIsDropped(t *testing.T) {
	requireRoot(t)
	d := sandboxDriver(t, Options{})
	sb := newSandbox(t, d, "rebooted")
	if err := unix.Unmount(sb.NetNSPath, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if list, err := d.ListSandboxes(ctxT(t)); err != nil || len(list) != 0 {
		t.Fatalf("list: %+v %v; want none", list, err)
	}
	for _, p := range []string{sb.NetNSPath, d.sandboxRecPath(sb.ID)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	if _, err := d.Create(ctxT(t), inSandbox(sb, "ifaces")); !errors.Is(err, driver.ErrCannotCreate) {
		t.Errorf("create in the dropped sandbox: %v", err)
	}
}
