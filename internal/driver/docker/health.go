package docker

import (
	"context"
	"errors"
	"time"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/client"
)

// healthRetry is the pause before the events stream is opened again after
// it failed, or before a watch inspects its container again.
const healthRetry = time.Second

// WatchHealth reports the container's health as the engine's own check
// finds it (Spec.HealthCheck, run by the engine; see healthConfig):
// "starting", "healthy", "unhealthy", or "" when it has no check. It reads
// State.Health now, on each of the engine's health_status events for the
// container (one events stream shared by all of the driver's watches), and
// every poll (> 0; default 30 s), which bounds how late a change is seen
// should the events stream fail. It calls report with every reading, until
// ctx ends or the container is gone or no longer running (the engine marks
// a stopped container "unhealthy", which is not a failed check: the
// container's exit speaks for it); readings that fail otherwise are
// skipped.
func (d *Driver) WatchHealth(ctx context.Context, h driver.Handle, poll time.Duration, report func(status string)) {
	if poll <= 0 {
		poll = 30 * time.Second
	}
	ref := ref(h)
	// Events name the container by its full ID, which the handle may not.
	var id string
	for id == "" {
		res, err := d.cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
		if err == nil {
			id = res.Container.ID
			continue
		}
		if errors.Is(classify("inspect", ref, err), driver.ErrNotFound) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(healthRetry):
		}
	}
	events, unsubscribe := d.healthEv.subscribe(id)
	defer unsubscribe()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-events:
		case <-t.C:
			t.Reset(poll)
		}
		status, running, err := d.health(ctx, id)
		switch {
		case errors.Is(err, driver.ErrNotFound):
			return
		case err == nil && !running:
			return
		case err == nil:
			report(status)
		}
	}
}

// health is the container's State.Health.Status ("" without a check) and
// whether the container is running.
func (d *Driver) health(ctx context.Context, id string) (status string, running bool, err error) {
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", false, classify("inspect", id, err)
	}
	s := res.Container.State
	if s == nil {
		return "", false, nil
	}
	if s.Health != nil && s.Health.Status != "none" {
		status = string(s.Health.Status)
	}
	return status, s.Running, nil
}
