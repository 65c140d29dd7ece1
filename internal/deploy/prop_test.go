package deploy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestReconcileProperties drives random services through random event
// sequences (the shell's moves, agents' reports, operator changes, time)
// and checks every round against the invariants of the package doc.
func TestReconcileProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := genSim(rt)
		s.check = func(in Input, out Result) { checkRound(rt, in, out) }
		steps := rapid.IntRange(5, 60).Draw(rt, "steps")
		for range steps {
			simStep(rt, s)
		}
	})
}

func genSim(rt *rapid.T) *sim {
	daemon := rapid.Bool().Draw(rt, "daemon")
	svc := Service{
		Name:                  "web",
		DesiredCount:          rapid.IntRange(0, 6).Draw(rt, "desired"),
		MinimumHealthyPercent: rapid.SampledFrom([]int{0, 50, 75, 100}).Draw(rt, "min"),
		MaximumPercent:        rapid.SampledFrom([]int{100, 125, 150, 200}).Draw(rt, "max"),
		CircuitBreaker: CircuitBreaker{
			Enable:   rapid.Bool().Draw(rt, "breaker"),
			Rollback: rapid.Bool().Draw(rt, "rollback"),
		},
		HealthCheckGracePeriod: rapid.SampledFrom([]time.Duration{0, 20 * time.Second}).Draw(rt, "grace"),
		TargetGroups:           rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(rt, "targetGroups"),
	}
	if daemon {
		svc.SchedulingStrategy = Daemon
	}
	s := newSim(svc, Config{})
	s.bridge = rapid.Bool().Draw(rt, "bridge")
	for i := range rapid.IntRange(0, 4).Draw(rt, "instances") {
		in := simInstance{Instance: Instance{
			ID:               fmt.Sprintf("i-%d", i+1),
			AvailabilityZone: rapid.SampledFrom([]string{"a", "b"}).Draw(rt, "az"),
			Status:           InstanceActive,
			Connected:        true,
			Eligible:         rapid.IntRange(0, 3).Draw(rt, "eligible") > 0,
		}, mem: int64(rapid.IntRange(1, 4).Draw(rt, "slots")) * taskMemory}
		s.instances = append(s.instances, in)
	}
	s.hc["a"] = rapid.Bool().Draw(rt, "hc")
	s.addDeployment("a")
	return s
}

// simStep applies one random move.
func simStep(rt *rapid.T, s *sim) {
	pick := func(f func(*Task) bool) *Task {
		var ts []*Task
		for i := range s.tasks {
			if f(&s.tasks[i]) {
				ts = append(ts, &s.tasks[i])
			}
		}
		if len(ts) == 0 {
			return nil
		}
		return ts[rapid.IntRange(0, len(ts)-1).Draw(rt, "task")]
	}
	inst := func() *simInstance {
		if len(s.instances) == 0 {
			return nil
		}
		return &s.instances[rapid.IntRange(0, len(s.instances)-1).Draw(rt, "instance")]
	}
	switch rapid.IntRange(0, 21).Draw(rt, "move") {
	case 0, 1, 2, 3:
		s.reconcile()
	case 4, 5, 6:
		s.reconcile()
		s.place()
	case 7:
		if t := pick(pendingLive); t != nil {
			s.setRunning(t)
		}
	case 8, 9:
		if t := pick(func(t *Task) bool { return pendingLive(t) || runningLive(t) }); t != nil {
			s.setHealth(t, HealthHealthy)
		}
	case 10:
		if t := pick(runningLive); t != nil {
			s.setHealth(t, HealthUnhealthy)
		}
	case 11:
		if t := pick(pendingLive); t != nil {
			s.failStart(t)
		}
	case 12:
		if t := pick(runningLive); t != nil {
			s.exit(t)
		}
	case 13:
		s.finishStops()
	case 14:
		s.now = s.now.Add(rapid.SampledFrom([]time.Duration{time.Second, 10 * time.Second, 41 * time.Second, 2 * time.Minute, 30 * time.Minute}).Draw(rt, "advance"))
	case 15:
		if in := inst(); in != nil {
			if in.Connected {
				in.Connected, in.DisconnectedAt = false, s.now
			} else {
				in.Connected, in.DisconnectedAt = true, time.Time{}
			}
			s.version++
		}
	case 16:
		if in := inst(); in != nil {
			in.Status = rapid.SampledFrom([]string{InstanceActive, InstanceActive, InstanceDraining, "INACTIVE"}).Draw(rt, "status")
			in.Eligible = rapid.IntRange(0, 3).Draw(rt, "eligible") > 0
			s.version++
		}
	case 17:
		td := string(rune('a' + s.nextDep))
		s.hc[td] = rapid.Bool().Draw(rt, "hc")
		s.addDeployment(td)
	case 18:
		s.svc.DesiredCount = rapid.IntRange(0, 6).Draw(rt, "desired")
		if len(s.deps) > 0 {
			s.deps[0].DesiredCount = s.svc.DesiredCount
		}
	case 19:
		s.svc.MinimumHealthyPercent = rapid.SampledFrom([]int{0, 50, 100}).Draw(rt, "min")
		s.svc.MaximumPercent = rapid.SampledFrom([]int{100, 150, 200}).Draw(rt, "max")
	case 20, 21:
		// The load balancer reports a target's health (registering it
		// first when needed), in one target group or all of them.
		if s.svc.TargetGroups == 0 {
			return
		}
		if t := pick(func(t *Task) bool { return pendingLive(t) || runningLive(t) }); t != nil {
			k := rapid.IntRange(0, s.svc.TargetGroups).Draw(rt, "targetGroup")
			state := rapid.SampledFrom([]string{TargetInitial, TargetHealthy, TargetHealthy, TargetUnhealthy}).Draw(rt, "targetState")
			s.setTarget(t, k, state, rapid.SampledFrom([]string{"", "502"}).Draw(rt, "code"))
		}
	}
}

