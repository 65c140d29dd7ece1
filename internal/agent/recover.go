package agent

import (
	"context"
	"fmt"
	"maps"

	"berth.dev/berth/internal/driver"
)

// recover adopts the tasks this agent ran before it restarted. Containers
// of this agent that belong to no remembered task (created just before a
// crash, before the task was saved) are stopped and removed, so nothing is
// orphaned.
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
	for _, h := range strays {
		a.log.Warn("removing a container of an unknown task", "id", h.ID, "task", h.Labels[driver.LabelTaskARN])
		if err := a.cfg.Driver.Stop(ctx, h, a.cfg.StopTimeout); err != nil {
			a.log.Warn("stop stray container", "id", h.ID, "err", err)
		}
		if err := a.cfg.Driver.Remove(ctx, h); err != nil {
			a.log.Warn("remove stray container", "id", h.ID, "err", err)
		}
	}
	return nil
}
