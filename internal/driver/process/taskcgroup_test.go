//go:build linux

package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestTaskCgroupPaths(t *testing.T) {
	lim := Limits{Cgroup: "/sys/fs/cgroup/agent", Memory: true, CPU: true}
	c := lim.cgroupFor("0123456789abcdef0123456789abcdef", 128, 0, 256)
	if err := lim.inTask(c, &driver.TaskLimits{TaskID: "t1", CPUUnits: 512, MemoryMiB: 64}); err != nil {
		t.Fatal(err)
	}
	want := taskCgroupConfig{Path: "/sys/fs/cgroup/agent/berth-task-t1", MemoryMax: 64 << 20, CPUQuota: 50000}
	if c.Task == nil || *c.Task != want {
		t.Fatalf("task cgroup %+v, want %+v", c.Task, want)
	}
	if c.Path != "/sys/fs/cgroup/agent/berth-task-t1/berth-0123456789abcdef0123456789abcdef" || c.MemoryMax != 128<<20 {
		t.Fatalf("container cgroup %+v", c)
	}
	// Limits of the controllers the driver has only; 0 is no limit.
	c = Limits{Cgroup: "/cg", Memory: true}.cgroupFor("x", 0, 0, 0)
	Limits{Cgroup: "/cg", Memory: true}.inTask(c, &driver.TaskLimits{TaskID: "t2", CPUUnits: 512})
	if *c.Task != (taskCgroupConfig{Path: "/cg/berth-task-t2"}) {
		t.Fatalf("memory controller only, cpu limit only: %+v", c.Task)
	}
	// Without cgroups, or task limits, nothing; a bad task ID is refused.
	if err := (Limits{}).inTask(nil, &driver.TaskLimits{TaskID: "t3", MemoryMiB: 4}); err != nil {
		t.Fatal(err)
	}
	c = lim.cgroupFor("x", 0, 0, 0)
	if lim.inTask(c, nil); c.Task != nil || c.Path != "/sys/fs/cgroup/agent/berth-x" {
		t.Fatalf("no task limits: %+v", c)
	}
	if err := lim.inTask(c, &driver.TaskLimits{TaskID: "../x"}); err == nil {
		t.Fatal("task ID ../x accepted")
	}
}

func TestTaskCgroupCreateOnFakeTree(t *testing.T) {
	parent := t.TempDir()
	os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("memory cpu\n"), 0o644)
	task := taskCgroupConfig{Path: filepath.Join(parent, "berth-task-t1"), MemoryMax: 64 << 20, CPUQuota: 50000}
	os.Mkdir(task.Path, 0o755)
	for _, f := range []string{"memory.max", "cpu.max", "cgroup.subtree_control"} {
		os.WriteFile(filepath.Join(task.Path, f), nil, 0o644)
	}
	for range 2 { // idempotent
		if err := task.create(); err != nil {
			t.Fatal(err)
		}
	}
	for f, want := range map[string]string{"memory.max": "67108864", "cpu.max": "50000 100000", "cgroup.subtree_control": "+cpu"} {
		if got, _ := os.ReadFile(filepath.Join(task.Path, f)); string(got) != want {
			t.Errorf("%s: %q, want %q", f, got, want)
		}
	}
	task.MemoryMax, task.CPUQuota = 0, 0
	task.create()
	for f, want := range map[string]string{"memory.max": "max", "cpu.max": "max 100000"} {
		if got, _ := os.ReadFile(filepath.Join(task.Path, f)); string(got) != want {
			t.Errorf("no limits: %s: %q, want %q", f, got, want)
		}
	}
}

func TestTaskLimitsReported(t *testing.T) {
	for _, c := range []struct {
		lim  Limits
		want bool
	}{
		{Limits{Reason: "cgroup v2 is not mounted"}, false},
		{Limits{Cgroup: "/cg", Memory: true, Reason: "no cpu"}, false},
		{Limits{Cgroup: "/cg", Memory: true, CPU: true}, true},
	} {
		d := &Driver{limits: c.lim}
		if ok, reason := d.TaskLimits(); ok != c.want || !ok && reason == "" {
			t.Errorf("%+v: enforced %v (%q), want %v with a reason", c.lim, ok, reason, c.want)
		}
	}
}