// checkRound checks one round against the invariants, with naive
// re-implementations of what they depend on.
func checkRound(rt *rapid.T, in Input, out Result) {
	cp := cloneInput(in)
	again := Reconcile(in)
	if !reflect.DeepEqual(again, out) {
		rt.Fatalf("Reconcile is not deterministic:\n%+v\n%+v", out, again)
	}
	if !reflect.DeepEqual(cp, in) {
		rt.Fatalf("Reconcile modified its input")
	}
	o := newOracle(in)

	// Actions target the right tasks, once each.
	seen := map[string]bool{}
	for _, l := range out.Lost {
		t := o.tasks[l.TaskID]
		if t == nil || t.LastStatus == TaskStopped || !o.lostHost(t.InstanceID) || seen[l.TaskID] {
			rt.Fatalf("bad lost task %s", l.TaskID)
		}
		seen[l.TaskID] = true
	}
	for _, st := range out.Stops {
		t := o.tasks[st.TaskID]
		if t == nil || !o.live(t) || seen[st.TaskID] || st.StopCode != StopServiceSchedulerInitiated || st.Reason == "" {
			rt.Fatalf("bad stop %+v", st)
		}
		seen[st.TaskID] = true
		// A task stopped for its ELB health checks has a target failing
		// them in the target group named, past the grace period.
		if strings.HasPrefix(st.Reason, "Task failed ELB health checks") {
			failing := false
			for _, tg := range t.Targets {
				if st.Reason == ELBHealthReason(tg.TargetGroupARN) && (tg.State == TargetUnhealthy || strings.HasPrefix(tg.State, "unhealthy.")) {
					failing = true
				}
			}
			if !failing || in.Service.TargetGroups == 0 || t.LastStatus != TaskRunning || o.inGrace(t) {
				rt.Fatalf("stop %+v: task %+v did not fail ELB health checks", st, t)
			}
		}
	}

	// Exactly one PRIMARY, which alone starts tasks, never when FAILED.
	primaries := 0
	var primary *Deployment
	for i, d := range out.Deployments {
		if d.Status == StatusPrimary {
			primaries++
			primary = &out.Deployments[i]
		}
	}
	if len(in.Deployments) > 0 && primaries != 1 {
		rt.Fatalf("%d PRIMARY deployments", primaries)
	}
	started := 0
	for _, st := range out.Starts {
		if primary == nil || st.DeploymentID != primary.ID {
			rt.Fatalf("start for %s, not the PRIMARY", st.DeploymentID)
		}
		if primary.RolloutState == RolloutFailed {
			rt.Fatalf("a FAILED deployment launched tasks")
		}
		started += st.Count + len(st.Instances)
	}

	desired := in.Service.DesiredCount
	if in.Service.SchedulingStrategy == Daemon {
		desired = 0
		for _, i := range in.Instances {
			if o.eligible(i.ID) {
				desired++
			}
		}
		if out.DesiredCount != desired {
			rt.Fatalf("DAEMON desired count %d, want %d", out.DesiredCount, desired)
		}
	}
	minH, maxT := minHealthy(desired, in.Service.MinimumHealthyPercent), maxTotal(desired, in.Service.MaximumPercent)

	// maximumPercent: starting never takes live tasks above the bound.
	liveAfter := 0
	for _, t := range in.Tasks {
		if o.live(&t) && !seen[t.ID] {
			liveAfter++
		}
	}
	if started > 0 && liveAfter+started > maxT {
		rt.Fatalf("starts %d take live tasks to %d > max %d", started, liveAfter+started, maxT)
	}

	// minimumHealthyPercent: stopping healthy tasks never takes the healthy
	// count below the bound (DAEMON: counted where the service should run).
	healthy, stoppedHealthy := 0, 0
	for _, t := range in.Tasks {
		if !o.healthy(&t) || (in.Service.SchedulingStrategy == Daemon && !o.eligible(t.InstanceID)) {
			continue
		}
		healthy++
		if slices.ContainsFunc(out.Stops, func(s Stop) bool { return s.TaskID == t.ID }) {
			stoppedHealthy++
		}
	}
	if stoppedHealthy > 0 && healthy-stoppedHealthy < minH {
		rt.Fatalf("stopped %d healthy tasks of %d: below min %d", stoppedHealthy, healthy, minH)
	}

	// DAEMON: starts only where the service should run and has no task.
	if in.Service.SchedulingStrategy == Daemon && primary != nil {
		at := map[string]bool{}
		for _, st := range out.Starts {
			for _, id := range st.Instances {
				inst := o.instances[id]
				if inst == nil || inst.Status != InstanceActive || !inst.Connected || !inst.Eligible || at[id] {
					rt.Fatalf("DAEMON start on %s", id)
				}
				at[id] = true
				for _, t := range in.Tasks {
					if t.InstanceID == id && t.DeploymentID == primary.ID && o.live(&t) && !seen[t.ID] {
						rt.Fatalf("DAEMON start on %s beside %s", id, t.ID)
					}
				}
			}
		}
	} else if started > 0 {
		keep := 0
		for _, t := range in.Tasks {
			if t.DeploymentID == primary.ID && o.live(&t) && !seen[t.ID] && !o.draining(t.InstanceID) {
				keep++
			}
		}
		if keep+started > desired {
			rt.Fatalf("started %d beside %d kept, desired %d", started, keep, desired)
		}
	}
	if !out.Wake.IsZero() && !out.Wake.After(in.Now) {
		rt.Fatalf("wake %v not after now %v", out.Wake, in.Now)
	}
	checkConverges(rt, in, out)
}

