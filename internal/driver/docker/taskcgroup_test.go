package docker

import (
	"reflect"
	"strings"
	"testing"

	"berth.dev/berth/internal/driver"
)

// hybridMountinfo is a cgroup v1 host with a unified mount (Debian's
// hybrid layout), plus a bind mount of a cgroup seen from inside.
const hybridMountinfo = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 22 0:31 /docker/abc /mnt/some\040cgroup rw,relatime - cgroup cgroup rw,memory
`

const v2Mountinfo = `25 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestParseMountinfo(t *testing.T) {
	got := parseMountinfo(hybridMountinfo)
	if len(got) != 6 {
		t.Fatalf("%d cgroup mounts, want 6: %+v", len(got), got)
	}
	if m := got[0]; m.Point != "/sys/fs/cgroup/cpu,cpuacct" || m.V2 || !reflect.DeepEqual(m.Controllers, []string{"rw", "cpu", "cpuacct"}) {
		t.Errorf("first mount %+v", m)
	}
	if m := got[4]; !m.V2 || m.Point != "/sys/fs/cgroup/unified" {
		t.Errorf("unified mount %+v", m)
	}
	if m := got[5]; m.Root != "/docker/abc" || m.Point != "/mnt/some cgroup" {
		t.Errorf("escaped mount %+v", m)
	}
}

func TestLayoutFor(t *testing.T) {
	l, reason := layoutFor("cgroupfs", "1", "unix:///var/run/docker.sock", parseMountinfo(hybridMountinfo))
	if l == nil {
		t.Fatalf("v1: not enforced: %s", reason)
	}
	want := &cgroupLayout{Memory: "/sys/fs/cgroup/memory", CPU: "/sys/fs/cgroup/cpu,cpuacct", Mounts: []string{
		"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("v1 layout %+v, want %+v", l, want)
	}
	l, reason = layoutFor("cgroupfs", "2", "unix:///run/docker.sock", parseMountinfo(v2Mountinfo))
	if l == nil || l.V2 != "/sys/fs/cgroup" || !reflect.DeepEqual(l.Mounts, []string{"/sys/fs/cgroup"}) {
		t.Errorf("v2 layout %+v (%s)", l, reason)
	}
	for _, c := range []struct{ driver, version, host, mountinfo, reason string }{
		{"systemd", "2", "unix:///run/docker.sock", v2Mountinfo, "cgroupfs driver only"},
		{"cgroupfs", "2", "tcp://10.0.0.1:2375", v2Mountinfo, "another host"},
		{"cgroupfs", "2", "unix:///run/docker.sock", hybridMountinfo, "not mounted at /sys/fs/cgroup"},
		{"cgroupfs", "1", "unix:///run/docker.sock", v2Mountinfo, "not both mounted"},
	} {
		l, reason := layoutFor(c.driver, c.version, c.host, parseMountinfo(c.mountinfo))
		if l != nil || !strings.Contains(reason, c.reason) {
			t.Errorf("%s/%s/%s: layout %+v, reason %q; want none because %q", c.driver, c.version, c.host, l, reason, c.reason)
		}
	}
}

func TestTaskCgroupWrites(t *testing.T) {
	v1 := &cgroupLayout{Memory: "/cg/memory", CPU: "/cg/cpu"}
	dirs, writes := v1.taskCgroupWrites(driver.TaskLimits{TaskID: "t1", CPUUnits: 512, MemoryMiB: 64})
	if want := []string{"/cg/memory/berth/task-t1", "/cg/cpu/berth/task-t1"}; !reflect.DeepEqual(dirs, want) {
		t.Errorf("v1 dirs %q, want %q", dirs, want)
	}
	want := []cgroupWrite{
		{"/cg/memory/berth/task-t1/memory.limit_in_bytes", "67108864"},
		{"/cg/cpu/berth/task-t1/cpu.cfs_period_us", "100000"},
		{"/cg/cpu/berth/task-t1/cpu.cfs_quota_us", "50000"},
	}
	if !reflect.DeepEqual(writes, want) {
		t.Errorf("v1 writes %q, want %q", writes, want)
	}
	// Only cpu: memory unlimited.
	_, writes = v1.taskCgroupWrites(driver.TaskLimits{TaskID: "t1", CPUUnits: 2048})
	if writes[0].Value != "-1" || writes[2].Value != "200000" {
		t.Errorf("v1 cpu only: %q", writes)
	}

	v2 := &cgroupLayout{V2: "/cg"}
	dirs, writes = v2.taskCgroupWrites(driver.TaskLimits{TaskID: "t2", CPUUnits: 512, MemoryMiB: 64})
	if want := []string{"/cg/berth", "/cg/berth/task-t2"}; !reflect.DeepEqual(dirs, want) {
		t.Errorf("v2 dirs %q, want %q", dirs, want)
	}
	want = []cgroupWrite{
		{"/cg/cgroup.subtree_control", "+memory +cpu"},
		{"/cg/berth/cgroup.subtree_control", "+memory +cpu"},
		{"/cg/berth/task-t2/memory.max", "67108864"},
		{"/cg/berth/task-t2/cpu.max", "50000 100000"},
		{"/cg/berth/task-t2/cgroup.subtree_control", "+memory +cpu"},
	}
	if !reflect.DeepEqual(writes, want) {
		t.Errorf("v2 writes %q, want %q", writes, want)
	}
	_, writes = v2.taskCgroupWrites(driver.TaskLimits{TaskID: "t2", MemoryMiB: 1})
	if writes[2].Value != "1048576" || writes[3].Value != "max 100000" {
		t.Errorf("v2 memory only: %q", writes)
	}
	if got := taskCgroupParent("t3"); got != "/berth/task-t3" {
		t.Errorf("cgroup parent %q", got)
	}
}
