package agent

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskplan"
)

// runner owns one task until it is STOPPED: it alone changes the task's
// observed state, asks taskplan what to do next, and executes the answer
// through the driver. Actions and waits run in goroutines that report back
// through events. Once the task is STOPPED with no runtime call in flight
// the runner records stoppedAt and ends; the task is then finished's.
//
// Every input (the start, a server update, the server forgetting the task,
// an event) is counted in the agent's work tally until run has acted on
// it; what it leaves unread when it ends is discounted by close.
type runner struct {
	a   *Agent
	arn string
	log *slog.Logger

	updates chan agentproto.Task // the server's latest view (buffer 1)
	events  chan event
	forgot  chan struct{} // closed when the server no longer lists the task
	ended   chan struct{} // closed when run returns: events are no longer read

	mu         sync.Mutex // guards the fields below
	queued     int        // inputs counted in the tally and not acted on
	closed     bool       // ended and discounted: inputs are no longer counted
	forgetting bool       // forgot is closed
	status     string     // the task status last decided

	// Owned by run.
	task      agentproto.Task
	plan      taskplan.Task
	handles   []driver.Handle
	bindings  [][]driver.Binding
	info      []containerInfo      // for the task metadata endpoint
	checks    []context.CancelFunc // health checkers
	exiting   []bool               // stopped, its exit event not yet applied (counted as work)
	inflight  int
	forgotten bool
	pullStart *time.Time
	pullStop  *time.Time
	adopted   *savedTask
	// held: adopted from an older agent's record, which does not say
	// whether the task was still wanted; nothing is pulled, created or
	// started until the server lists it.
	held  bool
	saved struct {
		desired  string // the desired status in the record
		stopping bool   // the record has the stop
	}
	last *report // the report last put
	// The task network (awsvpc tasks; runner_network.go).
	net     netPhase
	sandbox driver.Sandbox
	// The task's secrets (secrets.go): in memory only.
	sec        secPhase
	secretVals map[string]map[string]string // container → name → value
}

type eventKind int

const (
	evAction eventKind = iota + 1
	evExited
	evHealth
	evNetwork // provision or teardown of the task network ended
	evSecrets // the task's secrets were fetched, or not
)

type event struct {
	kind      eventKind
	container int
	action    taskplan.ActionKind
	err       error
	handle    driver.Handle
	status    driver.Status
	health    taskplan.Health
	sandbox   driver.Sandbox
	secrets   map[string]map[string]string
}

// newRunner returns a runner for t; adopted is its record when the agent
// restarted. Its start counts as an input.
func (a *Agent) newRunner(t agentproto.Task, adopted *savedTask) *runner {
	r := &runner{
		a: a, arn: t.TaskArn, log: a.log.With("task", taskID(t.TaskArn)),
		updates: make(chan agentproto.Task, 1), events: make(chan event, 16), forgot: make(chan struct{}), ended: make(chan struct{}),
		task: t, adopted: adopted, queued: 1,
	}
	a.work.add(1)
	return r
}

// run drives the task until it is STOPPED with nothing in flight (then it
// records the stop and returns true), or until agentCtx ends (the agent is
// stopping): then it abandons the runtime calls in flight and returns
// false, leaving the containers as they are for the next agent to adopt.
func (r *runner) run(agentCtx context.Context) bool {
	ctx, cancel := context.WithCancel(agentCtx)
	defer cancel()
	defer close(r.ended)
	if err := r.init(ctx); err != nil {
		r.log.Error("task cannot run", "err", err)
	}
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	forgot := r.forgot // set to nil once handled: a closed channel is always ready
	acted := 1         // the start
	for {
		d := taskplan.Next(r.plan, time.Now())
		r.setStatus(d.Status)
		r.report(d)
		if d.Status == taskplan.StatusStopped && r.inflight == 0 {
			if !r.needsTeardown() {
				r.finish(d)
				return true
			}
			r.teardown(ctx)
		}
		r.persist(d)
		r.execute(ctx, r.holdForNetwork(ctx, r.holdForSecrets(ctx, d)))
		r.leave(acted)
		acted = 0
		if !d.Wake.IsZero() {
			wake.Reset(max(time.Until(d.Wake), time.Millisecond))
		}
		select {
		case ev := <-r.events:
			r.apply(ctx, ev)
			acted = 1
		case t := <-r.updates:
			r.setDesired(t)
			acted = 1
		case <-forgot:
			forgot, acted = nil, 1
			r.forgotten = true
			r.a.reporter.drop(r.arn)
			if err := r.a.store.updateTask(r.arn, func(t *savedTask) { t.Reported = "STOPPED" }); err != nil {
				r.log.Warn("persist that the server forgot the task", "err", err)
			}
			if d.Desired != taskplan.DesiredStopped { // not already stopping, on request or on its own
				r.log.Warn("the control plane no longer knows this task; stopping it")
				r.plan.Desired = taskplan.DesiredStopped
				r.plan.StopCode = taskplan.StopCodeUserInitiated
				r.plan.StopReason = "Task is not known to the control plane"
				r.plan.StoppingAt = time.Now()
			}
		case <-wake.C:
		case <-ctx.Done():
			return false
		}
	}
}

