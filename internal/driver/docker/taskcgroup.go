package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"
)

// TaskCgroupParent is the cgroup, under the root of each hierarchy, in
// which task cgroups are made: task T's is /berth/task-T.
const TaskCgroupParent = "berth"

var _ driver.TaskCgroups = (*Driver)(nil)

// taskCgroups makes and removes task cgroups. layout is nil when task
// limits are not enforced, and reason says why.
type taskCgroups struct {
	layout *cgroupLayout
	reason string
	mu     sync.Mutex // serialises making and removing
}

// cgroupLayout is the host's cgroup hierarchies as the engine's cgroupfs
// driver uses them.
type cgroupLayout struct {
	// V2 is the cgroup v2 mount point the engine uses; empty on v1.
	V2 string
	// Memory and CPU are the v1 mount points of those controllers.
	Memory, CPU string
	// Mounts are the mount points of every hierarchy, where runc makes
	// the task's directories for its containers (removed with the task).
	Mounts []string
}

// cgroupMount is a cgroup file system in /proc/self/mountinfo.
type cgroupMount struct {
	Root, Point string
	V2          bool
	Controllers []string // v1: the super options naming controllers
}

// parseMountinfo returns the cgroup mounts of a mountinfo file.
func parseMountinfo(data string) []cgroupMount {
	var out []cgroupMount
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		m := cgroupMount{Root: unescapeMount(f[3]), Point: unescapeMount(f[4])}
		switch g[0] {
		case "cgroup2":
			m.V2 = true
		case "cgroup":
			m.Controllers = strings.Split(g[2], ",")
		default:
			continue
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// layoutFor finds where the engine (cgroup driver and version from its
// info, at daemonHost) makes containers' cgroups, or says why berth cannot
// make task cgroups there.
func layoutFor(cgroupDriver, cgroupVersion, daemonHost string, mounts []cgroupMount) (*cgroupLayout, string) {
	if cgroupDriver != "cgroupfs" {
		return nil, fmt.Sprintf("the engine's cgroup driver is %q; berth enforces task limits with the cgroupfs driver only", cgroupDriver)
	}
	if !strings.HasPrefix(daemonHost, "unix://") {
		return nil, fmt.Sprintf("the engine at %s may be on another host, whose cgroups berth cannot reach", daemonHost)
	}
	l := &cgroupLayout{}
	for _, m := range mounts {
		if m.Root != "/" {
			continue // a cgroup namespace's or a bind mount's view
		}
		l.Mounts = append(l.Mounts, m.Point)
		switch {
		case m.V2 && cgroupVersion == "2" && m.Point == "/sys/fs/cgroup":
			l.V2 = m.Point
		case !m.V2 && slices.Contains(m.Controllers, "memory"):
			l.Memory = m.Point
		case !m.V2 && slices.Contains(m.Controllers, "cpu"):
			l.CPU = m.Point
		}
	}
	switch cgroupVersion {
	case "2":
		if l.V2 == "" {
			return nil, "the engine uses cgroup v2 but it is not mounted at /sys/fs/cgroup in berth's view"
		}
	case "1", "":
		if l.Memory == "" || l.CPU == "" {
			return nil, "the memory and cpu cgroup v1 controllers are not both mounted at their root in berth's view"
		}
	default:
		return nil, fmt.Sprintf("unknown cgroup version %q", cgroupVersion)
	}
	return l, ""
}

// detectTaskCgroups decides whether this driver enforces task limits.
func (d *Driver) detectTaskCgroups(ctx context.Context) {
	info, err := d.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		d.tasks.reason = fmt.Sprintf("engine info: %v", err)
		return
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		d.tasks.reason = err.Error()
		return
	}
	l, reason := layoutFor(info.Info.CgroupDriver, info.Info.CgroupVersion, d.cli.DaemonHost(), parseMountinfo(string(data)))
	// A unix socket may lead to an engine in a VM (Docker Desktop) or
	// forwarded from elsewhere: its cgroups would not be these.
	if host, _ := os.Hostname(); l != nil && info.Info.Name != host {
		l, reason = nil, fmt.Sprintf("the engine runs on host %q, not this one (%q), so its cgroups may not be these", info.Info.Name, host)
	}
	if l != nil {
		for _, dir := range []string{l.V2, l.Memory, l.CPU} {
			if dir != "" && unix.Access(dir, unix.W_OK) != nil {
				l, reason = nil, "no permission to make cgroups in "+dir
				break
			}
		}
	}
	if l != nil && l.V2 != "" {
		avail, _ := os.ReadFile(filepath.Join(l.V2, "cgroup.controllers"))
		if f := strings.Fields(string(avail)); !slices.Contains(f, "memory") || !slices.Contains(f, "cpu") {
			l, reason = nil, "the memory and cpu controllers are not both available in "+l.V2
		}
	}
	d.tasks.layout, d.tasks.reason = l, reason
}

// TaskLimits reports whether task limits are enforced: with the engine's
// cgroupfs driver, on a local engine (a unix socket, and the engine's host
// name is this host's), when berth may write the cgroups.
func (d *Driver) TaskLimits() (bool, string) {
	return d.tasks.layout != nil, d.tasks.reason
}

// taskCgroupParent is the HostConfig.CgroupParent of task id's containers.
func taskCgroupParent(id string) string {
	return "/" + TaskCgroupParent + "/task-" + id
}

// cgroupWrite is one value written into a cgroup file.
type cgroupWrite struct{ Path, Value string }

// taskCgroupWrites are the directories to make (in order) and the files
// to write (in order) for t's cgroup.
func (l *cgroupLayout) taskCgroupWrites(t driver.TaskLimits) (dirs []string, writes []cgroupWrite) {
	rel := taskCgroupParent(t.TaskID)
	mem := "-1"
	if t.MemoryMiB > 0 {
		mem = strconv.FormatInt(t.MemoryMiB*mib, 10)
	}
	quota := driver.CFSQuotaUs(t.CPUUnits)
	period := strconv.Itoa(driver.CFSPeriodUs)
	if l.V2 != "" {
		parent, dir := filepath.Join(l.V2, TaskCgroupParent), filepath.Join(l.V2, rel)
		cpuMax := "max " + period
		if quota > 0 {
			cpuMax = strconv.FormatInt(quota, 10) + " " + period
		}
		if mem == "-1" {
			mem = "max"
		}
		return []string{parent, dir}, []cgroupWrite{
			// Controllers must be enabled all the way down to the task.
			{filepath.Join(l.V2, "cgroup.subtree_control"), "+memory +cpu"},
			{filepath.Join(parent, "cgroup.subtree_control"), "+memory +cpu"},
			{filepath.Join(dir, "memory.max"), mem},
			{filepath.Join(dir, "cpu.max"), cpuMax},
			{filepath.Join(dir, "cgroup.subtree_control"), "+memory +cpu"},
		}
	}
	memDir, cpuDir := filepath.Join(l.Memory, rel), filepath.Join(l.CPU, rel)
	return []string{memDir, cpuDir}, []cgroupWrite{
		{filepath.Join(memDir, "memory.limit_in_bytes"), mem},
		{filepath.Join(cpuDir, "cpu.cfs_period_us"), period},
		{filepath.Join(cpuDir, "cpu.cfs_quota_us"), strconv.FormatInt(quota, 10)},
	}
}

// ensureTaskCgroup makes t's cgroup (when missing) and writes its limits.
func (d *Driver) ensureTaskCgroup(t driver.TaskLimits) error {
	if err := t.Check(); err != nil {
		return err
	}
	dirs, writes := d.tasks.layout.taskCgroupWrites(t)
	d.tasks.mu.Lock()
	defer d.tasks.mu.Unlock()
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("task cgroup: %w", err)
		}
	}
	for _, w := range writes {
		if err := os.WriteFile(w.Path, []byte(w.Value), 0); err != nil {
			return fmt.Errorf("task cgroup: writing %s to %s: %w", w.Value, w.Path, err)
		}
	}
	return nil
}

// taskCgroup makes the cgroup of spec's task, when the driver enforces
// task limits, and nests the container's cgroup in it.
func (d *Driver) taskCgroup(spec driver.Spec, hc *container.HostConfig) error {
	if spec.Task == nil || d.tasks.layout == nil {
		return nil
	}
	if err := d.ensureTaskCgroup(*spec.Task); err != nil {
		return err
	}
	hc.CgroupParent = taskCgroupParent(spec.Task.TaskID)
	return nil
}

// RemoveTaskCgroup removes task id's cgroup from every hierarchy. It fails
// while a container of the task still has a cgroup in it.
func (d *Driver) RemoveTaskCgroup(_ context.Context, id string) error {
	if d.tasks.layout == nil {
		return nil
	}
	if err := driver.CheckTaskID(id); err != nil {
		return err
	}
	d.tasks.mu.Lock()
	defer d.tasks.mu.Unlock()
	var errs []error
	for _, m := range d.tasks.layout.Mounts {
		dir := filepath.Join(m, taskCgroupParent(id))
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("task cgroup: %w", err))
		}
	}
	return errors.Join(errs...)
}
