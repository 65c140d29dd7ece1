package fakedriver

import (
	"context"
	"fmt"
	"maps"

	"berth.dev/berth/internal/driver"
)

// taskCgroups are the task cgroups of a Runtime, guarded by its mutex.
type taskCgroups struct {
	disabled string                       // why task limits are not enforced; "": they are
	cgroups  map[string]driver.TaskLimits // by task ID
}

// create records t's cgroup (with its latest limits) when enforced.
func (tc *taskCgroups) create(t *driver.TaskLimits) error {
	if t == nil || tc.disabled != "" {
		return nil
	}
	if err := t.Check(); err != nil {
		return err
	}
	if tc.cgroups == nil {
		tc.cgroups = map[string]driver.TaskLimits{}
	}
	tc.cgroups[t.TaskID] = *t
	return nil
}

// DisableTaskLimits makes the Runtime report task limits not enforced,
// for reason, and ignore Spec.Task (it still records it in Containers).
func (r *Runtime) DisableTaskLimits(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks.disabled = reason
}

// TaskLimits reports task limits enforced unless DisableTaskLimits was
// called.
func (r *Runtime) TaskLimits() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tasks.disabled == "", r.tasks.disabled
}

// TaskCgroups returns the task cgroups that exist, by task ID, with the
// limits their last container was created with.
func (r *Runtime) TaskCgroups() map[string]driver.TaskLimits {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.tasks.cgroups)
}

// RemoveTaskCgroup forgets a task's cgroup; it fails while a container of
// the task runs, and an unknown task is not an error.
func (r *Runtime) RemoveTaskCgroup(ctx context.Context, taskID string) error {
	if err := r.call(ctx, Call{Op: OpRemoveTaskCgroup, ID: taskID}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.containers {
		if c.task != nil && c.task.TaskID == taskID && c.status.Running {
			return fmt.Errorf("task cgroup %s: container %s of the task runs", taskID, c.h.ID)
		}
	}
	delete(r.tasks.cgroups, taskID)
	return nil
}

func copyTask(t *driver.TaskLimits) *driver.TaskLimits {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
