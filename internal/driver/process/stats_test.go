//go:build linux

package process

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

// stats reads a container's statistics through the driver.
func stats(t *testing.T, d *Driver, id string) driver.Stats {
	t.Helper()
	raw, err := d.ContainerStats(ctxT(t), id)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	var st driver.Stats
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("stats %s: %v", raw, err)
	}
	return st
}

// busy burns CPU, then sleeps.
const busy = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo busy; exec sleep 60"

// awaitUsage polls a container's statistics until it shows CPU time and
// memory.
func awaitUsage(t *testing.T, d *Driver, id string) driver.Stats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := stats(t, d, id)
		if st.CPUStats.CPUUsage.TotalUsage > 0 && st.MemoryStats.Usage > 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usage: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestContainerStats(t *testing.T) {
	d := newDriver(t, Options{})
	spec := sh(busy)
	spec.Name, spec.MemoryMiB, spec.Image = "stats", 256, "app@sha256:"+strings.Repeat("ab", 32)
	h, st := mustStart(t, d, spec)
	if st.CreatedAt.IsZero() || st.CreatedAt.After(st.StartedAt) || st.ImageID != "sha256:"+strings.Repeat("ab", 32) {
		t.Fatalf("status: created %v started %v image %q", st.CreatedAt, st.StartedAt, st.ImageID)
	}
	first := awaitUsage(t, d, h.ID)
	if first.ID != h.ID || first.Name != "/stats" || first.Read.IsZero() || first.PidsStats.Current == 0 ||
		first.CPUStats.SystemUsage == 0 || first.CPUStats.OnlineCPUs == 0 || first.Networks != nil {
		t.Fatalf("stats: %+v", first)
	}
	if d.Limits().Memory {
		if first.MemoryStats.Limit != 256<<20 || first.MemoryStats.Stats["anon"] == 0 {
			t.Fatalf("cgroup memory: %+v", first.MemoryStats)
		}
	} else if first.MemoryStats.Limit != 256<<20 {
		t.Fatalf("memory limit %d, want the container's", first.MemoryStats.Limit)
	}
	second := stats(t, d, h.ID)
	if !second.PreRead.Equal(first.Read) || second.PreCPUStats.CPUUsage.TotalUsage != first.CPUStats.CPUUsage.TotalUsage {
		t.Fatalf("previous sample not carried: %+v", second)
	}
	if err := d.Stop(ctxT(t), h, time.Second); err != nil {
		t.Fatal(err)
	}
	mustWait(t, d, h)
	if st := stats(t, d, h.ID); !st.Read.IsZero() || st.CPUStats.CPUUsage.TotalUsage != 0 || st.Name != "/stats" {
		t.Fatalf("stopped container's stats: %+v", st)
	}
	if err := d.Remove(ctxT(t), h); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ContainerStats(ctxT(t), h.ID); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("removed container: %v", err)
	}
	if st, err := d.Inspect(ctxT(t), mustCreate(t, d, sh("true"))); err != nil || st.ImageID != "" || st.CreatedAt.IsZero() {
		t.Fatalf("no digest: %+v, %v", st, err)
	}
}

// TestContainerStatsInSandbox: a container in a sandbox reports the
// sandbox's interfaces, loopback excluded.
func TestContainerStatsInSandbox(t *testing.T) {
	requireRoot(t)
	d := sandboxDriver(t, Options{})
	sb := newSandbox(t, d, "stats")
	if out, err := exec.Command("nsenter", "--net="+sb.NetNSPath, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1").CombinedOutput(); err != nil {
		t.Fatalf("add an interface to the sandbox: %v: %s", err, out)
	}
	spec := sh(busy)
	spec.NetworkMode, spec.Sandbox = driver.NetworkAWSVPC, sb.ID
	h, _ := mustStart(t, d, spec)
	st := awaitUsage(t, d, h.ID)
	if _, ok := st.Networks["eth0"]; !ok || len(st.Networks) != 2 {
		t.Fatalf("networks %+v, want eth0 and eth1", st.Networks)
	}
	if _, ok := st.Networks["lo"]; ok {
		t.Fatal("loopback reported")
	}
	if st := stats(t, d, h.ID); st.NetworkRate == nil {
		t.Fatalf("no network rate in the second sample: %+v", st)
	}
}

// TestCgroupSample reads cgroup v2 files from a directory made to look
// like one.
func TestCgroupSample(t *testing.T) {
	dir := t.TempDir()
	task := filepath.Join(dir, "task")
	cg := filepath.Join(task, "c")
	if err := os.MkdirAll(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string]string{
		"task/c/cpu.stat":       "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 30\n",
		"task/c/memory.current": "1048576\n",
		"task/c/memory.peak":    "2097152\n",
		"task/c/memory.max":     "max\n",
		"task/memory.max":       "536870912\n",
		"task/c/memory.stat":    "anon 4096\nfile 8192\ninactive_file 100\n",
		"task/c/cgroup.threads": "10\n11\n12\n",
		"task/c/io.stat":        "8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var st driver.Stats
	if !cgroupSample(&cgroupConfig{Path: cg, Task: &taskCgroupConfig{Path: task}}, &st) {
		t.Fatal("not read")
	}
	c := st.CPUStats
	if c.CPUUsage.TotalUsage != 2500000 || c.CPUUsage.UsageInUsermode != 2000000 || c.CPUUsage.UsageInKernelmode != 500000 ||
		c.ThrottlingData != (driver.ThrottlingData{Periods: 10, ThrottledPeriods: 2, ThrottledTime: 30000}) {
		t.Fatalf("cpu %+v", c)
	}
	m := st.MemoryStats
	if m.Usage != 1<<20 || m.MaxUsage != 2<<20 || m.Limit != 512<<20 || m.Stats["inactive_file"] != 100 || len(m.Stats) != 3 {
		t.Fatalf("memory %+v", m)
	}
	if st.PidsStats.Current != 3 {
		t.Fatalf("pids %+v", st.PidsStats)
	}
	b := st.BlkioStats
	if len(b.IoServiceBytesRecursive) != 2 || b.IoServiceBytesRecursive[1] != (driver.BlkioStatEntry{Major: 8, Op: "write", Value: 200}) ||
		len(b.IoServicedRecursive) != 2 || b.IoServicedRecursive[0].Value != 3 {
		t.Fatalf("blkio %+v", b)
	}
	if cgroupSample(&cgroupConfig{Path: filepath.Join(dir, "gone")}, &st) {
		t.Fatal("a missing cgroup was read")
	}
}
