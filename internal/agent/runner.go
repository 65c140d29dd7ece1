package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskplan"
)

// runner owns one task: it alone changes the task's observed state, asks
// taskplan what to do next, and executes the answer through the driver.
// Actions and waits run in goroutines that report back through events.
type runner struct {
	a   *Agent
	arn string
	log *slog.Logger

	updates chan agentproto.Task // the server's latest view (buffer 1)
	events  chan event
	forgot  chan struct{} // closed when the server no longer lists the task
	ended   chan struct{} // closed when run returns: events are no longer read

	// Owned by run.
	task      agentproto.Task
	plan      taskplan.Task
	handles   []driver.Handle
	bindings  [][]driver.Binding
	checks    []context.CancelFunc // health checkers
	inflight  int
	forgotten bool
	pullStart *time.Time
	pullStop  *time.Time
	adopted   *savedTask
}

type eventKind int

const (
	evAction eventKind = iota + 1
	evExited
	evHealth
)

type event struct {
	kind      eventKind
	container int
	action    taskplan.ActionKind
	err       error
	handle    driver.Handle
	status    driver.Status
	health    taskplan.Health
}

func (a *Agent) newRunner(t agentproto.Task, adopted *savedTask) *runner {
	return &runner{
		a: a, arn: t.TaskArn, log: a.log.With("task", taskID(t.TaskArn)),
		updates: make(chan agentproto.Task, 1), events: make(chan event, 16), forgot: make(chan struct{}), ended: make(chan struct{}),
		task: t, adopted: adopted,
	}
}

// update hands the runner the server's latest view of its task.
func (r *runner) update(t agentproto.Task) {
	select {
	case <-r.updates:
	default:
	}
	r.updates <- t
}

// forget tells the runner the server no longer lists its task.
func (r *runner) forget() {
	select {
	case <-r.forgot:
	default:
		close(r.forgot)
	}
}

// send delivers an event to run, or drops it once run has returned.
func (r *runner) send(ev event) {
	select {
	case r.events <- ev:
	case <-r.ended:
	}
}

// run drives the task until it is stopped and forgotten, or until
// agentCtx ends (the agent is stopping): then it abandons the runtime calls
// in flight and returns, leaving the containers as they are for the next
// agent to adopt.
func (r *runner) run(agentCtx context.Context) {
	ctx, cancel := context.WithCancel(agentCtx)
	defer cancel()
	defer close(r.ended)
	if err := r.init(ctx); err != nil {
		r.log.Error("task cannot run", "err", err)
	}
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	forgot := r.forgot // set to nil once handled: a closed channel is always ready
	for {
		d := taskplan.Next(r.plan, time.Now())
		r.report(d)
		r.execute(ctx, d)
		if d.Status == taskplan.StatusStopped && r.inflight == 0 && r.forgotten {
			r.finish()
			return
		}
		if !d.Wake.IsZero() {
			wake.Reset(max(time.Until(d.Wake), time.Millisecond))
		}
		select {
		case ev := <-r.events:
			r.apply(ctx, ev)
		case t := <-r.updates:
			r.setDesired(t)
		case <-forgot:
			forgot = nil
			{
				r.forgotten = true
				r.a.reporter.drop(r.arn)
				if d.Desired != taskplan.DesiredStopped { // not already stopping, on request or on its own
					r.log.Warn("the control plane no longer knows this task; stopping it")
					r.plan.Desired = taskplan.DesiredStopped
					r.plan.StopCode = taskplan.StopCodeUserInitiated
					r.plan.StopReason = "Task is not known to the control plane"
					r.plan.StoppingAt = time.Now()
				}
			}
		case <-wake.C:
		case <-ctx.Done():
			return
		}
	}
}

// init builds the planner's task and, for an adopted task, the observed
// state of its containers.
func (r *runner) init(ctx context.Context) error {
	def := r.task.Definition
	if def == nil {
		return errors.New("the control plane sent no task definition")
	}
	r.plan = taskplan.Task{
		Containers: plannerSpecs(def),
		States:     make([]taskplan.ContainerState, len(def.ContainerDefinitions)),
		CreatedAt:  r.task.CreatedAt,
		Agent:      taskplan.AgentConfig{StopTimeout: r.a.cfg.StopTimeout, StartTimeout: r.a.cfg.StartTimeout},
	}
	r.handles = make([]driver.Handle, len(def.ContainerDefinitions))
	r.bindings = make([][]driver.Binding, len(def.ContainerDefinitions))
	r.checks = make([]context.CancelFunc, len(def.ContainerDefinitions))
	r.setDesired(r.task)
	if r.adopted == nil {
		return r.a.store.addTask(r.task) // a copy: this runner changes r.task
	}
	for i, spec := range r.plan.Containers {
		id, ok := r.adopted.Containers[spec.Name]
		if !ok {
			continue
		}
		h := driver.Handle{ID: id}
		st, err := r.a.cfg.Driver.Inspect(ctx, h)
		s := &r.plan.States[i]
		switch {
		case errors.Is(err, driver.ErrNotFound):
			s.Phase, s.Err, s.FinishedAt = taskplan.PhaseStopped, "CannotInspectContainerError: the container is gone", time.Now()
		case err != nil:
			r.log.Warn("inspect adopted container", "container", spec.Name, "err", err)
			s.Phase, s.Err, s.FinishedAt = taskplan.PhaseStopped, "CannotInspectContainerError: "+err.Error(), time.Now()
		case st.Running:
			r.handles[i] = h
			r.bindings[i] = st.Bindings
			s.Phase, s.StartedAt = taskplan.PhaseRunning, st.StartedAt
			r.watch(ctx, i, h)
		case st.Exited:
			r.handles[i] = h
			code := st.ExitCode
			s.Phase, s.ExitCode, s.StartedAt, s.FinishedAt = taskplan.PhaseStopped, &code, st.StartedAt, st.FinishedAt
		default:
			r.handles[i] = h
			s.Phase = taskplan.PhaseCreated
		}
	}
	r.log.Info("adopted task", "containers", len(r.adopted.Containers))
	return nil
}