// checkConverges applies the round and repeats it with nothing else
// changing (stops in flight, placements failing at the same cluster
// version, no time passing): the rounds must settle to no change at all,
// so that a shell that runs a round after every write of its own does not
// spin.
func checkConverges(rt *rapid.T, in Input, out Result) {
	for round := range 4 {
		if !out.Changed {
			return
		}
		if round == 3 {
			rt.Fatalf("still changing after %d rounds: %+v", round, out)
		}
		in = applyForTest(in, out)
		out = Reconcile(in)
	}
}

func applyForTest(in Input, out Result) Input {
	in = cloneInput(in)
	byID := map[string]*Task{}
	for i := range in.Tasks {
		byID[in.Tasks[i].ID] = &in.Tasks[i]
	}
	for _, l := range out.Lost {
		t := byID[l.TaskID]
		t.LastStatus, t.DesiredStatus, t.StopCode, t.StoppedReason, t.StoppedAt = TaskStopped, TaskStopped, l.StopCode, l.Reason, in.Now
	}
	for _, st := range out.Stops {
		t := byID[st.TaskID]
		t.DesiredStatus, t.StopCode, t.StoppedReason, t.StoppingAt = TaskStopped, st.StopCode, st.Reason, in.Now
	}
	in.Deployments = cloneInput(Input{Deployments: out.Deployments}).Deployments
	for _, st := range out.Starts {
		for i := range in.Deployments {
			if in.Deployments[i].ID == st.DeploymentID {
				in.Deployments[i].Placement = &PlacementFailure{At: in.Now, Reason: "RESOURCE:MEMORY", InstanceID: "i-1", ClusterVersion: in.ClusterVersion}
			}
		}
	}
	in.Service.LastCompleted = cloneDeploymentPtr(out.LastCompleted)
	in.Service.DesiredCount = out.DesiredCount
	for _, m := range out.Events {
		in.Events = append(in.Events, Event{At: in.Now, Message: m})
	}
	return in
}