// init builds the planner's task and, for an adopted task, the observed
// state of its containers and the stop its record holds.
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
	r.info = make([]containerInfo, len(def.ContainerDefinitions))
	r.checks = make([]context.CancelFunc, len(def.ContainerDefinitions))
	r.exiting = make([]bool, len(def.ContainerDefinitions))
	if r.adopted == nil {
		r.setDesired(r.task)
		r.saved.desired = r.task.DesiredStatus
		return r.a.store.addTask(r.task) // a copy: this runner changes r.task
	}
	rec := r.adopted
	if s := rec.Stopping; s != nil {
		r.plan.Desired = taskplan.DesiredStopped
		r.plan.StopCode, r.plan.StopReason, r.plan.StoppingAt = s.Code, s.Reason, s.At
	}
	if rec.Desired != "" {
		r.task.DesiredStatus = rec.Desired
	}
	r.setDesired(r.task)
	r.saved.desired, r.saved.stopping = rec.Desired, rec.Stopping != nil
	r.held = rec.Format < recordFormat
	for i, spec := range r.plan.Containers {
		id, ok := rec.Containers[spec.Name]
		if !ok {
			continue
		}
		r.adoptContainer(ctx, i, driver.Handle{ID: id})
	}
	r.log.Info("adopted task", "containers", len(rec.Containers), "desired", r.task.DesiredStatus, "olderRecord", r.held)
	if r.networked() {
		for _, s := range r.plan.States {
			if s.Phase == taskplan.PhaseRunning || s.Phase == taskplan.PhaseCreated {
				r.provision(ctx, true) // attach again (idempotent) and learn the sandbox
				break
			}
		}
	}
	return nil
}

// adoptContainer sets container i's observed state from the runtime.
func (r *runner) adoptContainer(ctx context.Context, i int, h driver.Handle) {
	st, err := r.a.cfg.Driver.Inspect(ctx, h)
	s := &r.plan.States[i]
	switch {
	case errors.Is(err, driver.ErrNotFound):
		s.Phase, s.Err, s.FinishedAt = taskplan.PhaseStopped, "CannotInspectContainerError: the container is gone", time.Now()
	case err != nil:
		r.log.Warn("inspect adopted container", "container", r.plan.Containers[i].Name, "err", err)
		s.Phase, s.Err, s.FinishedAt = taskplan.PhaseStopped, "CannotInspectContainerError: "+err.Error(), time.Now()
	case st.Running:
		r.info[i].learn(st)
		r.handles[i] = h
		r.bindings[i] = st.Bindings
		s.Phase, s.StartedAt = taskplan.PhaseRunning, st.StartedAt
		r.watch(ctx, i, h)
	case st.Exited:
		r.info[i].learn(st)
		r.handles[i] = h
		r.shipLogs(i, h) // what it wrote while no agent ran
		code := st.ExitCode
		s.Phase, s.ExitCode, s.StartedAt, s.FinishedAt = taskplan.PhaseStopped, &code, st.StartedAt, st.FinishedAt
	default:
		r.handles[i] = h
		s.Phase = taskplan.PhaseCreated
	}
}

// setDesired applies the server's desired status. The server listing the
// task releases a held runner.
func (r *runner) setDesired(t agentproto.Task) {
	r.held = false
	r.task.DesiredStatus, r.task.StopCode, r.task.StoppedReason = t.DesiredStatus, t.StopCode, t.StoppedReason
	if t.Definition != nil { // the whole task, not a delta: what the metadata endpoint serves of it now
		r.task.LaunchType, r.task.Group, r.task.Tags, r.task.InstanceTags = t.LaunchType, t.Group, t.Tags, t.InstanceTags
	}
	if t.DesiredStatus == taskplan.DesiredStopped && r.plan.Desired != taskplan.DesiredStopped {
		r.plan.Desired = taskplan.DesiredStopped
		r.plan.StopCode, r.plan.StopReason = t.StopCode, t.StoppedReason
		r.plan.StoppingAt = time.Now()
	} else if r.plan.Desired == "" {
		r.plan.Desired = t.DesiredStatus
	}
}