// removeTaskAtEnd removes the task's cgroup when the test ends, after the
// driver newDriver makes next has removed its containers.
func removeTaskAtEnd(t *testing.T, d **Driver, id string) {
	t.Cleanup(func() {
		if *d == nil {
			return
		}
		if err := (*d).RemoveTaskCgroup(context.Background(), id); err != nil {
			t.Errorf("task cgroup left: %v", err)
		}
	})
}

// TestTaskCgroupNesting runs a task's containers in its cgroup on a
// cgroup v2 hierarchy without controllers (a hybrid host's unified one
// will do): no limits, but the nesting and removal are the real ones.
func TestTaskCgroupNesting(t *testing.T) {
	parent := cgroup2Child(t)
	var d *Driver
	id := "test-" + token()
	removeTaskAtEnd(t, &d, id)
	d = newDriver(t, Options{})
	d.limits = Limits{Cgroup: parent} // the cgroup only: no controllers needed
	task := &driver.TaskLimits{TaskID: id, CPUUnits: 512, MemoryMiB: 64}
	var hs []driver.Handle
	for range 2 {
		spec := sh("echo started; sleep 1000")
		spec.Task = task
		h, _ := mustStart(t, d, spec)
		hs = append(hs, h)
		s := snap(t, d, h)
		own, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", s.work.Pid))
		want := "/" + filepath.Base(parent) + "/berth-task-" + id + "/berth-" + h.ID + "\n"
		if err != nil || !strings.Contains(string(own), want) {
			t.Fatalf("workload %d in %q (%v), want a cgroup ending %q", s.work.Pid, own, err, want)
		}
	}
	if err := d.RemoveTaskCgroup(ctxT(t), id); err == nil {
		t.Fatal("RemoveTaskCgroup succeeded with the task's containers running")
	}
	for _, h := range hs {
		if err := d.Stop(ctxT(t), h, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		mustWait(t, d, h)
		if err := d.Remove(ctxT(t), h); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // idempotent
		if err := d.RemoveTaskCgroup(ctxT(t), id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "berth-task-"+id)); !os.IsNotExist(err) {
		t.Fatalf("task cgroup left: %v", err)
	}
}

// TestTaskMemoryAndCPULimits needs cgroup v2 with the memory and cpu
// controllers: a task of 64 MiB whose container has no limit of its own
// is OOM-killed at 256 MiB, and 512 cpu units are a quota of half a CPU.
func TestTaskMemoryAndCPULimits(t *testing.T) {
	var d *Driver
	id := "test-" + token()
	removeTaskAtEnd(t, &d, id)
	d = newDriver(t, Options{})
	if ok, reason := d.TaskLimits(); !ok {
		t.Skipf("task limits are not enforced on this host (cgroup v2 with the memory and cpu controllers needed), so there is nothing to test: %s", reason)
	}
	task := &driver.TaskLimits{TaskID: id, CPUUnits: 512, MemoryMiB: 64}
	h, _ := mustStart(t, d, driver.Spec{Command: []string{workloadBin, "alloc", "8"}, Task: task})
	eventually(t, "allocation", func() bool { return len(readLogs(t, d, h, false)) > 0 })
	dir := filepath.Join(d.limits.Cgroup, "berth-task-"+id)
	for f, want := range map[string]string{"memory.max": "67108864", "cpu.max": "50000 100000"} {
		if got, err := os.ReadFile(filepath.Join(dir, f)); err != nil || strings.TrimSpace(string(got)) != want {
			t.Errorf("task %s: %q %v, want %q", f, got, err, want)
		}
	}
	big, _ := mustStart(t, d, driver.Spec{Command: []string{workloadBin, "alloc", "256"}, Task: task})
	if st := mustWait(t, d, big); !st.OOMKilled || st.ExitCode != 137 {
		t.Fatalf("over the task's limit: %+v, want OOMKilled with exit code 137", st)
	}
	if err := d.Stop(ctxT(t), h, time.Second); err != nil {
		t.Fatal(err)
	}
	if st := mustWait(t, d, h); st.OOMKilled {
		t.Fatalf("its sibling under the limit: %+v", st)
	}
}