// setDesired applies the server's desired status.
func (r *runner) setDesired(t agentproto.Task) {
	r.task.DesiredStatus, r.task.StopCode, r.task.StoppedReason = t.DesiredStatus, t.StopCode, t.StoppedReason
	if t.DesiredStatus == taskplan.DesiredStopped && r.plan.Desired != taskplan.DesiredStopped {
		r.plan.Desired = taskplan.DesiredStopped
		r.plan.StopCode, r.plan.StopReason = t.StopCode, t.StoppedReason
		r.plan.StoppingAt = time.Now()
	} else if r.plan.Desired == "" {
		r.plan.Desired = t.DesiredStatus
	}
}

// execute starts the decision's actions.
func (r *runner) execute(ctx context.Context, d taskplan.Decision) {
	for _, act := range d.Actions {
		i := act.Container
		s := &r.plan.States[i]
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
				spec.Labels[labelAgent] = r.a.instanceID
			}
			r.async(ctx, act.Timeout, func(ctx context.Context) event {
				if err != nil {
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
			if h.ID == "" {
				r.inflight++
				go r.send(event{kind: evExited, container: i})
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

// async runs fn in a goroutine (bounded by timeout when > 0) and sends its event.
func (r *runner) async(ctx context.Context, timeout time.Duration, fn func(context.Context) event) {
	r.inflight++
	go func() {
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
			if err := r.a.store.updateTask(r.arn, func(t *savedTask) {
				t.Containers[name] = ev.handle.ID
			}); err != nil {
				r.log.Error("persist container", "err", err)
			}
		case taskplan.Start:
			s.Phase, s.StartedAt = taskplan.PhaseRunning, now
			r.bindings[ev.container] = ev.status.Bindings
			r.watch(ctx, ev.container, r.handles[ev.container])
		case taskplan.Stop:
			if ev.err != nil {
				r.log.Warn("stop container", "container", name, "err", ev.err)
			}
		}
	case evExited:
		if r.handles[ev.container].ID == "" {
			r.inflight-- // a stop of a container that never existed
		}
		s.Phase, s.FinishedAt = taskplan.PhaseStopped, now
		if ev.err == nil {
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
	rep := &report{TaskArn: r.arn, Status: d.Status, PullStartedAt: r.pullStart, PullStoppedAt: r.pullStop, Started: !d.StartedAt.IsZero()}
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
	r.a.reporter.put(rep)
}

// finish ends a stopped task the server no longer lists: its containers
// are removed after the cleanup wait.
func (r *runner) finish() {
	handles := append([]driver.Handle(nil), r.handles...)
	r.a.scheduleCleanup(r.arn, handles)
}

// taskReported is called once a task's STOPPED report is acknowledged.
func (a *Agent) taskReported(taskArn string) {
	if err := a.store.updateTask(taskArn, func(t *savedTask) { t.Reported = "STOPPED" }); err != nil {
		a.log.Warn("persist a task's acknowledgement", "task", taskID(taskArn), "err", err)
	}
}

// scheduleCleanup removes a finished task's containers and state after the
// cleanup wait (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION).
func (a *Agent) scheduleCleanup(taskArn string, handles []driver.Handle) {
	time.AfterFunc(a.cfg.TaskCleanupWait, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, h := range handles {
			if h.ID == "" {
				continue
			}
			if err := a.cfg.Driver.Remove(ctx, h); err != nil && !errors.Is(err, driver.ErrNotFound) {
				a.log.Warn("remove container", "id", h.ID, "err", fmt.Sprint(err))
			}
		}
		if err := a.store.deleteTask(taskArn); err != nil {
			a.log.Warn("forget a cleaned-up task", "task", taskID(taskArn), "err", err)
		}
	})
}
