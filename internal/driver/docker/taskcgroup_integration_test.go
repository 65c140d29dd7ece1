package docker_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/e2e/testimage"
	"berth.dev/berth/internal/selfimage"
	"github.com/moby/moby/client"
)

// memhog makes an image FROM scratch running testdata/memhog (built
// static for the host), removed when the test ends, after its containers.
func (e *env) memhog() string {
	e.t.Helper()
	bin := filepath.Join(e.t.TempDir(), "memhog")
	cmd := exec.CommandContext(e.ctx, "go", "build", "-trimpath", "-o", bin, "./testdata/memhog")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("go build memhog: %v: %s", err, out)
	}
	tag := "berth-memhog:test-" + randomHex(4)
	e.t.Cleanup(func() {
		if err := testimage.Remove(context.Background(), tag); err != nil {
			e.t.Errorf("remove the memhog image: %v", err)
		}
	})
	_, err := selfimage.Ensure(e.ctx, e.cli, selfimage.Image{
		Tag: tag, Exe: bin, What: "memhog image", EntryPoint: []string{selfimage.BinaryInImage},
		LabelSHA256: "berth.memhog.sha256", Message: "berth docker driver tests' memory hog",
	}, io.Discard)
	if err != nil {
		e.t.Fatal(err)
	}
	return tag
}

// taskLimitsEnv is newEnv for a test of task limits: it skips when the
// engine's cgroups are not ones berth enforces task limits in.
func taskLimitsEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	if ok, reason := e.d.TaskLimits(); !ok {
		t.Skipf("task limits are not enforced with this engine, so there is nothing to test: %s", reason)
	}
	return e
}

// task returns limits for a new task whose cgroup is removed when the
// test ends, after its containers (cleanups run last first), even when
// the test fails.
func (e *env) task(cpu, memMiB int64) *driver.TaskLimits {
	e.t.Helper()
	id := "test-" + randomHex(8)
	e.t.Cleanup(func() {
		if err := e.d.RemoveTaskCgroup(context.Background(), id); err != nil {
			e.t.Errorf("remove task cgroup: %v", err)
		}
		if left := taskCgroupDirs(id); len(left) > 0 {
			e.t.Errorf("task cgroup left after RemoveTaskCgroup: %q", left)
		}
	})
	return &driver.TaskLimits{TaskID: id, CPUUnits: cpu, MemoryMiB: memMiB}
}

