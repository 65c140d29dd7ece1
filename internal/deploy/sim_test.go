package deploy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/scheduler"
)

// epoch is t+0s of every simulation.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// taskMemory is every simulated task's memory reservation, in MiB.
const taskMemory = 1024

// sim is a small cluster around the reconciler, playing the shell's part:
// it applies results, places starts with scheduler.Place (resources are
// held until a task is STOPPED, as on ECS), and lets scripts and property
// tests move tasks and instances.
type sim struct {
	now       time.Time
	svc       Service
	deps      []Deployment
	tasks     []Task
	instances []simInstance
	events    []Event
	version   uint64
	cfg       Config
	hc        map[string]bool // task definition -> health checks
	seq       map[string]int  // task definition -> last task number
	nextDep   int
	pending   []Start // starts of the last reconcile, not placed yet
	last      Result
	prevLast  *Deployment // Service.LastCompleted before the last reconcile
	// bridge: the service's target groups have target type instance
	// (bridge network mode): targets are the instance id and a host port;
	// otherwise ip (awsvpc): the task's address and the container port.
	bridge bool
	// check, when set, runs on every reconcile (property tests).
	check func(in Input, out Result)
}

type simInstance struct {
	Instance
	mem int64
}

func newSim(svc Service, cfg Config) *sim {
	return &sim{now: epoch, svc: svc, cfg: cfg, hc: map[string]bool{}, seq: map[string]int{}}
}

func (s *sim) rel(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return "t+" + t.Sub(epoch).String()
}

// addDeployment makes a new PRIMARY deployment of td, demoting the current
// one (what UpdateService does).
func (s *sim) addDeployment(td string) *Deployment {
	s.nextDep++
	for i := range s.deps {
		s.deps[i].Status = StatusActive
	}
	id := fmt.Sprintf("ecs-svc/%d", s.nextDep)
	s.deps = append([]Deployment{{
		ID: id, Status: StatusPrimary, TaskDefinition: td, HealthChecks: s.hc[td],
		DesiredCount: s.svc.DesiredCount, RolloutState: RolloutInProgress,
		RolloutStateReason: inProgressReason(id), CreatedAt: s.now, UpdatedAt: s.now,
	}}, s.deps...)
	return &s.deps[0]
}

func (s *sim) input() Input {
	in := Input{
		Now: s.now, Service: s.svc, Deployments: s.deps, Tasks: s.tasks,
		Events: s.events, ClusterVersion: s.version, Config: s.cfg,
	}
	for _, i := range s.instances {
		in.Instances = append(in.Instances, i.Instance)
	}
	return in
}

// reconcile runs one round and applies everything but the starts.
func (s *sim) reconcile() Result {
	in := s.input()
	out := Reconcile(in)
	if s.check != nil {
		s.check(in, out)
	}
	s.last = out
	s.prevLast = s.svc.LastCompleted
	changed := false
	for _, l := range out.Lost {
		t := s.task(l.TaskID)
		t.LastStatus, t.DesiredStatus = TaskStopped, TaskStopped
		t.StopCode, t.StoppedReason, t.StoppedAt = l.StopCode, l.Reason, s.now
		changed = true
	}
	for _, st := range out.Stops {
		t := s.task(st.TaskID)
		t.DesiredStatus, t.StopCode, t.StoppedReason, t.StoppingAt = TaskStopped, st.StopCode, st.Reason, s.now
		changed = true
	}
	if changed {
		s.version++
	}
	s.deps = out.Deployments
	s.svc.LastCompleted = out.LastCompleted
	s.svc.DesiredCount = out.DesiredCount
	for _, m := range out.Events {
		s.events = append(s.events, Event{At: s.now, Message: m})
	}
	s.pending = out.Starts
	return out
}

// placed is the outcome of placing one Start.
type placed struct {
	start  Start
	ids    []string
	on     []string
	failed *PlacementFailure
}

