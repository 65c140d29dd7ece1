package driver

import (
	"context"
	"fmt"
)

// TaskLimits are a task's task-level cpu and memory, enforced on all its
// containers together (see "Task limits" in the package doc).
type TaskLimits struct {
	// TaskID names the task's cgroup: the last segment of its ARN (see
	// CheckTaskID).
	TaskID    string
	CPUUnits  int64 // ECS cpu units (1024 = one CPU); 0: none
	MemoryMiB int64 // hard limit of the task's memory; 0: none
}

// TaskCgroups is implemented by drivers that can enforce TaskLimits.
type TaskCgroups interface {
	// TaskLimits reports whether Spec.Task is enforced on this host, and
	// when it is not, why.
	TaskLimits() (enforced bool, reason string)
	// RemoveTaskCgroup removes the task's cgroup once none of its
	// containers remains. An unknown task is not an error.
	RemoveTaskCgroup(ctx context.Context, taskID string) error
}

// TaskLimitsEnforced reports whether d enforces Spec.Task, and why not.
func TaskLimitsEnforced(d Driver) (bool, string) {
	tc, ok := d.(TaskCgroups)
	if !ok {
		return false, "the " + d.Name() + " runtime does not enforce task limits"
	}
	return tc.TaskLimits()
}

// CheckTaskID checks that id can name a cgroup directory: 1 to 128
// letters, digits, '-', '_' or '.', and not "." or "..".
func CheckTaskID(id string) error {
	if id == "" || len(id) > 128 || id == "." || id == ".." {
		return fmt.Errorf("task ID %q cannot name a cgroup", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("task ID %q cannot name a cgroup", id)
		}
	}
	return nil
}

// Check checks the limits: a valid TaskID and no negative value.
func (t *TaskLimits) Check() error {
	if err := CheckTaskID(t.TaskID); err != nil {
		return err
	}
	if t.CPUUnits < 0 || t.MemoryMiB < 0 {
		return fmt.Errorf("task %s: negative task limits (cpu %d, memory %d MiB)", t.TaskID, t.CPUUnits, t.MemoryMiB)
	}
	return nil
}

// CFS period and the smallest quota the kernel accepts (1 ms), in µs.
const (
	CFSPeriodUs   = 100000
	MinCFSQuotaUs = 1000
)

// CFSQuotaUs is the CFS quota per CFSPeriodUs of units ECS cpu units
// (1024 a CPU), as the ECS agent computes it; 0 units: no quota (-1).
func CFSQuotaUs(units int64) int64 {
	if units <= 0 {
		return -1
	}
	return max(units*CFSPeriodUs/1024, MinCFSQuotaUs)
}