func cloneInput(in Input) Input {
	c := in
	c.Deployments = nil
	for _, d := range in.Deployments {
		c.Deployments = append(c.Deployments, cloneDeployment(d))
	}
	c.Service.LastCompleted = cloneDeploymentPtr(in.Service.LastCompleted)
	c.Tasks = slices.Clone(in.Tasks)
	c.Instances = slices.Clone(in.Instances)
	c.Events = slices.Clone(in.Events)
	return c
}

// oracle is a naive reading of the input, independent of round.
type oracle struct {
	in        Input
	cfg       Config
	tasks     map[string]*Task
	instances map[string]*Instance
	hc        map[string]bool
}

func newOracle(in Input) *oracle {
	o := &oracle{in: in, cfg: in.Config.withDefaults(), tasks: map[string]*Task{}, instances: map[string]*Instance{}, hc: map[string]bool{}}
	for i := range in.Tasks {
		o.tasks[in.Tasks[i].ID] = &in.Tasks[i]
	}
	for i := range in.Instances {
		o.instances[in.Instances[i].ID] = &in.Instances[i]
	}
	for _, d := range in.Deployments {
		o.hc[d.ID] = d.HealthChecks
	}
	return o
}

func (o *oracle) lostHost(id string) bool {
	in := o.instances[id]
	if in == nil || (in.Status != InstanceActive && in.Status != InstanceDraining) {
		return true
	}
	return !in.Connected && !in.DisconnectedAt.IsZero() && o.in.Now.Sub(in.DisconnectedAt) >= o.cfg.LostHostTimeout
}

func (o *oracle) eligible(id string) bool {
	in := o.instances[id]
	return in != nil && in.Status == InstanceActive && in.Eligible && !o.lostHost(id)
}

func (o *oracle) draining(id string) bool {
	in := o.instances[id]
	return in != nil && in.Status == InstanceDraining
}

func (o *oracle) live(t *Task) bool {
	return t.DesiredStatus != TaskStopped && t.LastStatus != TaskStopped && !(t.InstanceID != "" && o.lostHost(t.InstanceID))
}

func (o *oracle) healthy(t *Task) bool {
	if !o.live(t) || t.LastStatus != TaskRunning || t.Health == HealthUnhealthy {
		return false
	}
	if n := o.in.Service.TargetGroups; n > 0 {
		// Healthy in every target group, every target healthy.
		groups := map[string]bool{}
		for _, tg := range t.Targets {
			if tg.State != TargetHealthy {
				return false
			}
			groups[tg.TargetGroupARN] = true
		}
		if len(groups) < n {
			return false
		}
		return !o.hc[t.DeploymentID] || t.Health == HealthHealthy
	}
	if o.hc[t.DeploymentID] {
		return t.Health == HealthHealthy
	}
	return t.StartedAt.IsZero() || o.in.Now.Sub(t.StartedAt) >= o.cfg.SettleTime
}

// inGrace: the task started less than the grace period ago.
func (o *oracle) inGrace(t *Task) bool {
	g := o.in.Service.HealthCheckGracePeriod
	return g > 0 && o.in.Now.Before(t.StartedAt.Add(g))
}