// place places the pending starts and records the outcome.
func (s *sim) place() []placed {
	var out []placed
	for _, st := range s.pending {
		p := placed{start: st}
		plan := scheduler.Place(s.schedulerView(), s.request(st), nil)
		td := st.TaskDefinition
		for _, pl := range plan.Placements {
			s.seq[td]++
			id := fmt.Sprintf("%s%d", td, s.seq[td])
			in := s.instance(pl.InstanceID)
			s.tasks = append(s.tasks, Task{
				ID: id, DeploymentID: st.DeploymentID, InstanceID: in.ID, AvailabilityZone: in.AvailabilityZone,
				LastStatus: "PENDING", DesiredStatus: TaskRunning, Health: HealthUnknown, CreatedAt: s.now,
			})
			p.ids = append(p.ids, id)
			p.on = append(p.on, in.ID)
		}
		if len(p.ids) > 0 {
			s.version++
			s.events = append(s.events, Event{At: s.now, Message: StartedMessage(s.svc.Name, p.ids, st.ReplacesUnhealthy)})
		}
		want := st.Count
		if len(st.Instances) > 0 {
			want = len(st.Instances)
		}
		d := s.dep(st.DeploymentID)
		if len(p.ids) < want {
			f := &PlacementFailure{At: s.now, ClusterVersion: s.version}
			if len(plan.Failures) > 0 {
				f.Reason, f.InstanceID = plan.Failures[0].Reason, plan.Failures[0].ARN
			}
			p.failed = f
			if d != nil {
				d.Placement = f
			}
		} else if d != nil {
			d.Placement = nil
		}
		out = append(out, p)
	}
	s.pending = nil
	return out
}

func (s *sim) request(st Start) scheduler.Request {
	req := scheduler.Request{
		Count: st.Count,
		Task:  scheduler.Task{Memory: taskMemory},
		Group: "service:" + s.svc.Name,
		Strategies: []scheduler.Strategy{
			{Type: scheduler.StrategySpread, Field: "attribute:ecs.availability-zone"},
			{Type: scheduler.StrategySpread, Field: scheduler.FieldInstanceID},
		},
	}
	if len(st.Instances) > 0 {
		req.Instances, req.Strategies = st.Instances, nil
	}
	return req
}

// schedulerView is the cluster as the scheduler sees it: a task holds its
// memory until it is STOPPED.
func (s *sim) schedulerView() []*scheduler.Instance {
	var out []*scheduler.Instance
	for _, in := range s.instances {
		if in.Status != InstanceActive && in.Status != InstanceDraining {
			continue
		}
		si := &scheduler.Instance{
			ID: in.ID, ARN: in.ID, Status: in.Status, Connected: in.Connected,
			Attributes:  map[string]string{"ecs.availability-zone": in.AvailabilityZone},
			Registered:  scheduler.Resources{CPU: 4096, Memory: in.mem},
			GroupCounts: map[string]int{},
		}
		for _, t := range s.tasks {
			if t.InstanceID == in.ID && t.LastStatus != TaskStopped {
				si.Used.Memory += taskMemory
				si.Tasks++
				si.GroupCounts["service:"+s.svc.Name]++
			}
		}
		out = append(out, si)
	}
	return out
}

func (s *sim) task(id string) *Task {
	for i := range s.tasks {
		if s.tasks[i].ID == id {
			return &s.tasks[i]
		}
	}
	panic("no task " + id)
}

func (s *sim) dep(id string) *Deployment {
	for i := range s.deps {
		if s.deps[i].ID == id {
			return &s.deps[i]
		}
	}
	return nil
}

func (s *sim) instance(id string) *simInstance {
	for i := range s.instances {
		if s.instances[i].ID == id {
			return &s.instances[i]
		}
	}
	return nil
}

// Task moves, as an agent would report them.

func (s *sim) setRunning(t *Task) {
	if preRunning(t.LastStatus) && t.DesiredStatus != TaskStopped {
		t.LastStatus, t.StartedAt = TaskRunning, s.now
		s.version++
	}
}

func (s *sim) setHealth(t *Task, h string) {
	s.setRunning(t)
	if t.LastStatus == TaskRunning && t.Health != h {
		t.Health = h
		s.version++
	}
}

func (s *sim) failStart(t *Task) {
	if preRunning(t.LastStatus) {
		t.LastStatus, t.DesiredStatus, t.StoppedAt = TaskStopped, TaskStopped, s.now
		t.StopCode, t.StoppedReason = StopTaskFailedToStart, "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
		s.version++
	}
}

