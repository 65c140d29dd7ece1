package agent

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"berth.dev/berth/internal/driver"
)

// cleanupRetry is how long a clean-up that could not remove every container
// waits before trying again.
const cleanupRetry = time.Minute

// finished holds the tasks that reached STOPPED. They have no runner:
// nothing is pulled, created, started or stopped for them any more. Each
// waits until the server needs no more report of it (its STOPPED report is
// acknowledged, or the server no longer lists it), then for its clean-up:
// at once when it has no container, else at stoppedAt + TaskCleanupWait,
// when its containers are removed and its record deleted.
//
// Invariants: an entry stays until its record is deleted and the server's
// stream has shown the task gone (listed false), so a task list written
// before the server took the STOPPED report never starts the task again.
// A task has at most one clean-up scheduled or running. Nothing is
// scheduled once closed.
type finished struct {
	a *Agent

	mu     sync.Mutex
	tasks  map[string]*doneTask
	closed bool
	wg     sync.WaitGroup // clean-ups running
}

type doneTask struct {
	listed    bool        // the server may still list it
	scheduled bool        // its clean-up is due (timer set) or running
	timer     *time.Timer // nil while running or not scheduled
	deleted   bool        // its record is deleted
}

func newFinished(a *Agent) *finished {
	return &finished{a: a, tasks: map[string]*doneTask{}}
}

// add takes a stopped task whose record has its stoppedAt. A task whose
// STOPPED report needs no sending has its clean-up scheduled now.
func (f *finished) add(taskArn string, listed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.tasks[taskArn]
	if e == nil {
		e = &doneTask{}
		f.tasks[taskArn] = e
	}
	e.listed = listed
	rec, ok := f.a.store.task(taskArn)
	switch {
	case !ok: // nothing recorded (its writes failed): nothing to clean up
		e.deleted = true
		if !listed {
			delete(f.tasks, taskArn)
		}
	case rec.Reported == "STOPPED":
		f.schedule(taskArn, e)
	}
}

// has reports whether taskArn is a finished task.
func (f *finished) has(taskArn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tasks[taskArn] != nil
}

// listedExcept returns the finished tasks the server may still list that
// are not in want (a full task list without them).
func (f *finished) listedExcept(want map[string]bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for arn, e := range f.tasks {
		if e.listed && !want[arn] {
			out = append(out, arn)
		}
	}
	return out
}

// reported is told that the server acknowledged a task's STOPPED report
// (its record says so already).
func (f *finished) reported(taskArn string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.tasks[taskArn]; e != nil {
		f.schedule(taskArn, e)
	}
}

// unlisted is told that the server no longer lists a task: it wants no
// more report of it.
func (f *finished) unlisted(taskArn string) {
	f.mu.Lock()
	e := f.tasks[taskArn]
	if e == nil {
		f.mu.Unlock()
		return
	}
	e.listed = false
	if e.deleted {
		delete(f.tasks, taskArn)
	}
	pending := !e.scheduled && !e.deleted
	f.mu.Unlock()
	if !pending {
		return
	}
	f.a.reporter.drop(taskArn)
	if err := f.a.store.updateTask(taskArn, func(t *savedTask) { t.Reported = "STOPPED" }); err != nil {
		f.a.log.Warn("persist that the server forgot a task", "task", taskID(taskArn), "err", err)
	}
	f.reported(taskArn)
}

// schedule sets e's clean-up timer; f.mu is held.
func (f *finished) schedule(taskArn string, e *doneTask) {
	if e.scheduled || e.deleted || f.closed {
		return
	}
	var wait time.Duration
	if rec, ok := f.a.store.task(taskArn); ok && len(rec.Containers) > 0 && rec.StoppedAt != nil {
		wait = max(time.Until(rec.StoppedAt.Add(f.a.cfg.TaskCleanupWait)), 0)
	}
	e.scheduled = true
	e.timer = time.AfterFunc(wait, func() { f.cleanup(taskArn) })
}

// cleanup removes a task's containers, then its cgroup (task limits), and
// deletes its record; what could not be removed is tried again later.
func (f *finished) cleanup(taskArn string) {
	f.mu.Lock()
	e := f.tasks[taskArn]
	if f.closed || e == nil {
		f.mu.Unlock()
		return
	}
	e.timer = nil
	f.wg.Add(1)
	f.mu.Unlock()
	defer f.wg.Done()

	a := f.a
	ctx, cancel := context.WithTimeout(a.runCtx, time.Minute+a.cfg.StopTimeout)
	defer cancel()
	rec, _ := a.store.task(taskArn)
	left := map[string]string{}
	for name, id := range rec.Containers {
		if err := removeContainer(ctx, a.cfg.Driver, driver.Handle{ID: id}, a.cfg.StopTimeout); err != nil {
			a.log.Warn("remove container", "task", taskID(taskArn), "container", name, "id", id, "err", err)
			left[name] = id
		}
	}
	var cgErr error // the task's cgroup goes after its last container
	if len(left) == 0 {
		if cgErr = a.removeTaskCgroup(ctx, taskArn); cgErr != nil {
			a.log.Warn("remove the task's cgroup", "task", taskID(taskArn), "err", cgErr)
		}
	}
	if len(left) > 0 || cgErr != nil {
		if err := a.store.updateTask(taskArn, func(t *savedTask) { t.Containers = left }); err != nil {
			a.log.Warn("persist a task's clean-up", "task", taskID(taskArn), "err", err)
		}
		f.mu.Lock()
		if !f.closed {
			e.timer = time.AfterFunc(cleanupRetry, func() { f.cleanup(taskArn) })
		}
		f.mu.Unlock()
		return
	}
	if err := os.RemoveAll(a.resolvDir(taskArn)); err != nil {
		a.log.Warn("remove the task's resolv.conf files", "task", taskID(taskArn), "err", err)
	}
	if err := os.RemoveAll(a.awslogsDir(taskArn)); err != nil {
		a.log.Warn("remove the task's awslogs cursors", "task", taskID(taskArn), "err", err)
	}
	if err := a.store.deleteTask(taskArn); err != nil {
		a.log.Warn("forget a cleaned-up task", "task", taskID(taskArn), "err", err)
	}
	a.log.Debug("task cleaned up", "task", taskID(taskArn), "containers", len(rec.Containers))
	f.mu.Lock()
	e.deleted = true
	if !e.listed {
		delete(f.tasks, taskArn)
	}
	f.mu.Unlock()
}

// removeContainer stops (a no-op for an exited container) and removes a
// container; one the runtime does not know is removed already.
func removeContainer(ctx context.Context, d driver.Driver, h driver.Handle, stopTimeout time.Duration) error {
	if err := d.Stop(ctx, h, stopTimeout); err != nil && !errors.Is(err, driver.ErrNotFound) {
		return err
	}
	if err := d.Remove(ctx, h); err != nil && !errors.Is(err, driver.ErrNotFound) {
		return err
	}
	return nil
}

// close stops the clean-up timers and waits for the clean-ups under way.
// The next agent schedules them again from the records.
func (f *finished) close() {
	f.mu.Lock()
	f.closed = true
	for _, e := range f.tasks {
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
	}
	f.mu.Unlock()
	f.wg.Wait()
}
