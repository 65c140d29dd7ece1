package deploy

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the scripts in testdata (rewrite with -rewrite).
//
//	define [name=web] [desired=N] [min=P] [max=P] [daemon] [breaker] [rollback]
//	       [grace=DUR] [settle=DUR] [lost=DUR] [td=a] [hc] [running=N]
//	       [tgs=N] [bridge]
//	<instance lines: ID az=Z [mem=MiB] [draining] [disconnected] [nomatch]>
//
// defines the service (deployment ecs-svc/1 of task definition td, "a" by
// default; hc: it has health checks) and the cluster; every instance takes
// mem/1024 tasks (4096 by default). running=N starts with N healthy tasks
// placed by the scheduler and the deployment COMPLETED. tgs=N: the service
// has N target groups (tgARN(1..N)), of target type ip (a task's target is
// 10.0.x.y:8080) or, with bridge, instance (the instance id and a host
// port); running tasks start healthy in all of them. Tasks show their
// target states as tg=G1/G2 ("-": not registered).
//
//	reconcile | place | step (reconcile, then place)
//
// runs a round and applies its stops and lost tasks / places the starts of
// the last round with scheduler.Place (a task holds its memory until it is
// STOPPED) and records the outcome / both.
//
//	running|healthy|unhealthy|fail-start|exit [IDs...]
//
// moves tasks as an agent would report them: pending ones to RUNNING;
// to RUNNING and HEALTHY (all live ones by default); to UNHEALTHY; pending
// ones to STOPPED with TaskFailedToStart (all pending by default); running
// ones to STOPPED with EssentialContainerExited.
//
//	targets initial|healthy|unhealthy [tg=K] [code=C] [IDs...]
//
// sets the ELB health of the tasks' targets (all live tasks by default) in
// target group K (all by default), registering them first when needed;
// unhealthy fails with Target.FailedHealthChecks ("Health checks failed")
// or, with code=C, Target.ResponseCodeMismatch ("Health checks failed with
// these codes: [C]").
//
//	stopped | advance DUR | show
//	disconnect|connect|drain|activate|nomatch|match|deregister ID
//	add-instance <instance lines>
//	update-service [td=T] [hc] [desired=N] [min=P] [max=P] [grace=DUR]
//	add-tasks
//	<lines: INSTANCE pending|running|healthy>
//
// stopped completes every stop in flight (not on disconnected instances);
// update-service with a new td starts a new deployment; add-tasks creates
// tasks of the PRIMARY deployment on the instances named (running and
// healthy ones started an hour ago).
func TestDataDriven(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { runScript(t, path) })
	}
}

func runScript(t *testing.T, path string) {
	var s *sim
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "define" && s == nil {
			d.Fatalf(t, "%s before define", d.Cmd)
		}
		out, err := runDirective(&s, d)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		return out
	})
}

func runDirective(sp **sim, d *datadriven.TestData) (string, error) {
	s := *sp
	args := argMap(d)
	switch d.Cmd {
	case "define":
		ns, err := define(args, d.Input)
		if err != nil {
			return "", err
		}
		*sp = ns
		return ns.formatTasks() + ns.formatDeployments(), nil
	case "reconcile":
		return s.formatResult(s.reconcile()), nil
	case "place":
		return s.formatPlaced(s.place()), nil
	case "step":
		out := s.formatResult(s.reconcile())
		return out + s.formatPlaced(s.place()), nil
	case "running", "healthy", "unhealthy", "fail-start", "exit":
		return moveTasks(s, d)
	case "targets":
		return setTargets(s, d)
	case "stopped":
		s.finishStops()
		return s.formatTasks(), nil
	case "advance":
		if len(d.CmdArgs) != 1 {
			return "", fmt.Errorf("advance DUR")
		}
		dur, err := time.ParseDuration(d.CmdArgs[0].Key)
		if err != nil {
			return "", err
		}
		s.now = s.now.Add(dur)
		return s.rel(s.now) + "\n", nil
	case "show":
		return s.formatTasks() + s.formatDeployments(), nil
	case "disconnect", "connect", "drain", "activate", "nomatch", "match", "deregister":
		return changeInstance(s, d)
	case "add-instance":
		for _, l := range lines(d.Input) {
			in, err := parseInstance(l)
			if err != nil {
				return "", err
			}
			s.instances = append(s.instances, in)
		}
		s.version++
		return s.formatTasks(), nil
	case "update-service":
		return updateService(s, args)
	case "add-tasks":
		return addTasks(s, d.Input)
	}
	return "", fmt.Errorf("unknown directive %q", d.Cmd)
}