// tgARN is the ARN of the service's target group k (1-based).
func tgARN(k int) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-%d/6d0ecf831eec9f0%d", k, k)
}

// setTarget sets the health of a live task's target in target group k
// (every group of the service when k is 0), registering it first when it
// is not registered there yet, as the shell and ELB would report it. An
// unhealthy target fails with code (a status code: a response-code
// mismatch) or, without one, a connection failure.
func (s *sim) setTarget(t *Task, k int, state, code string) {
	if t.DesiredStatus == TaskStopped || t.LastStatus == TaskStopped {
		return
	}
	groups := []int{k}
	if k == 0 {
		groups = nil
		for g := 1; g <= s.svc.TargetGroups; g++ {
			groups = append(groups, g)
		}
	}
	idx := slices.IndexFunc(s.tasks, func(x Task) bool { return x.ID == t.ID })
	for _, g := range groups {
		tg := Target{TargetGroupARN: tgARN(g), ID: fmt.Sprintf("10.0.%d.%d", idx/250, idx%250+4), Port: 8080, State: state}
		if s.bridge {
			tg.ID, tg.Port = t.InstanceID, 32768+idx
		}
		switch state {
		case TargetInitial:
			tg.Reason, tg.Description = "Elb.RegistrationInProgress", "Target registration is in progress"
		case TargetUnhealthy:
			tg.Reason, tg.Description = "Target.FailedHealthChecks", "Health checks failed"
			if code != "" {
				tg.Reason, tg.Description = "Target.ResponseCodeMismatch", "Health checks failed with these codes: ["+code+"]"
			}
		}
		i := slices.IndexFunc(t.Targets, func(x Target) bool { return x.TargetGroupARN == tg.TargetGroupARN })
		switch {
		case i < 0:
			t.Targets = append(slices.Clone(t.Targets), tg)
		case t.Targets[i] != tg:
			t.Targets = slices.Clone(t.Targets)
			t.Targets[i] = tg
		default:
			continue
		}
		s.version++
	}
}

func (s *sim) exit(t *Task) {
	if t.LastStatus != TaskStopped {
		t.LastStatus, t.DesiredStatus, t.StoppedAt = TaskStopped, TaskStopped, s.now
		t.StopCode, t.StoppedReason = StopEssentialContainerExited, "Essential container in task exited"
		s.version++
	}
}

// finishStops completes every stop in flight, except on instances whose
// agent is disconnected.
func (s *sim) finishStops() {
	for i := range s.tasks {
		t := &s.tasks[i]
		in := s.instance(t.InstanceID)
		if t.DesiredStatus == TaskStopped && t.LastStatus != TaskStopped && (in == nil || in.Connected) {
			t.LastStatus, t.StoppedAt = TaskStopped, s.now
			s.version++
		}
	}
}

