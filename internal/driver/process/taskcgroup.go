//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"berth.dev/berth/internal/driver"
)

// taskCgroupPrefix names task T's cgroup, berth-task-T, in Limits.Cgroup.
const taskCgroupPrefix = "berth-task-"

var _ driver.TaskCgroups = (*Driver)(nil)

// taskCgroupConfig is a task's cgroup, the parent of its containers'.
// Zero limits are written as "max".
type taskCgroupConfig struct {
	Path      string `json:"path"`
	MemoryMax int64  `json:"memoryMax,omitempty"` // bytes
	CPUQuota  int64  `json:"cpuQuota,omitempty"`  // µs per driver.CFSPeriodUs
}

// taskCgroupFor is task t's cgroup under the driver's limits, with the
// limits of the controllers the driver has; nil without cgroups or t.
func (l Limits) taskCgroupFor(t *driver.TaskLimits) *taskCgroupConfig {
	if l.Cgroup == "" || t == nil {
		return nil
	}
	c := &taskCgroupConfig{Path: filepath.Join(l.Cgroup, taskCgroupPrefix+t.TaskID)}
	if l.Memory {
		c.MemoryMax = t.MemoryMiB << 20
	}
	if l.CPU && t.CPUUnits > 0 {
		c.CPUQuota = driver.CFSQuotaUs(t.CPUUnits)
	}
	return c
}

// inTask moves container cgroup c into task t's cgroup. An OOM kill the
// task's limit causes takes the container whole, as one its own limit
// causes does.
func (l Limits) inTask(c *cgroupConfig, t *driver.TaskLimits) error {
	if t == nil {
		return nil
	}
	if err := t.Check(); err != nil {
		return cannotCreate("%v", err)
	}
	if c == nil {
		return nil
	}
	c.Task = l.taskCgroupFor(t)
	c.Path = filepath.Join(c.Task.Path, filepath.Base(c.Path))
	return nil
}

// create makes the task's cgroup when missing and (re)writes its limits;
// its containers' cgroups get the memory and cpu controllers.
func (t *taskCgroupConfig) create() error {
	if err := os.Mkdir(t.Path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("task cgroup: %w", err)
	}
	enabled := fieldSet(filepath.Dir(t.Path), "cgroup.subtree_control")
	write := func(file, v string) error {
		if err := os.WriteFile(filepath.Join(t.Path, file), []byte(v), 0); err != nil {
			return fmt.Errorf("task cgroup: %s: %w", file, err)
		}
		return nil
	}
	if enabled["memory"] || t.MemoryMax > 0 {
		mem := "max"
		if t.MemoryMax > 0 {
			mem = strconv.FormatInt(t.MemoryMax, 10)
		}
		if err := write("memory.max", mem); err != nil {
			return err
		}
		if err := write("cgroup.subtree_control", "+memory"); err != nil {
			return err
		}
	}
	if enabled["cpu"] || t.CPUQuota > 0 {
		cpu := "max"
		if t.CPUQuota > 0 {
			cpu = strconv.FormatInt(t.CPUQuota, 10)
		}
		if err := write("cpu.max", cpu+" "+strconv.Itoa(driver.CFSPeriodUs)); err != nil {
			return err
		}
		if err := write("cgroup.subtree_control", "+cpu"); err != nil {
			return err
		}
	}
	return nil
}

// TaskLimits reports whether task limits are enforced: on cgroup v2, with
// the memory and cpu controllers.
func (d *Driver) TaskLimits() (bool, string) {
	switch l := d.limits; {
	case l.Cgroup == "":
		return false, l.Reason
	case !l.Memory || !l.CPU:
		return false, "task limits need the memory and cpu controllers: " + l.Reason
	}
	return true, ""
}

// RemoveTaskCgroup removes task id's cgroup. It fails while a container of
// the task runs.
func (d *Driver) RemoveTaskCgroup(_ context.Context, id string) error {
	if d.limits.Cgroup == "" {
		return nil
	}
	if err := driver.CheckTaskID(id); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d.limits.Cgroup, taskCgroupPrefix+id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("task cgroup: %w", err)
	}
	return nil
}
