package agent

import (
	"context"
	"fmt"
	"maps"
	"time"

	"berth.dev/berth/internal/driver"
)

// recover takes up, after a restart, the tasks the records hold:
//   - a task that had not stopped gets a runner that adopts its containers
//     (one its record says was told to stop or failing only goes on
//     stopping; one an older agent recorded starts nothing until the
//     server lists it);
//   - a STOPPED task gets no runner: its report is sent again until the
//     server has it, then it waits for its clean-up, at once when it has no
//     container left.
//
// Containers the runtime no longer has are gone: a stopped task forgets
// them. Containers of this agent that belong to no record (created just
// before a crash, before the task was saved) are stopped and removed, so
// nothing is orphaned.
func (a *Agent) recover(ctx context.Context) error {
	handles, err := a.cfg.Driver.List(ctx)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	found := map[string]map[string]string{} // task ARN → container name → runtime ID
	var strays []driver.Handle
	saved := a.store.allTasks()
	for _, h := range handles {
		if h.Labels[labelAgent] != a.instanceID {
			continue // another agent's container on a shared engine
		}
		arn := h.Labels[driver.LabelTaskARN]
		if _, ok := saved[arn]; !ok {
			strays = append(strays, h)
			continue
		}
		if found[arn] == nil {
			found[arn] = map[string]string{}
		}
		found[arn][h.Labels[driver.LabelContainerName]] = h.ID
	}
	waiting := 0
	for arn, st := range saved {
		var missing map[string]string // created, but the ID not saved (crash, power loss)
		for name, id := range found[arn] {
			if _, ok := st.Containers[name]; !ok {
				st.Containers[name] = id
				if missing == nil {
					missing = map[string]string{}
				}
				missing[name] = id
			}
		}
		if st.stopped() {
			if a.adoptStopped(ctx, arn, st, found[arn]) {
				waiting++
			}
			continue
		}
		if missing != nil {
			if err := a.store.updateTask(arn, func(t *savedTask) { maps.Copy(t.Containers, missing) }); err != nil {
				a.log.Warn("persist adopted containers", "task", taskID(arn), "err", err)
			}
		}
		r := a.newRunner(*st.Spec, &st)
		a.mu.Lock()
		a.runners[arn] = r
		a.mu.Unlock()
		a.startRunner(r)
	}
	if waiting > 0 {
		a.log.Info("stopped tasks wait for their clean-up", "tasks", waiting, "after", a.cfg.TaskCleanupWait)
	}
	strayTasks := map[string]bool{} // task ARN -> all its containers removed
	for _, h := range strays {
		arn := h.Labels[driver.LabelTaskARN]
		a.log.Warn("removing a container of an unknown task", "id", h.ID, "task", arn)
		err := removeContainer(ctx, a.cfg.Driver, h, a.cfg.StopTimeout)
		if err != nil {
			a.log.Warn("remove stray container", "id", h.ID, "err", err)
		}
		if arn != "" {
			done, seen := strayTasks[arn]
			strayTasks[arn] = (done || !seen) && err == nil
		}
	}
	a.removeStrayTaskCgroups(ctx, strayTasks)
	a.sweepNetworks(ctx, saved)
	return nil
}

// adoptStopped hands a STOPPED task to finished: it keeps the containers
// the runtime still has (present), and sends its report again when the
// server may not have it. It reports whether the task waits for a later
// clean-up (it has containers and its report is acknowledged).
func (a *Agent) adoptStopped(ctx context.Context, arn string, st savedTask, present map[string]string) bool {
	kept := map[string]string{}
	for name, id := range st.Containers {
		if present[name] == id {
			kept[name] = id
		}
	}
	at := st.StoppedAt
	if at == nil { // an older agent's record: when the last container stopped
		t := a.lastExit(ctx, kept)
		at = &t
	}
	reported := st.Reported == "STOPPED" || st.Final == nil
	if err := a.store.updateTask(arn, func(t *savedTask) {
		t.Format, t.Containers, t.StoppedAt = recordFormat, kept, at
		if reported {
			t.Reported = "STOPPED"
		}
	}); err != nil {
		a.log.Warn("persist a stopped task", "task", taskID(arn), "err", err)
	}
	if !reported {
		a.log.Info("adopted task", "task", taskID(arn), "status", "STOPPED", "containers", len(kept))
		a.reporter.put(st.Final)
	} else {
		a.log.Debug("stopped task waits for its clean-up", "task", taskID(arn), "containers", len(kept),
			"due", at.Add(a.cfg.TaskCleanupWait))
	}
	a.finished.add(arn, true)
	return reported && len(kept) > 0
}

// lastExit is when the last of containers exited, or now when the runtime
// does not say.
func (a *Agent) lastExit(ctx context.Context, containers map[string]string) time.Time {
	var at time.Time
	for _, id := range containers {
		if st, err := a.cfg.Driver.Inspect(ctx, driver.Handle{ID: id}); err == nil && st.FinishedAt.After(at) {
			at = st.FinishedAt
		}
	}
	if now := time.Now(); at.IsZero() || at.After(now) {
		return now
	}
	return at
}
