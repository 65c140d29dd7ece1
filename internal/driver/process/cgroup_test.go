//go:build linux

package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestMemoryLimit(t *testing.T) {
	d := newDriver(t, Options{})
	lim := d.Limits()
	if !lim.Memory {
		t.Skipf("memory limits are not enforced on this host, so there is nothing to test: %s", lim.Reason)
	}
	// Over the limit: OOM-killed.
	h, _ := mustStart(t, d, driver.Spec{Command: []string{workloadBin, "alloc", "256"}, MemoryMiB: 64})
	st := mustWait(t, d, h)
	if !st.OOMKilled || st.ExitCode != 137 {
		t.Fatalf("over the limit: %+v, want OOMKilled with exit code 137", st)
	}
	if cg := snap(t, d, h).rec.Cgroup; cg == nil {
		t.Fatal("no cgroup recorded")
	} else if _, err := os.Stat(cg.Path); !os.IsNotExist(err) {
		t.Fatalf("cgroup %s left after exit: %v", cg.Path, err)
	}
	// Under the limit: runs, in its cgroup, with memory.max set.
	h, _ = mustStart(t, d, driver.Spec{Command: []string{workloadBin, "alloc", "8"}, MemoryMiB: 64, CPUShares: 512})
	eventually(t, "allocation", func() bool { return len(readLogs(t, d, h, false)) > 0 })
	cg := snap(t, d, h).rec.Cgroup
	if data, err := os.ReadFile(filepath.Join(cg.Path, "memory.max")); err != nil || strings.TrimSpace(string(data)) != "67108864" {
		t.Fatalf("memory.max %q, %v", data, err)
	}
	work := snap(t, d, h).work
	procs, _ := os.ReadFile(filepath.Join(cg.Path, "cgroup.procs"))
	if !strings.Contains(" "+strings.Join(strings.Fields(string(procs)), " ")+" ", " "+strconv.Itoa(work.Pid)+" ") {
		t.Fatalf("workload %d not in its cgroup: %q", work.Pid, procs)
	}
	if err := d.Stop(ctxT(t), h, time.Second); err != nil {
		t.Fatal(err)
	}
	if st := mustWait(t, d, h); st.OOMKilled {
		t.Fatalf("under the limit: %+v", st)
	}
}

func TestCgroupDetectionWithoutCgroup2(t *testing.T) {
	old := cgroupMount
	cgroupMount = t.TempDir() // not a cgroup2 file system
	defer func() { cgroupMount = old }()
	lim, err := detectCgroups(Options{})
	if err != nil || lim.Memory || lim.CPU || lim.Cgroup != "" || !strings.Contains(lim.Reason, "cgroup v2 is not mounted") {
		t.Fatalf("limits %+v, %v", lim, err)
	}
	if _, err := New(Options{StateDir: t.TempDir(), ShimPath: shimBin, RequireCgroup: true}); err == nil {
		t.Fatal("RequireCgroup accepted a host without cgroup v2")
	}
	lim, _ = detectCgroups(Options{CgroupParent: "none"})
	if lim.Cgroup != "" || !strings.Contains(lim.Reason, "disabled") {
		t.Fatalf("disabled: %+v", lim)
	}
}

func TestEnableControllersOnFakeTree(t *testing.T) {
	parent := t.TempDir()
	os.WriteFile(filepath.Join(parent, "cgroup.controllers"), []byte("cpuset cpu io memory pids\n"), 0o644)
	os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("memory cpu\n"), 0o644)
	lim, err := enableControllers(parent, false)
	if err != nil || !lim.Memory || !lim.CPU || lim.Cgroup != parent || lim.Reason != "" {
		t.Fatalf("limits %+v, %v", lim, err)
	}
	c := lim.cgroupFor("0123456789abcdef0123456789abcdef", 64, 32, 1024)
	want := cgroupConfig{Path: filepath.Join(parent, "berth-0123456789abcdef0123456789abcdef"), MemoryMax: 64 << 20, MemoryLow: 32 << 20, CPUWeight: 39}
	if *c != want {
		t.Fatalf("cgroup %+v, want %+v", *c, want)
	}
	os.WriteFile(filepath.Join(parent, "cgroup.controllers"), []byte("pids\n"), 0o644)
	if lim, _ := enableControllers(parent, false); lim.Memory || lim.Cgroup != "" || lim.Reason == "" {
		t.Fatalf("without controllers: %+v", lim)
	}
	if (Limits{}).cgroupFor("x", 64, 0, 0) != nil {
		t.Fatal("a cgroup without cgroups")
	}
}

func TestOOMKillCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memory.events")
	os.WriteFile(path, []byte("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n"), 0o644)
	if n := oomKillCount(path); n != 1 {
		t.Fatalf("oom_kill %d, want 1", n)
	}
	os.WriteFile(path, []byte("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"), 0o644)
	if n := oomKillCount(path); n != 0 {
		t.Fatalf("oom_kill %d, want 0", n)
	}
	if n := oomKillCount(path + ".missing"); n != 0 {
		t.Fatalf("missing file: %d", n)
	}
}

// cgroup2Child creates an empty child of this process's cgroup v2 cgroup,
// wherever cgroup2 is mounted, or skips. It needs no controllers.
func cgroup2Child(t *testing.T) string {
	t.Helper()
	mounts, _ := os.ReadFile("/proc/self/mounts")
	var mount string
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "cgroup2" {
			mount = f[1]
			break
		}
	}
	own, err := ownCgroup()
	if mount == "" || err != nil {
		t.Skip("no cgroup v2 hierarchy here")
	}
	dir := filepath.Join(mount, own, "berth-test-"+token())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a cgroup here: %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("test cgroup left: %v", err)
		}
	})
	return dir
}

func TestCgroupKillsWhatLeftTheProcessGroup(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid program")
	}
	parent := cgroup2Child(t)
	d := newDriver(t, Options{})
	d.limits = Limits{Cgroup: parent} // the cgroup only: no controllers needed
	tok := token()
	// setsid puts the sleep in a session, and process group, of its own:
	// only the cgroup still holds it when the main process exits.
	h, _ := mustStart(t, d, sh(`setsid sleep `+tok+` & echo started; sleep 1000`))
	eventually(t, "the escaped child", func() bool { return processWithArgs("sleep", tok) })
	s := snap(t, d, h)
	procs, err := os.ReadFile(filepath.Join(s.rec.Cgroup.Path, "cgroup.procs"))
	if err != nil || !strings.Contains("\n"+string(procs), "\n"+strconv.Itoa(s.work.Pid)+"\n") {
		t.Fatalf("workload %d not in %s: %q %v", s.work.Pid, s.rec.Cgroup.Path, procs, err)
	}
	res, err := d.Exec(ctxT(t), h, []string{"cat", "/proc/self/cgroup"}, 5*time.Second)
	if err != nil || !strings.Contains(string(res.Output), "/"+filepath.Base(s.rec.Cgroup.Path)+"\n") {
		t.Fatalf("exec not in the container's cgroup: %q %v", res.Output, err)
	}
	if err := d.Stop(ctxT(t), h, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if st := mustWait(t, d, h); st.ExitCode != 143 {
		t.Fatalf("exit code %d", st.ExitCode)
	}
	eventually(t, "the escaped child to die", func() bool { return !processWithArgs("sleep", tok) })
	if _, err := os.Stat(s.rec.Cgroup.Path); !os.IsNotExist(err) {
		t.Fatalf("container cgroup left: %v", err)
	}
}
