package agent

import (
	"context"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/taskplan"
)

// ECS's health check defaults.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 5 * time.Second
	defaultHealthRetries  = 3
)

// healthSpec is the task definition's health check with ECS's defaults
// applied, for the runtime; nil when there is no command to run (no check,
// or NONE).
func healthSpec(hc *shape.HealthCheck) *driver.HealthCheck {
	if hc == nil || len(hc.Command) == 0 {
		return nil
	}
	var test []string
	switch hc.Command[0] {
	case "CMD":
		test = append(test, hc.Command...)
	case "CMD-SHELL":
		if len(hc.Command) < 2 {
			return nil
		}
		test = []string{"CMD-SHELL", hc.Command[1]}
	case "NONE":
		return nil
	default:
		test = append([]string{"CMD"}, hc.Command...)
	}
	s := &driver.HealthCheck{Test: test, Interval: defaultHealthInterval, Timeout: defaultHealthTimeout, Retries: defaultHealthRetries}
	if hc.Interval != nil {
		s.Interval = time.Duration(*hc.Interval) * time.Second
	}
	if hc.Timeout != nil {
		s.Timeout = time.Duration(*hc.Timeout) * time.Second
	}
	if hc.Retries != nil {
		s.Retries = int(*hc.Retries)
	}
	if hc.StartPeriod != nil {
		s.StartPeriod = time.Duration(*hc.StartPeriod) * time.Second
	}
	return s
}

// nativeHealth is a runtime that runs the health check of a container's
// Spec itself (Docker: it is the container's Healthcheck config), so the
// agent only reads the result.
type nativeHealth interface {
	// WatchHealth reports the container's health as the runtime reads it
	// ("starting", "healthy", "unhealthy", or "" for none yet), now and at
	// least every poll, until ctx ends or the container is gone.
	WatchHealth(ctx context.Context, h driver.Handle, poll time.Duration, report func(status string))
}

// healthCheck follows container i's health as ECS defines it: HEALTHY on
// a success; UNHEALTHY after retries consecutive failures, except that
// failures during startPeriod do not count until the first success. A
// runtime with native health checks runs the check; otherwise the agent
// runs it through Exec.
func (r *runner) healthCheck(ctx context.Context, i int, h driver.Handle) {
	hc := healthSpec(r.task.Definition.ContainerDefinitions[i].HealthCheck)
	if hc == nil {
		return
	}
	if nh, ok := r.a.cfg.Driver.(nativeHealth); ok {
		r.watchHealth(ctx, i, h, hc, nh)
		return
	}
	r.execHealthCheck(ctx, i, h, hc)
}

// watchHealth reports the runtime's reading of container i's health.
func (r *runner) watchHealth(ctx context.Context, i int, h driver.Handle, hc *driver.HealthCheck, nh nativeHealth) {
	status := taskplan.HealthUnknown
	nh.WatchHealth(ctx, h, hc.Interval, func(s string) {
		next := taskplan.HealthUnknown
		switch s {
		case "healthy":
			next = taskplan.HealthHealthy
		case "unhealthy":
			next = taskplan.HealthUnhealthy
		}
		if next != status && ctx.Err() == nil {
			status = next
			r.sendCtx(ctx, event{kind: evHealth, container: i, health: status})
		}
	})
}

// execHealthCheck runs container i's health check every interval, bounded
// by timeout.
func (r *runner) execHealthCheck(ctx context.Context, i int, h driver.Handle, hc *driver.HealthCheck) {
	var argv []string
	switch hc.Test[0] {
	case "CMD":
		argv = hc.Test[1:]
	case "CMD-SHELL":
		argv = []string{"/bin/sh", "-c", hc.Test[1]}
	}
	interval, timeout, retries, startPeriod := hc.Interval, hc.Timeout, hc.Retries, hc.StartPeriod
	started := time.Now()
	status := taskplan.HealthUnknown
	failures, passed := 0, false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := r.a.cfg.Driver.Exec(ctx, h, argv, timeout)
		if ctx.Err() != nil {
			return
		}
		next := status
		if err == nil && res.ExitCode == 0 {
			failures, passed, next = 0, true, taskplan.HealthHealthy
		} else if passed || time.Since(started) >= startPeriod {
			failures++
			if failures >= retries {
				next = taskplan.HealthUnhealthy
			}
		}
		if next != status {
			status = next
			r.sendCtx(ctx, event{kind: evHealth, container: i, health: status})
		}
	}
}
