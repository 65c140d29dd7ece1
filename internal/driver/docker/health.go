package docker

import (
	"context"
	"errors"
	"time"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/client"
)

// healthRetry is the pause before the events stream is opened again after
// it failed.
const healthRetry = time.Second

// WatchHealth reports the container's health as the engine's own check
// finds it (Spec.HealthCheck, run by the engine; see healthConfig):
// "starting", "healthy", "unhealthy", or "" when it has no check. It reads
// State.Health now, on each of the engine's health_status events for the
// container, and every poll (> 0; default 30 s), which bounds how late a
// change is seen should the events stream fail and reconnect. It calls
// report with every reading, until ctx ends or the container is gone or no
// longer running (the engine marks a stopped container "unhealthy", which
// is not a failed check: the container's exit speaks for it); readings
// that fail otherwise are skipped.
func (d *Driver) WatchHealth(ctx context.Context, h driver.Handle, poll time.Duration, report func(status string)) {
	if poll <= 0 {
		poll = 30 * time.Second
	}
	id := ref(h)
	for ctx.Err() == nil {
		sctx, cancel := context.WithCancel(ctx)
		events := d.cli.Events(sctx, client.EventsListOptions{
			// The engine matches "health_status" against "health_status: healthy" and the like.
			Filters: make(client.Filters).Add("type", "container").Add("container", id).Add("event", "health_status"),
		})
		gone := d.followHealth(sctx, id, poll, events, report)
		cancel()
		if gone {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(healthRetry):
		}
	}
}

// followHealth reads the health now, on each event and every poll, until
// ctx ends or the stream fails (false), or the container is gone or has
// stopped (true).
func (d *Driver) followHealth(ctx context.Context, id string, poll time.Duration, events client.EventsResult, report func(string)) bool {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case err := <-events.Err:
			if ctx.Err() == nil {
				d.log.Debug("container health events", "container", id, "err", err)
			}
			return false
		case <-events.Messages:
		case <-t.C:
			t.Reset(poll)
		}
		status, running, err := d.health(ctx, id)
		switch {
		case errors.Is(err, driver.ErrNotFound):
			return true
		case err == nil && !running:
			return true
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