func define(args map[string]string, input string) (*sim, error) {
	svc := Service{Name: "web", DesiredCount: 1, MinimumHealthyPercent: 100, MaximumPercent: 200}
	cfg := Config{}
	if _, ok := args["daemon"]; ok {
		svc.SchedulingStrategy = Daemon
		svc.MinimumHealthyPercent, svc.MaximumPercent = 0, 100
	}
	td := "a"
	running := 0
	for k, v := range args {
		var err error
		switch k {
		case "name":
			svc.Name = v
		case "desired":
			svc.DesiredCount, err = strconv.Atoi(v)
		case "min":
			svc.MinimumHealthyPercent, err = strconv.Atoi(v)
		case "max":
			svc.MaximumPercent, err = strconv.Atoi(v)
		case "breaker":
			svc.CircuitBreaker.Enable = true
		case "rollback":
			svc.CircuitBreaker.Rollback = true
		case "grace":
			svc.HealthCheckGracePeriod, err = time.ParseDuration(v)
		case "settle":
			cfg.SettleTime, err = time.ParseDuration(v)
		case "lost":
			cfg.LostHostTimeout, err = time.ParseDuration(v)
		case "td":
			td = v
		case "running":
			running, err = strconv.Atoi(v)
		case "tgs":
			svc.TargetGroups, err = strconv.Atoi(v)
		case "daemon", "hc", "bridge":
		default:
			return nil, fmt.Errorf("unknown argument %s", k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	s := newSim(svc, cfg)
	_, s.hc[td] = args["hc"]
	_, s.bridge = args["bridge"]
	for _, l := range lines(input) {
		in, err := parseInstance(l)
		if err != nil {
			return nil, err
		}
		s.instances = append(s.instances, in)
	}
	s.addDeployment(td)
	if running > 0 {
		if svc.SchedulingStrategy == Daemon {
			return nil, fmt.Errorf("running= is for REPLICA services")
		}
		s.pending = []Start{{DeploymentID: s.deps[0].ID, TaskDefinition: td, Count: running}}
		if ps := s.place(); len(ps[0].ids) != running {
			return nil, fmt.Errorf("cluster has no room for %d tasks", running)
		}
		s.events = nil
		for i := range s.tasks {
			t := &s.tasks[i]
			t.LastStatus, t.Health, t.StartedAt, t.CreatedAt = TaskRunning, HealthHealthy, s.now.Add(-time.Hour), s.now.Add(-time.Hour)
			s.setTarget(t, 0, TargetHealthy, "")
		}
		d := &s.deps[0]
		d.RolloutState, d.RolloutStateReason, d.RunningCount, d.DesiredCount = RolloutCompleted, completedReason(d.ID), running, running
		c := *d
		s.svc.LastCompleted = &c
	}
	return s, nil
}

func updateService(s *sim, args map[string]string) (string, error) {
	var td string
	for k, v := range args {
		var err error
		switch k {
		case "td":
			td = v
		case "hc":
			s.hc[args["td"]] = true
		case "desired":
			s.svc.DesiredCount, err = strconv.Atoi(v)
		case "min":
			s.svc.MinimumHealthyPercent, err = strconv.Atoi(v)
		case "max":
			s.svc.MaximumPercent, err = strconv.Atoi(v)
		case "grace":
			s.svc.HealthCheckGracePeriod, err = time.ParseDuration(v)
		default:
			return "", fmt.Errorf("unknown argument %s", k)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", k, err)
		}
	}
	if td != "" {
		s.addDeployment(td)
	} else if len(s.deps) > 0 {
		s.deps[0].DesiredCount = s.svc.DesiredCount
	}
	return s.formatDeployments(), nil
}

func moveTasks(s *sim, d *datadriven.TestData) (string, error) {
	var ids []string
	for _, a := range d.CmdArgs {
		ids = append(ids, a.Key)
	}
	var f func(*Task) bool
	var move func(*Task)
	switch d.Cmd {
	case "running":
		f, move = pendingLive, s.setRunning
	case "healthy":
		f = func(t *Task) bool { return pendingLive(t) || runningLive(t) }
		move = func(t *Task) { s.setHealth(t, HealthHealthy) }
	case "unhealthy":
		f, move = runningLive, func(t *Task) { s.setHealth(t, HealthUnhealthy) }
	case "fail-start":
		f, move = pendingLive, s.failStart
	case "exit":
		f, move = runningLive, s.exit
	}
	ts, err := s.selectTasks(ids, f)
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		move(t)
	}
	return s.formatTasks(), nil
}

func setTargets(s *sim, d *datadriven.TestData) (string, error) {
	if len(d.CmdArgs) == 0 {
		return "", fmt.Errorf("targets STATE [tg=K] [code=C] [IDs...]")
	}
	state := d.CmdArgs[0].Key
	switch state {
	case TargetInitial, TargetHealthy, TargetUnhealthy:
	default:
		return "", fmt.Errorf("unknown target state %q", state)
	}
	k, code := 0, ""
	var ids []string
	for _, a := range d.CmdArgs[1:] {
		switch a.Key {
		case "tg":
			n, err := strconv.Atoi(strings.Join(a.Vals, ","))
			if err != nil || n < 1 || n > s.svc.TargetGroups {
				return "", fmt.Errorf("tg=%v: no such target group", a.Vals)
			}
			k = n
		case "code":
			code = strings.Join(a.Vals, ",")
		default:
			ids = append(ids, a.Key)
		}
	}
	ts, err := s.selectTasks(ids, func(t *Task) bool { return pendingLive(t) || runningLive(t) })
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		s.setTarget(t, k, state, code)
	}
	return s.formatTasks(), nil
}

func changeInstance(s *sim, d *datadriven.TestData) (string, error) {
	if len(d.CmdArgs) != 1 {
		return "", fmt.Errorf("%s ID", d.Cmd)
	}
	in := s.instance(d.CmdArgs[0].Key)
	if in == nil {
		return "", fmt.Errorf("no instance %s", d.CmdArgs[0].Key)
	}
	switch d.Cmd {
	case "disconnect":
		in.Connected, in.DisconnectedAt = false, s.now
	case "connect":
		in.Connected, in.DisconnectedAt = true, time.Time{}
	case "drain":
		in.Status = InstanceDraining
	case "activate":
		in.Status = InstanceActive
	case "nomatch":
		in.Eligible = false
	case "match":
		in.Eligible = true
	case "deregister":
		in.Status = "INACTIVE"
	}
	s.version++
	return s.formatTasks(), nil
}

// parseInstance reads "ID az=Z [mem=MiB] [draining] [disconnected] [nomatch]".
func parseInstance(l string) (simInstance, error) {
	f := strings.Fields(l)
	in := simInstance{Instance: Instance{ID: f[0], Status: InstanceActive, Connected: true, Eligible: true}, mem: 4096}
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "az":
			in.AvailabilityZone = v
		case "mem":
			m, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return in, err
			}
			in.mem = m
		case "draining":
			in.Status = InstanceDraining
		case "disconnected":
			in.Connected, in.DisconnectedAt = false, epoch
		case "nomatch":
			in.Eligible = false
		default:
			return in, fmt.Errorf("unknown instance field %q", kv)
		}
	}
	return in, nil
}