// taskCgroupDirs are task id's cgroup directories, in any hierarchy.
func taskCgroupDirs(id string) []string {
	rel := filepath.Join(docker.TaskCgroupParent, "task-"+id)
	v1, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/*", rel))
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", rel)); err == nil {
		v1 = append(v1, filepath.Join("/sys/fs/cgroup", rel))
	}
	return v1
}

// containerCgroup returns the cgroup directory of a running container's
// main process in the hierarchy of controller (v1), or its cgroup v2
// directory.
func (e *env) containerCgroup(h driver.Handle, controller string) string {
	e.t.Helper()
	res, err := e.cli.ContainerInspect(e.ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil || res.Container.State.Pid == 0 {
		e.t.Fatalf("inspect %s: %v (not running?)", h.ID, err)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", res.Container.State.Pid))
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	v2 := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = filepath.Join("/sys/fs/cgroup", parts[2])
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return filepath.Join("/sys/fs/cgroup", controller, parts[2])
			}
		}
	}
	if v2 == "" {
		e.t.Fatalf("container %s has no %s cgroup", h.ID, controller)
	}
	return v2
}

func readCgroupFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestTaskMemoryLimit: a task of 64 MiB whose container may use 256 MiB
// on its own is OOM-killed when it takes 100 MiB; one that takes 16 MiB
// runs in the task's cgroup.
func TestTaskMemoryLimit(t *testing.T) {
	t.Parallel()
	e := taskLimitsEnv(t)
	img := e.memhog()
	task := e.task(0, 64)

	spec := e.spec("16")
	spec.Image, spec.MemoryMiB, spec.Task = img, 256, task
	small, _ := e.run(spec)
	s, err := e.d.Logs(e.ctx, small, true)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Next()
	s.Close()
	if err != nil || string(l.Text) != "allocated 16 MiB" {
		t.Fatalf("under the task's limit: %q, %v", l.Text, err)
	}
	cg := e.containerCgroup(small, "memory")
	if filepath.Base(filepath.Dir(cg)) != "task-"+task.TaskID {
		t.Fatalf("container cgroup %s is not in the task's", cg)
	}
	if v2 := filepath.Join(filepath.Dir(cg), "memory.max"); fileExists(v2) {
		if got := readCgroupFile(t, v2); got != "67108864" {
			t.Errorf("task memory.max %s", got)
		}
	} else if got := readCgroupFile(t, filepath.Join(filepath.Dir(cg), "memory.limit_in_bytes")); got != "67108864" {
		t.Errorf("task memory.limit_in_bytes %s", got)
	}

	spec = e.spec("100")
	spec.Image, spec.MemoryMiB, spec.Task = img, 256, task
	big, _ := e.run(spec)
	st := e.wait(big)
	if st.ExitCode != 137 || !st.OOMKilled {
		t.Fatalf("over the task's limit: %+v, want OOM-killed with exit code 137", st)
	}
	if err := e.d.RemoveTaskCgroup(e.ctx, task.TaskID); err == nil {
		t.Error("RemoveTaskCgroup succeeded with a container of the task running")
	}
	if err := e.d.Stop(e.ctx, small, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// memhog exits 0 on SIGTERM: it survived its sibling's OOM kill. (On
	// cgroup v1 the engine reports it OOMKilled all the same: the kernel's
	// OOM notification reaches every cgroup below the task's.)
	if st := e.wait(small); st.ExitCode != 0 {
		t.Errorf("under the task's limit: %+v, want exit code 0", st)
	}

	// The task's cgroup goes once its containers are removed.
	for _, h := range []driver.Handle{small, big} {
		if err := e.d.Remove(e.ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.d.RemoveTaskCgroup(e.ctx, task.TaskID); err != nil {
		t.Fatal(err)
	}
	if left := taskCgroupDirs(task.TaskID); len(left) > 0 {
		t.Fatalf("left after RemoveTaskCgroup: %q", left)
	}
	if err := e.d.RemoveTaskCgroup(e.ctx, task.TaskID); err != nil {
		t.Fatalf("second RemoveTaskCgroup: %v", err)
	}
}

// TestTaskCPULimit: a task of 512 cpu units gets a CFS quota of half a CPU
// above its containers' cgroups, which a second container shares.
func TestTaskCPULimit(t *testing.T) {
	t.Parallel()
	e := taskLimitsEnv(t)
	task := e.task(512, 0)
	var cgs []string
	for range 2 {
		spec := e.spec()
		spec.Task = task
		h, _ := e.run(spec)
		cgs = append(cgs, filepath.Dir(e.containerCgroup(h, "cpu")))
	}
	if cgs[0] != cgs[1] || filepath.Base(cgs[0]) != "task-"+task.TaskID {
		t.Fatalf("containers' parent cgroups %q, want both the task's", cgs)
	}
	if v2 := filepath.Join(cgs[0], "cpu.max"); fileExists(v2) {
		if got := readCgroupFile(t, v2); got != "50000 100000" {
			t.Fatalf("task cpu.max %q", got)
		}
		return
	}
	quota := readCgroupFile(t, filepath.Join(cgs[0], "cpu.cfs_quota_us"))
	period := readCgroupFile(t, filepath.Join(cgs[0], "cpu.cfs_period_us"))
	if quota != "50000" || period != "100000" {
		t.Fatalf("task quota %s/%s, want 50000/100000", quota, period)
	}
}

// TestNoTaskLimits: a container without Spec.Task stays out of task
// cgroups.
func TestNoTaskLimits(t *testing.T) {
	t.Parallel()
	e := taskLimitsEnv(t)
	h, _ := e.run(e.spec())
	if cg := e.containerCgroup(h, "memory"); strings.Contains(cg, "/"+docker.TaskCgroupParent+"/") {
		t.Fatalf("container without task limits in %s", cg)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
