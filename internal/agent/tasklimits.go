package agent

import (
	"context"
	"strconv"
	"strings"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
)

// capTaskLimits is the capability of instances that enforce task-level cpu
// and memory.
const capTaskLimits = "ecs.capability.task-cpu-mem-limit"

// taskLimits are t's task-level cpu and memory, which the runtime enforces
// on all its containers together: RunTask's overrides, else the task
// definition's (whole cpu units and MiB: berth normalises "1 vCPU" and
// "2 GB" when the definition is registered, and RunTask takes integers
// only). Nil when t has neither.
func taskLimits(t *agentproto.Task) *driver.TaskLimits {
	var cpu, mem int64
	if def := t.Definition; def != nil {
		cpu, mem = positive(def.Cpu), positive(def.Memory)
	}
	if ov := t.Overrides; ov != nil {
		if n := positive(ov.Cpu); n > 0 {
			cpu = n
		}
		if n := positive(ov.Memory); n > 0 {
			mem = n
		}
	}
	if cpu == 0 && mem == 0 {
		return nil
	}
	return &driver.TaskLimits{TaskID: taskID(t.TaskArn), CPUUnits: cpu, MemoryMiB: mem}
}

// positive reads a whole positive number; anything else is 0 (none).
func positive(s *string) int64 {
	if s == nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// taskLimitsEnforced reports whether the runtime enforces task limits,
// which the instance then advertises (capTaskLimits).
func (a *Agent) taskLimitsEnforced() bool {
	ok, _ := driver.TaskLimitsEnforced(a.cfg.Driver)
	return ok
}

// logTaskLimits says when task limits are not enforced, and why.
func (a *Agent) logTaskLimits() {
	if ok, reason := driver.TaskLimitsEnforced(a.cfg.Driver); !ok {
		a.log.Info("task-level cpu and memory are reserved for placement, not enforced", "reason", reason)
	}
}

// removeTaskCgroup removes the task's cgroup once its containers are
// removed; a runtime without task cgroups has nothing to remove.
func (a *Agent) removeTaskCgroup(ctx context.Context, taskArn string) error {
	tc, ok := a.cfg.Driver.(driver.TaskCgroups)
	if !ok {
		return nil
	}
	return tc.RemoveTaskCgroup(ctx, taskID(taskArn))
}

// removeStrayTaskCgroups removes the cgroups of unknown tasks whose
// containers were all removed (done true).
func (a *Agent) removeStrayTaskCgroups(ctx context.Context, done map[string]bool) {
	for arn, ok := range done {
		if !ok {
			continue
		}
		if err := a.removeTaskCgroup(ctx, arn); err != nil {
			a.log.Warn("remove the cgroup of an unknown task", "task", taskID(arn), "err", err)
		}
	}
}