// selectTasks returns the tasks named, or every task f accepts.
func (s *sim) selectTasks(ids []string, f func(*Task) bool) ([]*Task, error) {
	var out []*Task
	if len(ids) == 0 {
		for i := range s.tasks {
			if f(&s.tasks[i]) {
				out = append(out, &s.tasks[i])
			}
		}
		return out, nil
	}
	for _, id := range ids {
		found := false
		for i := range s.tasks {
			if s.tasks[i].ID == id {
				out = append(out, &s.tasks[i])
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no task %s", id)
		}
	}
	return out, nil
}

func pendingLive(t *Task) bool {
	return preRunning(t.LastStatus) && t.DesiredStatus != TaskStopped
}

func runningLive(t *Task) bool {
	return t.LastStatus == TaskRunning && t.DesiredStatus != TaskStopped
}

// Printing.

func (s *sim) formatResult(out Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", s.rel(s.now))
	for _, l := range out.Lost {
		fmt.Fprintf(&b, "lost %s: %s\n", l.TaskID, l.Reason)
	}
	// Stops with the same reason on one line.
	for i := 0; i < len(out.Stops); {
		j := i
		var ids []string
		for ; j < len(out.Stops) && out.Stops[j].Reason == out.Stops[i].Reason; j++ {
			ids = append(ids, out.Stops[j].TaskID)
		}
		fmt.Fprintf(&b, "stop %s: %s\n", strings.Join(ids, " "), out.Stops[i].Reason)
		i = j
	}
	for _, st := range out.Starts {
		if len(st.Instances) > 0 {
			fmt.Fprintf(&b, "start %s %s on %s", st.DeploymentID, st.TaskDefinition, strings.Join(st.Instances, " "))
		} else {
			fmt.Fprintf(&b, "start %s %s count=%d", st.DeploymentID, st.TaskDefinition, st.Count)
		}
		if st.ReplacesUnhealthy > 0 {
			fmt.Fprintf(&b, " replacing-unhealthy=%d", st.ReplacesUnhealthy)
		}
		b.WriteString("\n")
	}
	if len(out.Lost)+len(out.Stops)+len(out.Starts) == 0 {
		b.WriteString("no actions\n")
	}
	for _, e := range out.Events {
		fmt.Fprintf(&b, "event: %s\n", e)
	}
	b.WriteString(s.formatDeployments())
	switch {
	case out.LastCompleted == nil && s.prevLast != nil:
		b.WriteString("last completed: none\n")
	case out.LastCompleted != nil && (s.prevLast == nil || s.prevLast.ID != out.LastCompleted.ID):
		fmt.Fprintf(&b, "last completed: %s %s\n", out.LastCompleted.ID, out.LastCompleted.TaskDefinition)
	}
	if s.svc.SchedulingStrategy == Daemon {
		fmt.Fprintf(&b, "desired: %d\n", out.DesiredCount)
	}
	fmt.Fprintf(&b, "wake: %s\n", s.rel(out.Wake))
	return b.String()
}

func (s *sim) formatDeployments() string {
	var b strings.Builder
	for _, d := range s.deps {
		fmt.Fprintf(&b, "%-7s %s %s desired=%d running=%d pending=%d failed=%d %s: %s\n",
			d.Status, d.ID, d.TaskDefinition, d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks,
			d.RolloutState, d.RolloutStateReason)
	}
	return b.String()
}

func (s *sim) formatPlaced(ps []placed) string {
	var b strings.Builder
	if len(ps) == 0 {
		return "nothing to place\n"
	}
	for _, p := range ps {
		var parts []string
		for i, id := range p.ids {
			parts = append(parts, id+"->"+p.on[i])
		}
		if len(parts) == 0 {
			parts = []string{"none"}
		}
		fmt.Fprintf(&b, "placed %s\n", strings.Join(parts, " "))
		if p.failed != nil {
			fmt.Fprintf(&b, "placement failed: %s on %s\n", p.failed.Reason, p.failed.InstanceID)
		}
		if len(p.ids) > 0 {
			fmt.Fprintf(&b, "event: %s\n", StartedMessage(s.svc.Name, p.ids, p.start.ReplacesUnhealthy))
		}
	}
	return b.String()
}

// formatTasks prints the tasks that are not STOPPED, per instance.
func (s *sim) formatTasks() string {
	var b strings.Builder
	for _, in := range s.instances {
		state := in.Status
		if !in.Connected {
			state += ",disconnected"
		}
		if s.svc.SchedulingStrategy == Daemon && !in.Eligible {
			state += ",nomatch"
		}
		var ts []string
		for _, t := range s.tasks {
			if t.InstanceID != in.ID || t.LastStatus == TaskStopped {
				continue
			}
			d := t.LastStatus
			if t.DesiredStatus == TaskStopped {
				d += "->STOPPED"
			}
			if t.Health != "" && t.Health != HealthUnknown {
				d += "," + t.Health
			}
			if n := s.svc.TargetGroups; n > 0 {
				states := make([]string, n)
				for g := range n {
					states[g] = "-"
					for _, tg := range t.Targets {
						if tg.TargetGroupARN == tgARN(g+1) {
							states[g] = tg.State
						}
					}
				}
				d += ",tg=" + strings.Join(states, "/")
			}
			ts = append(ts, t.ID+"("+d+")")
		}
		slices.Sort(ts)
		fmt.Fprintf(&b, "%s %s [%s]: %s\n", in.ID, in.AvailabilityZone, state, strings.Join(ts, " "))
	}
	return b.String()
}
