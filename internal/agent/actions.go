package agent

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskplan"
)

// execute starts the decision's actions.
func (r *runner) execute(ctx context.Context, d taskplan.Decision) {
	for _, act := range d.Actions {
		i := act.Container
		s := &r.plan.States[i]
		if r.held && act.Kind != taskplan.Stop {
			continue // until the server lists the task
		}
		switch act.Kind {
		case taskplan.Pull:
			s.Applying = taskplan.Pull
			if r.pullStart == nil {
				now := time.Now()
				r.pullStart = &now
			}
			image := deref(r.task.Definition.ContainerDefinitions[i].Image)
			r.async(ctx, act.Timeout, func(ctx context.Context) event {
				return event{kind: evAction, container: i, action: taskplan.Pull, err: r.a.cfg.Driver.Pull(ctx, image, r.a.cfg.PullPolicy)}
			})
		case taskplan.Create:
			s.Applying = taskplan.Create
			spec, err := r.a.driverSpec(&r.task, i)
			if err == nil {
				withSecrets(&spec, r.secretVals[r.plan.Containers[i].Name])
				spec.Labels[labelAgent] = r.a.instanceID
				if r.networked() {
					inSandbox(&spec, r.sandbox.ID)
				}
			}
			r.async(ctx, act.Timeout, func(ctx context.Context) event {
				if err != nil {
					return event{kind: evAction, container: i, action: taskplan.Create, err: err}
				}
				if err := r.initAWSLogs(ctx, i); err != nil {
					return event{kind: evAction, container: i, action: taskplan.Create, err: err}
				}
				h, err := r.a.cfg.Driver.Create(ctx, spec)
				return event{kind: evAction, container: i, action: taskplan.Create, handle: h, err: err}
			})
		case taskplan.Start:
			s.Applying = taskplan.Start
			h := r.handles[i]
			r.async(ctx, act.Timeout, func(ctx context.Context) event {
				st, err := r.a.cfg.Driver.Start(ctx, h)
				return event{kind: evAction, container: i, action: taskplan.Start, status: st, err: err}
			})
		case taskplan.Stop:
			s.StopSentAt = time.Now()
			h := r.handles[i]
			if h.ID == "" { // never created: it stops at once
				r.async(ctx, 0, func(context.Context) event { return event{kind: evExited, container: i} })
				continue
			}
			r.async(ctx, 0, func(ctx context.Context) event {
				return event{kind: evAction, container: i, action: taskplan.Stop, err: r.a.cfg.Driver.Stop(ctx, h, act.Timeout)}
			})
		}
	}
}

// labelAgent marks the containers of one agent (several agents may share a
// container engine).
const labelAgent = "berth.agent"

// async runs fn in a goroutine (bounded by timeout when > 0) and sends its
// event. The call counts as work until its event is delivered.
func (r *runner) async(ctx context.Context, timeout time.Duration, fn func(context.Context) event) {
	r.inflight++
	r.enter()
	go func() {
		defer r.leave(1)
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		r.send(fn(ctx))
	}()
}

// watch waits for container i to exit.
func (r *runner) watch(ctx context.Context, i int, h driver.Handle) {
	r.shipLogs(i, h)
	go func() {
		for ctx.Err() == nil {
			st, err := r.a.cfg.Driver.Wait(ctx, h)
			if err == nil || errors.Is(err, driver.ErrNotFound) {
				r.send(event{kind: evExited, container: i, status: st, err: err})
				return
			}
			if ctx.Err() == nil {
				r.log.Warn("wait for container", "err", err)
				time.Sleep(time.Second)
			}
		}
	}()
	if r.plan.Containers[i].HealthCheck {
		hctx, cancel := context.WithCancel(ctx)
		r.checks[i] = cancel
		go r.healthCheck(hctx, i, h)
	}
}