// TestReconcileFixedExamples pins a few exact outcomes the scripts rely on.
func TestReconcileFixedExamples(t *testing.T) {
	for _, tc := range []struct {
		desired, pct int
		min, max     int
	}{
		{6, 100, 6, 6}, {6, 50, 3, 3}, {1, 150, 2, 1}, {3, 75, 3, 2}, {0, 100, 0, 0}, {5, 200, 10, 10},
	} {
		if got := minHealthy(tc.desired, tc.pct); got != tc.min {
			t.Errorf("minHealthy(%d, %d) = %d, want %d", tc.desired, tc.pct, got, tc.min)
		}
		if got := maxTotal(tc.desired, tc.pct); got != tc.max {
			t.Errorf("maxTotal(%d, %d) = %d, want %d", tc.desired, tc.pct, got, tc.max)
		}
	}
	for desired, want := range map[int]int{0: 3, 1: 3, 6: 3, 7: 4, 10: 5, 399: 200, 1000: 200} {
		if got := BreakerThreshold(desired); got != want {
			t.Errorf("BreakerThreshold(%d) = %d, want %d", desired, got, want)
		}
	}
	cfg := DefaultConfig()
	var delays []string
	for n := 1; n <= 10; n++ {
		delays = append(delays, cfg.throttleDelay(n).String())
	}
	if got, want := strings.Join(delays, " "), "0s 0s 30s 1m0s 2m0s 4m0s 8m0s 16m0s 27m0s 27m0s"; got != want {
		t.Errorf("throttle delays %s, want %s", got, want)
	}
}

// TestReconcileArbitraryInputs checks the same invariants on inputs drawn
// directly, in states a simulation rarely reaches: FAILED and rolled-back
// deployments, tasks of unknown deployments, stops in flight on lost hosts,
// placement failures and throttles in force, event histories.
func TestReconcileArbitraryInputs(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		in := genInput(rt)
		checkRound(rt, in, Reconcile(in))
	})
}