func argMap(d *datadriven.TestData) map[string]string {
	m := map[string]string{}
	for _, a := range d.CmdArgs {
		m[a.Key] = strings.Join(a.Vals, ",")
	}
	return m
}

func lines(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func addTasks(s *sim, input string) (string, error) {
	d := s.deps[0]
	for _, l := range lines(input) {
		f := strings.Fields(l)
		if len(f) != 2 {
			return "", fmt.Errorf("want INSTANCE STATE: %q", l)
		}
		in := s.instance(f[0])
		if in == nil {
			return "", fmt.Errorf("no instance %s", f[0])
		}
		s.seq[d.TaskDefinition]++
		t := Task{
			ID: fmt.Sprintf("%s%d", d.TaskDefinition, s.seq[d.TaskDefinition]), DeploymentID: d.ID,
			InstanceID: in.ID, AvailabilityZone: in.AvailabilityZone,
			LastStatus: "PENDING", DesiredStatus: TaskRunning, Health: HealthUnknown, CreatedAt: s.now.Add(-time.Hour),
		}
		switch f[1] {
		case "pending":
		case "running", "healthy":
			t.LastStatus, t.StartedAt = TaskRunning, s.now.Add(-time.Hour)
			if f[1] == "healthy" {
				t.Health = HealthHealthy
			}
		default:
			return "", fmt.Errorf("unknown state %q", f[1])
		}
		s.tasks = append(s.tasks, t)
	}
	s.version++
	return s.formatTasks(), nil
}
