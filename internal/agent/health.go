package agent

import (
	"context"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskplan"
)

// healthCheck runs container i's health check as ECS defines it: every
// interval, bounded by timeout; HEALTHY on success; UNHEALTHY after retries
// consecutive failures, except that failures during startPeriod do not
// count until the first success.
func (r *runner) healthCheck(ctx context.Context, i int, h driver.Handle) {
	hc := r.task.Definition.ContainerDefinitions[i].HealthCheck
	if hc == nil || len(hc.Command) == 0 {
		return
	}
	var argv []string
	switch hc.Command[0] {
	case "CMD":
		argv = hc.Command[1:]
	case "CMD-SHELL":
		if len(hc.Command) < 2 {
			return
		}
		argv = []string{"/bin/sh", "-c", hc.Command[1]}
	case "NONE":
		return
	default:
		argv = hc.Command
	}
	interval, timeout, retries, startPeriod := 30*time.Second, 5*time.Second, 3, time.Duration(0)
	if hc.Interval != nil {
		interval = time.Duration(*hc.Interval) * time.Second
	}
	if hc.Timeout != nil {
		timeout = time.Duration(*hc.Timeout) * time.Second
	}
	if hc.Retries != nil {
		retries = int(*hc.Retries)
	}
	if hc.StartPeriod != nil {
		startPeriod = time.Duration(*hc.StartPeriod) * time.Second
	}
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
			select {
			case r.events <- event{kind: evHealth, container: i, health: status}:
			case <-ctx.Done():
				return
			}
		}
	}
}