// apply records an event in the observed state.
func (r *runner) apply(ctx context.Context, ev event) {
	switch ev.kind {
	case evNetwork:
		r.applyNetwork(ev)
		return
	case evSecrets:
		r.applySecrets(ev)
		return
	}
	s := &r.plan.States[ev.container]
	name := r.plan.Containers[ev.container].Name
	now := time.Now()
	switch ev.kind {
	case evAction:
		r.inflight--
		if ev.action != taskplan.Stop {
			s.Applying = 0
		}
		if ev.err != nil && ev.action != taskplan.Stop {
			s.Err = errorReason(ev.action, ev.err)
			s.FinishedAt = now
			r.log.Warn("container action failed", "container", name, "action", ev.action.String(), "err", ev.err)
			return
		}
		switch ev.action {
		case taskplan.Pull:
			s.Phase = taskplan.PhasePulled
			r.pullStop = &now
		case taskplan.Create:
			s.Phase = taskplan.PhaseCreated
			r.handles[ev.container] = ev.handle
			r.info[ev.container].created = now // until the runtime says
			if err := r.a.store.updateTask(r.arn, func(t *savedTask) {
				t.Containers[name] = ev.handle.ID
			}); err != nil {
				r.log.Error("persist container", "err", err)
			}
		case taskplan.Start:
			s.Phase, s.StartedAt = taskplan.PhaseRunning, now
			r.bindings[ev.container] = ev.status.Bindings
			r.info[ev.container].learn(ev.status)
			r.watch(ctx, ev.container, r.handles[ev.container])
		case taskplan.Stop:
			if ev.err != nil {
				r.log.Warn("stop container", "container", name, "err", ev.err)
			} else if s.Phase != taskplan.PhaseStopped && !r.exiting[ev.container] {
				// It has exited: its watch's event is work still to do.
				r.exiting[ev.container] = true
				r.enter()
			}
		}
	case evExited:
		if r.handles[ev.container].ID == "" {
			r.inflight-- // a stop of a container that never existed
		}
		if r.exiting[ev.container] {
			r.exiting[ev.container] = false
			r.leave(1)
		}
		s.Phase, s.FinishedAt = taskplan.PhaseStopped, now
		if ev.err == nil {
			r.info[ev.container].learn(ev.status)
			code := ev.status.ExitCode
			s.ExitCode = &code
			if ev.status.OOMKilled {
				s.Err = "OutOfMemoryError: Container killed due to memory usage"
			}
		}
		if c := r.checks[ev.container]; c != nil {
			c()
			r.checks[ev.container] = nil
		}
	case evHealth:
		if s.Health != ev.health {
			r.info[ev.container].healthSince = now
		}
		s.Health = ev.health
		if ev.health == taskplan.HealthHealthy && s.HealthyAt.IsZero() {
			s.HealthyAt = now
		}
	}
}

// errorReason is the ECS container reason for a failed action.
func errorReason(kind taskplan.ActionKind, err error) string {
	msg := err.Error()
	for _, known := range []error{driver.ErrCannotPull, driver.ErrCannotCreate, driver.ErrCannotStart} {
		if errors.Is(err, known) {
			if !strings.HasPrefix(msg, known.Error()) {
				msg = known.Error() + ": " + msg
			}
			return msg
		}
	}
	switch kind {
	case taskplan.Pull:
		return "CannotPullContainerError: " + msg
	case taskplan.Create:
		return "CannotCreateContainerError: " + msg
	}
	return "CannotStartContainerError: " + msg
}

// report turns a decision into the task's report.
func (r *runner) report(d taskplan.Decision) {
	if r.forgotten {
		return
	}
	rep := &report{TaskArn: r.arn, Status: r.networkStatus(d.Status), PullStartedAt: r.pullStart, PullStoppedAt: r.pullStop, Started: !d.StartedAt.IsZero()}
	if d.Status != taskplan.StatusStopped && d.Desired == taskplan.DesiredStopped && r.task.DesiredStatus != taskplan.DesiredStopped {
		rep.Status = "STOPPING" // stopping on its own: an essential container exited, or it failed to start
	}
	if d.Desired == taskplan.DesiredStopped {
		rep.Reason = d.StoppedReason
	}
	if !d.ExecutionStoppedAt.IsZero() {
		t := d.ExecutionStoppedAt
		rep.ExecutionStoppedAt = &t
	}
	health := map[string]string{}
	checks := false
	for i, c := range d.Containers {
		spec := r.plan.Containers[i]
		cr := containerReport{Name: spec.Name, RuntimeID: r.handles[i].ID, Status: c.Status, Reason: c.Reason}
		if c.ExitCode != nil {
			code := int32(*c.ExitCode)
			cr.ExitCode = &code
		}
		if c.Status == taskplan.StatusRunning || c.Status == taskplan.StatusStopped {
			for _, b := range r.bindings[i] {
				cr.Bindings = append(cr.Bindings, types.NetworkBinding{BindIP: aws.String(b.HostIP),
					ContainerPort: aws.Int32(int32(b.ContainerPort)), HostPort: aws.Int32(int32(b.HostPort)),
					Protocol: types.TransportProtocol(b.Protocol)})
			}
		}
		rep.Containers = append(rep.Containers, cr)
		health[spec.Name] = string(c.Health)
		checks = checks || spec.HealthCheck
	}
	if checks {
		rep.Health = health
	}
	r.last = rep
	r.a.reporter.put(rep)
	r.publishMetadata(d)
}