func genInput(rt *rapid.T) Input {
	now := epoch.Add(time.Hour)
	ago := func(label string) time.Time {
		return now.Add(-rapid.SampledFrom([]time.Duration{0, 5 * time.Second, 30 * time.Second, 45 * time.Second, 2 * time.Minute, 7 * time.Hour}).Draw(rt, label))
	}
	s := genSim(rt)
	in := Input{Now: now, Service: s.svc, ClusterVersion: uint64(rapid.IntRange(0, 2).Draw(rt, "version"))}
	for _, i := range s.instances {
		inst := i.Instance
		if rapid.IntRange(0, 3).Draw(rt, "disconnected") == 0 {
			inst.Connected, inst.DisconnectedAt = false, ago("disconnectedAt")
		}
		inst.Status = rapid.SampledFrom([]string{InstanceActive, InstanceActive, InstanceActive, InstanceDraining, "INACTIVE"}).Draw(rt, "status")
		in.Instances = append(in.Instances, inst)
	}
	states := []string{RolloutInProgress, RolloutInProgress, RolloutCompleted, RolloutFailed, ""}
	nd := rapid.IntRange(0, 3).Draw(rt, "deployments")
	var ids []string
	for i := range nd {
		id := fmt.Sprintf("ecs-svc/%d", i+1)
		ids = append(ids, id)
		d := Deployment{
			ID: id, Status: StatusActive, TaskDefinition: string(rune('a' + i)),
			HealthChecks:        rapid.Bool().Draw(rt, "hc"),
			RolloutState:        rapid.SampledFrom(states).Draw(rt, "rollout"),
			CreatedAt:           now.Add(time.Duration(i-nd) * time.Hour),
			FailedTasks:         rapid.IntRange(0, 4).Draw(rt, "failed"),
			LaunchFailures:      rapid.IntRange(0, 5).Draw(rt, "launchFailures"),
			LastLaunchFailureAt: ago("lastLaunchFailure"),
			ReachedRunning:      rapid.Bool().Draw(rt, "reachedRunning"),
		}
		if rapid.Bool().Draw(rt, "primary") || i == nd-1 {
			d.Status = StatusPrimary
		}
		if rapid.IntRange(0, 3).Draw(rt, "placement") == 0 {
			d.Placement = &PlacementFailure{At: ago("placementAt"), Reason: "RESOURCE:CPU", InstanceID: "i-1", ClusterVersion: uint64(rapid.IntRange(0, 2).Draw(rt, "placementVersion"))}
		}
		in.Deployments = append(in.Deployments, d)
	}
	if nd > 0 && rapid.Bool().Draw(rt, "lastCompleted") {
		d := in.Deployments[rapid.IntRange(0, nd-1).Draw(rt, "lastCompletedIndex")]
		d.Status, d.RolloutState = StatusActive, RolloutCompleted
		in.Service.LastCompleted = &d
	}
	instIDs := []string{"", "i-9"}
	for _, i := range in.Instances {
		instIDs = append(instIDs, i.ID)
	}
	for i := range rapid.IntRange(0, 8).Draw(rt, "tasks") {
		t := Task{
			ID:            fmt.Sprintf("t%d", i),
			DeploymentID:  rapid.SampledFrom(append([]string{"ecs-svc/0"}, ids...)).Draw(rt, "taskDeployment"),
			InstanceID:    rapid.SampledFrom(instIDs).Draw(rt, "taskInstance"),
			LastStatus:    rapid.SampledFrom([]string{"PENDING", "ACTIVATING", TaskRunning, TaskRunning, "DEACTIVATING", TaskStopped}).Draw(rt, "lastStatus"),
			DesiredStatus: rapid.SampledFrom([]string{TaskRunning, TaskRunning, TaskStopped}).Draw(rt, "desiredStatus"),
			Health:        rapid.SampledFrom([]string{HealthUnknown, HealthHealthy, HealthUnhealthy}).Draw(rt, "health"),
			CreatedAt:     now.Add(-8 * time.Hour),
		}
		if t.LastStatus != "PENDING" && t.LastStatus != "ACTIVATING" && rapid.IntRange(0, 4).Draw(rt, "neverRan") > 0 {
			t.StartedAt = ago("startedAt")
		}
		if t.DesiredStatus == TaskStopped {
			t.StoppingAt = ago("stoppingAt")
			t.StopCode = rapid.SampledFrom([]string{StopServiceSchedulerInitiated, StopTaskFailedToStart, StopEssentialContainerExited, StopUserInitiated}).Draw(rt, "stopCode")
			if t.StopCode == StopServiceSchedulerInitiated {
				t.StoppedReason = rapid.SampledFrom([]string{ScalingReason("ecs-svc/1"), ReasonHealthCheck}).Draw(rt, "reason")
			}
		}
		if t.LastStatus == TaskStopped {
			t.DesiredStatus = TaskStopped
			t.StoppedAt = ago("stoppedAt")
		}
		for _, inst := range in.Instances {
			if inst.ID == t.InstanceID {
				t.AvailabilityZone = inst.AvailabilityZone
			}
		}
		if in.Service.TargetGroups > 0 {
			for range rapid.IntRange(0, 3).Draw(rt, "targets") {
				tg := Target{
					TargetGroupARN: tgARN(rapid.IntRange(1, 2).Draw(rt, "targetGroup")),
					ID:             fmt.Sprintf("10.0.0.%d", i+4), Port: 8080,
					State: rapid.SampledFrom([]string{TargetInitial, TargetHealthy, TargetHealthy, TargetUnhealthy, "unhealthy.draining", TargetDraining, TargetUnused}).Draw(rt, "targetState"),
				}
				if s.bridge {
					tg.ID, tg.Port = t.InstanceID, 32768+i
				}
				if targetUnhealthy(tg.State) {
					tg.Reason, tg.Description = "Target.FailedHealthChecks", "Health checks failed"
				}
				t.Targets = append(t.Targets, tg)
			}
		}
		in.Tasks = append(in.Tasks, t)
	}
	for range rapid.IntRange(0, 3).Draw(rt, "events") {
		msg := rapid.SampledFrom([]string{steadyMessage("web"), deadlockMessage("web"), throttleMessage("web"), StartedMessage("web", []string{"t1"}, 0)}).Draw(rt, "event")
		in.Events = append(in.Events, Event{At: ago("eventAt"), Message: msg})
	}
	slices.SortStableFunc(in.Events, func(a, b Event) int { return a.At.Compare(b.At) })
	return in
}
