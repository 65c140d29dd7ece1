package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/dockertest"
)

// The service tests run a server and Docker agents in this process and
// drive them with the SDK, as a user would. They wait for conditions
// (generous deadlines), never for durations, and share no agents, so they
// run in parallel.

// Service event texts (ecs-semantics §6.6), written out here so that the
// tests check the wire text, not deploy against itself.
func completedEvent(svc, id string) string {
	return "(service " + svc + ") (deployment " + id + ") deployment completed."
}

func steadyEvent(svc string) string { return "(service " + svc + ") has reached a steady state." }

func failedEvent(svc, id string) string {
	return "(service " + svc + ") (deployment " + id + ") deployment failed: tasks failed to start."
}

func rollingBackEvent(svc, id string) string {
	return "(service " + svc + ") rolling back to deployment " + id + "."
}

func unhealthyEvent(svc, task string) string {
	return "(service " + svc + ") (task " + task + ") failed container health checks."
}

func stoppedEvent(svc string, tasks ...string) string {
	parts := make([]string, len(tasks))
	for i, id := range tasks {
		parts[i] = "(task " + id + ")"
	}
	return fmt.Sprintf("(service %s) has stopped %d running tasks: %s.", svc, len(tasks), strings.Join(parts, " "))
}

func startedEvent(svc string, tasks ...string) string {
	parts := make([]string, len(tasks))
	for i, id := range tasks {
		parts[i] = "(task " + id + ")"
	}
	return fmt.Sprintf("(service %s) has started %d tasks: %s.", svc, len(tasks), strings.Join(parts, " "))
}

// scalingReason is the stoppedReason of a task the service scheduler
// stopped (real ECS text).
func scalingReason(deployment string) string {
	return "Scaling activity initiated by (deployment " + deployment + ")"
}

// lastSegment is the part of an ARN after its last slash: a task ID, an
// instance ID, a task definition's family:revision.
func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// serviceHealthCheck is the test application's health check for the
// service tests: a check every 5 seconds (ECS's minimum), giving up after
// retries failures. Its timeouts are long so that a busy machine (slow
// execs) does not fail a healthy task; a failing application answers at
// once.
func (te *taskEnv) serviceHealthCheck(retries int32) *types.HealthCheck {
	return &types.HealthCheck{
		Command:  []string{"CMD", te.bin, "health", "--timeout", "20s", "http://127.0.0.1:8080/health"},
		Interval: aws.Int32(5), Timeout: aws.Int32(30), Retries: aws.Int32(retries),
	}
}

// waitFor polls task arn until cond holds (at most 5 minutes).
func (te *taskEnv) waitFor(arn, what string, cond func(types.Task) bool) types.Task {
	te.t.Helper()
	return te.waitTaskWithin(arn, what, 5*time.Minute, cond)
}

// waitTaskStopped waits until task arn is STOPPED and returns it.
func (te *taskEnv) waitTaskStopped(arn string) types.Task {
	te.t.Helper()
	return te.waitFor(arn, "STOPPED", func(task types.Task) bool { return aws.ToString(task.LastStatus) == "STOPPED" })
}

// newServiceEnv is newTaskEnv on Docker for a service test: it runs in
// parallel with the other service tests (each has its own server and
// agents) and a task without health checks counts as healthy after one
// second in RUNNING instead of ECS's 40.
func newServiceEnv(t *testing.T, cfg deploy.Config, agents ...agentOptions) *taskEnv {
	t.Helper()
	t.Parallel()
	if cfg.SettleTime == 0 {
		cfg.SettleTime = time.Second
	}
	return newTaskEnv(t, rtDocker, serverOptions{deploy: &cfg}, agents...)
}

// createService creates a service in the env's cluster.
func (te *taskEnv) createService(in ecs.CreateServiceInput) types.Service {
	te.t.Helper()
	in.Cluster = aws.String(te.cluster)
	out, err := te.ecs.CreateService(ctx(te.t), &in)
	if err != nil {
		te.t.Fatalf("create service %s: %v", aws.ToString(in.ServiceName), err)
	}
	return *out.Service
}

// updateService updates a service of the env's cluster.
func (te *taskEnv) updateService(in ecs.UpdateServiceInput) types.Service {
	te.t.Helper()
	in.Cluster = aws.String(te.cluster)
	out, err := te.ecs.UpdateService(ctx(te.t), &in)
	if err != nil {
		te.t.Fatalf("update service %s: %v", aws.ToString(in.Service), err)
	}
	return *out.Service
}

// service describes one service and fails unless it is found.
func (te *taskEnv) service(name string) types.Service {
	te.t.Helper()
	out, err := te.ecs.DescribeServices(ctx(te.t), &ecs.DescribeServicesInput{Cluster: aws.String(te.cluster), Services: []string{name}})
	if err != nil {
		te.t.Fatalf("describe service %s: %v", name, err)
	}
	if len(out.Services) != 1 || len(out.Failures) != 0 {
		te.t.Fatalf("describe service %s: got %d services and failures %s", name, len(out.Services), failuresString(out.Failures))
	}
	return out.Services[0]
}

// waitService polls service name until cond holds (at most 5 minutes: the
// machine may be slow; no assertion depends on how long it takes).
func (te *taskEnv) waitService(name, what string, cond func(types.Service) bool) types.Service {
	te.t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		s := te.service(name)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			te.t.Fatalf("service %s did not get %s within 5 minutes: %s", name, what, serviceString(s))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCompleted waits until the service's PRIMARY deployment is COMPLETED
// and alone in the array with every task running, then runs the SDK's
// services-stable waiter, which must agree. (The waiter alone passes as
// soon as the counts match, before health checks have passed: ECS's
// waiter looks at counts and the number of deployments only.)
func (te *taskEnv) waitCompleted(name string) types.Service {
	te.t.Helper()
	s := te.waitService(name, "a COMPLETED deployment", func(s types.Service) bool {
		return len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted &&
			s.RunningCount == s.DesiredCount && s.PendingCount == 0
	})
	w := ecs.NewServicesStableWaiter(te.ecs, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := w.Wait(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(te.cluster), Services: []string{name}}, time.Minute); err != nil {
		te.t.Fatalf("services-stable waiter after COMPLETED: %v\n%s", err, serviceString(te.service(name)))
	}
	return s
}

// listServiceTasks lists the tasks of service name with the desired status
// (ListTasks' default: RUNNING).
func (te *taskEnv) listServiceTasks(c context.Context, name string, desired types.DesiredStatus) ([]string, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(te.ecs, &ecs.ListTasksInput{Cluster: aws.String(te.cluster), ServiceName: aws.String(name), DesiredStatus: desired})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.TaskArns...)
	}
	return arns, nil
}

// describeTasks describes arns (any number).
func (te *taskEnv) describeTasks(c context.Context, arns []string) ([]types.Task, error) {
	var out []types.Task
	for i := 0; i < len(arns); i += 100 {
		d, err := te.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{Cluster: aws.String(te.cluster), Tasks: arns[i:min(i+100, len(arns))]})
		if err != nil {
			return nil, err
		}
		if len(d.Failures) > 0 {
			return nil, fmt.Errorf("describe tasks: failures %s", failuresString(d.Failures))
		}
		out = append(out, d.Tasks...)
	}
	return out, nil
}

// serviceTasks returns the service's tasks with the desired status.
func (te *taskEnv) serviceTasks(name string, desired types.DesiredStatus) []types.Task {
	te.t.Helper()
	arns, err := te.listServiceTasks(ctx(te.t), name, desired)
	if err != nil {
		te.t.Fatalf("list tasks of %s: %v", name, err)
	}
	tasks, err := te.describeTasks(ctx(te.t), arns)
	if err != nil {
		te.t.Fatal(err)
	}
	return tasks
}

// eventMessages returns a service's event messages, oldest first.
func eventMessages(s types.Service) []string {
	out := make([]string, 0, len(s.Events))
	for i := len(s.Events) - 1; i >= 0; i-- {
		out = append(out, aws.ToString(s.Events[i].Message))
	}
	return out
}

// wantEvents checks that the service's events include msgs in this order
// (other events may come between).
func wantEvents(t *testing.T, s types.Service, msgs ...string) {
	t.Helper()
	evs := eventMessages(s)
	i := 0
	for _, e := range evs {
		if i < len(msgs) && e == msgs[i] {
			i++
		}
	}
	if i < len(msgs) {
		t.Errorf("service %s: events (oldest first) lack %q in order after %d of %d found:\n  %s",
			aws.ToString(s.ServiceName), msgs[i], i, len(msgs), strings.Join(evs, "\n  "))
	}
}

// noEvent checks that no event of the service contains s.
func noEvent(t *testing.T, svc types.Service, s string) {
	t.Helper()
	for _, e := range eventMessages(svc) {
		if strings.Contains(e, s) {
			t.Errorf("service %s: unexpected event %q", aws.ToString(svc.ServiceName), e)
		}
	}
}

var (
	startedPattern = regexp.MustCompile(`^\(service ([^)]+)\) has started (\d+) tasks: ((?:\(task [0-9a-f]+\) ?)+)\.( Amazon ECS replaced (\d+) tasks due to an unhealthy status\.)?$`)
	taskRefPattern = regexp.MustCompile(`\(task ([0-9a-f]+)\)`)
)

// startedTasks returns, per "has started" event of the service, the task
// IDs it names, oldest first, and checks each event's exact text.
func startedTasks(t *testing.T, s types.Service) [][]string {
	t.Helper()
	var out [][]string
	for _, e := range eventMessages(s) {
		if !strings.Contains(e, ") has started ") {
			continue
		}
		m := startedPattern.FindStringSubmatch(e)
		if m == nil {
			t.Errorf("started event %q is not in ECS's format", e)
			continue
		}
		var ids []string
		for _, r := range taskRefPattern.FindAllStringSubmatch(m[3], -1) {
			ids = append(ids, r[1])
		}
		if m[1] != aws.ToString(s.ServiceName) || m[2] != fmt.Sprint(len(ids)) {
			t.Errorf("started event %q: service or count wrong", e)
		}
		out = append(out, ids)
	}
	return out
}

// serviceString renders the fields the tests look at.
func serviceString(s types.Service) string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s status=%s desired=%d running=%d pending=%d taskDefinition=%s", aws.ToString(s.ServiceName),
		aws.ToString(s.Status), s.DesiredCount, s.RunningCount, s.PendingCount, lastSegment(aws.ToString(s.TaskDefinition)))
	for _, d := range s.Deployments {
		fmt.Fprintf(&b, "\n  deployment %s %s %s %s desired=%d running=%d pending=%d failed=%d %q", aws.ToString(d.Id), aws.ToString(d.Status),
			lastSegment(aws.ToString(d.TaskDefinition)), d.RolloutState, d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks,
			aws.ToString(d.RolloutStateReason))
	}
	evs := eventMessages(s)
	for _, e := range evs[max(0, len(evs)-15):] {
		fmt.Fprintf(&b, "\n  event %s", e)
	}
	return b.String()
}

var deploymentIDPattern = regexp.MustCompile(`^ecs-svc/\d{19}$`)

// wantSettled checks a service that completed: one PRIMARY deployment of
// taskDef, COMPLETED with ECS's reason, desired tasks all running, and
// the service's own counts; it returns the deployment.
func wantSettled(t *testing.T, s types.Service, taskDef string, desired int32) types.Deployment {
	t.Helper()
	if len(s.Deployments) != 1 {
		t.Fatalf("want one deployment: %s", serviceString(s))
	}
	d := s.Deployments[0]
	id := aws.ToString(d.Id)
	if aws.ToString(s.Status) != "ACTIVE" || s.DesiredCount != desired || s.RunningCount != desired || s.PendingCount != 0 ||
		aws.ToString(s.TaskDefinition) != taskDef {
		t.Errorf("service: want ACTIVE, desired=running=%d, pending 0, task definition %s: %s", desired, lastSegment(taskDef), serviceString(s))
	}
	if aws.ToString(d.Status) != "PRIMARY" || aws.ToString(d.TaskDefinition) != taskDef || d.DesiredCount != desired ||
		d.RunningCount != desired || d.PendingCount != 0 || d.RolloutState != types.DeploymentRolloutStateCompleted ||
		aws.ToString(d.RolloutStateReason) != "ECS deployment "+id+" completed." {
		t.Errorf("deployment: want PRIMARY %s COMPLETED %q with %d running: %s", lastSegment(taskDef), "ECS deployment "+id+" completed.", desired, serviceString(s))
	}
	if !deploymentIDPattern.MatchString(id) {
		t.Errorf("deployment ID %q is not ecs-svc/ and 19 digits", id)
	}
	return d
}

// wantServiceTasks checks the live tasks of a service: n of them, all
// RUNNING, of taskDef, started by deployment, in the service's group.
func (te *taskEnv) wantServiceTasks(name, taskDef, deployment string, n int) []types.Task {
	te.t.Helper()
	tasks := te.serviceTasks(name, types.DesiredStatusRunning)
	if len(tasks) != n {
		te.t.Errorf("service %s has %d live tasks, want %d", name, len(tasks), n)
	}
	for _, task := range tasks {
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.TaskDefinitionArn) != taskDef ||
			aws.ToString(task.StartedBy) != deployment || aws.ToString(task.Group) != "service:"+name {
			te.t.Errorf("task of %s: want RUNNING %s started by %s in group service:%s: %s (startedBy %s, group %s)", name,
				lastSegment(taskDef), deployment, name, taskString(task), aws.ToString(task.StartedBy), aws.ToString(task.Group))
		}
	}
	return tasks
}

// wantScaledDown checks that task arn was stopped by the service scheduler
// for deployment.
func (te *taskEnv) wantScaledDown(arn, deployment string) {
	te.t.Helper()
	task := te.waitTaskStopped(arn)
	if task.StopCode != types.TaskStopCodeServiceSchedulerInitiated || aws.ToString(task.StoppedReason) != scalingReason(deployment) {
		te.t.Errorf("want the task stopped by the service scheduler with %q: %s", scalingReason(deployment), taskString(task))
	}
}

// bounds samples a service during a deployment and records every moment
// it broke maximumPercent (RUNNING + PENDING tasks, as DescribeServices
// counts them) or minimumHealthyPercent (live tasks that count as
// healthy).
type bounds struct {
	te              *taskEnv
	name            string
	minHealthy, max int
	// healthy tells whether a live task counts as healthy for
	// minimumHealthyPercent.
	healthy func(task types.Task, now time.Time) bool

	mu         sync.Mutex
	samples    int
	violations []string
	errs       []string
	peak       int // most RUNNING + PENDING seen
	low        int // fewest healthy seen
	stop, done chan struct{}
}

// healthyByCheck: a task with container health checks counts once HEALTHY.
func healthyByCheck(task types.Task, _ time.Time) bool {
	return aws.ToString(task.LastStatus) == "RUNNING" && task.HealthStatus == types.HealthStatusHealthy
}

// healthyAfter: a task without health checks counts once RUNNING for the
// settle time (ECS: 40 seconds; the server's deploy.Config.SettleTime).
// The server decides on the same clock before this sample is taken, so
// a task it counted is counted here too.
func healthyAfter(settle time.Duration) func(types.Task, time.Time) bool {
	return func(task types.Task, now time.Time) bool {
		return aws.ToString(task.LastStatus) == "RUNNING" && task.StartedAt != nil && !now.Before(task.StartedAt.Add(settle))
	}
}

// watchBounds starts sampling service name as often as the server answers.
func (te *taskEnv) watchBounds(name string, minHealthy, maxTotal int, healthy func(types.Task, time.Time) bool) *bounds {
	b := &bounds{te: te, name: name, minHealthy: minHealthy, max: maxTotal, healthy: healthy, low: 1 << 30,
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			b.sample()
			select {
			case <-b.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	te.t.Cleanup(b.end)
	return b
}

func (b *bounds) sample() {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	te := b.te
	out, err := te.ecs.DescribeServices(c, &ecs.DescribeServicesInput{Cluster: aws.String(te.cluster), Services: []string{b.name}})
	if err == nil && len(out.Services) != 1 {
		err = fmt.Errorf("describe services: %d services", len(out.Services))
	}
	var tasks []types.Task
	var arns []string
	if err == nil {
		arns, err = te.listServiceTasks(c, b.name, types.DesiredStatusRunning)
	}
	if err == nil {
		tasks, err = te.describeTasks(c, arns)
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.errs = append(b.errs, err.Error())
		return
	}
	b.samples++
	s := out.Services[0]
	total := int(s.RunningCount + s.PendingCount)
	b.peak = max(b.peak, total)
	if total > b.max {
		b.violations = append(b.violations, fmt.Sprintf("%s: %d RUNNING + PENDING tasks, above maximumPercent's %d: %s",
			now.Format("15:04:05.000"), total, b.max, serviceString(s)))
	}
	healthy := 0
	for _, task := range tasks {
		if aws.ToString(task.DesiredStatus) == "RUNNING" && b.healthy(task, now) {
			healthy++
		}
	}
	b.low = min(b.low, healthy)
	if healthy < b.minHealthy {
		var lines []string
		for _, task := range tasks {
			lines = append(lines, taskString(task))
		}
		b.violations = append(b.violations, fmt.Sprintf("%s: %d healthy tasks, below minimumHealthyPercent's %d:\n%s",
			now.Format("15:04:05.000"), healthy, b.minHealthy, strings.Join(lines, "\n")))
	}
}

// end stops sampling (idempotent).
func (b *bounds) end() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
}

// check stops sampling and fails the test for every violation seen.
func (b *bounds) check(t *testing.T) {
	t.Helper()
	b.end()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) > 0 {
		t.Errorf("sampling %s: %d calls failed, first: %s", b.name, len(b.errs), b.errs[0])
	}
	if b.samples == 0 {
		t.Fatalf("sampling %s: no sample", b.name)
	}
	for i, v := range b.violations {
		if i == 5 {
			t.Errorf("service %s: %d more violations", b.name, len(b.violations)-i)
			break
		}
		t.Errorf("service %s: %s", b.name, v)
	}
	t.Logf("service %s: %d samples, at most %d RUNNING + PENDING (max %d), at least %d healthy (min %d)",
		b.name, b.samples, b.peak, b.max, b.low, b.minHealthy)
}

// TestService_RollingUpdateAndRollback runs a service of three Docker
// tasks with a container health check. v1 deploys and completes; v2 rolls
// out with minimumHealthyPercent 100 / maximumPercent 200, and again (a
// forced new deployment) with 50 / 200, each sampled throughout for both
// bounds; v3, whose container exits as it starts, trips the circuit
// breaker after clamp(ceil(3 × 0.5), 3, 200) = 3 failures, which rolls
// the service back to v2. Deployments, stopped tasks and events are
// checked at each step.
func TestService_RollingUpdateAndRollback(t *testing.T) {
	te := newServiceEnv(t, deploy.Config{}, agentOptions{})
	const name = "web"
	def := func(version string, args ...string) string {
		app := te.app("app", args...)
		app.Environment = []types.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}}
		app.HealthCheck = te.serviceHealthCheck(3)
		return te.register(name, "", app)
	}

	// v1: three tasks, COMPLETED once their health checks pass.
	v1 := def("v1")
	created := te.createService(ecs.CreateServiceInput{
		ServiceName: aws.String(name), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(3),
	})
	if aws.ToString(created.Status) != "ACTIVE" || len(created.Deployments) != 1 || created.DesiredCount != 3 ||
		created.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress ||
		aws.ToString(created.Deployments[0].RolloutStateReason) != "ECS deployment "+aws.ToString(created.Deployments[0].Id)+" in progress." ||
		created.SchedulingStrategy != types.SchedulingStrategyReplica || created.LaunchType != types.LaunchTypeEc2 {
		t.Errorf("CreateService answered %s", serviceString(created))
	}
	if dc := created.DeploymentConfiguration; dc == nil || aws.ToInt32(dc.MinimumHealthyPercent) != 100 || aws.ToInt32(dc.MaximumPercent) != 200 {
		t.Errorf("default deployment configuration: %+v", dc)
	}
	s := te.waitCompleted(name)
	id1 := aws.ToString(wantSettled(t, s, v1, 3).Id)
	if id1 != aws.ToString(created.Deployments[0].Id) {
		t.Errorf("completed deployment %s, created %s", id1, aws.ToString(created.Deployments[0].Id))
	}
	v1Tasks := te.wantServiceTasks(name, v1, id1, 3)
	for _, task := range v1Tasks {
		if task.HealthStatus != types.HealthStatusHealthy {
			t.Errorf("a task of the COMPLETED deployment is not HEALTHY: %s", taskString(task))
		}
	}
	if started := slices.Concat(startedTasks(t, s)...); len(started) != 3 {
		t.Errorf("started events name %v, want the three tasks", started)
	}
	wantEvents(t, s, completedEvent(name, id1), steadyEvent(name))

	// v2, minimumHealthyPercent 100, maximumPercent 200: at least 3
	// healthy and at most 6 tasks at every moment.
	v2 := def("v2")
	b := te.watchBounds(name, 3, 6, healthyByCheck)
	up := te.updateService(ecs.UpdateServiceInput{Service: aws.String(name), TaskDefinition: aws.String(v2),
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200)}})
	if len(up.Deployments) != 2 || aws.ToString(up.Deployments[0].Status) != "PRIMARY" || aws.ToString(up.Deployments[0].TaskDefinition) != v2 ||
		aws.ToString(up.Deployments[1].Status) != "ACTIVE" || aws.ToString(up.Deployments[1].Id) != id1 || aws.ToString(up.TaskDefinition) != v2 {
		t.Errorf("UpdateService answered %s", serviceString(up))
	}
	id2 := aws.ToString(up.Deployments[0].Id)
	s = te.waitCompleted(name)
	b.check(t)
	if got := aws.ToString(wantSettled(t, s, v2, 3).Id); got != id2 {
		t.Errorf("completed deployment %s, want %s", got, id2)
	}
	v2Tasks := te.wantServiceTasks(name, v2, id2, 3)
	for _, task := range v1Tasks {
		te.wantScaledDown(aws.ToString(task.TaskArn), id2)
	}
	wantEvents(t, s, completedEvent(name, id1), completedEvent(name, id2), steadyEvent(name))
	// minimumHealthyPercent 100: the new tasks start before any old one
	// stops.
	evs := eventMessages(s)
	firstStop := slices.IndexFunc(evs, func(e string) bool { return strings.Contains(e, ") has stopped ") })
	startedBefore := 0
	for _, e := range evs[:max(firstStop, 0)] {
		if m := startedPattern.FindStringSubmatch(e); m != nil {
			for _, r := range taskRefPattern.FindAllStringSubmatch(m[3], -1) {
				if slices.ContainsFunc(v2Tasks, func(task types.Task) bool { return lastSegment(aws.ToString(task.TaskArn)) == r[1] }) {
					startedBefore++
				}
			}
		}
	}
	if firstStop < 0 || startedBefore == 0 {
		t.Errorf("min 100%%: want v2 tasks started before the first v1 stop:\n  %s", strings.Join(evs, "\n  "))
	}

	// The same definition again (forceNewDeployment), minimumHealthyPercent
	// 50: at least ceil(3 × 0.5) = 2 healthy, at most 6 tasks.
	b = te.watchBounds(name, 2, 6, healthyByCheck)
	up = te.updateService(ecs.UpdateServiceInput{Service: aws.String(name), ForceNewDeployment: true,
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50)}})
	id2b := aws.ToString(up.Deployments[0].Id)
	if len(up.Deployments) != 2 || id2b == id2 || aws.ToString(up.Deployments[0].TaskDefinition) != v2 {
		t.Errorf("UpdateService (forceNewDeployment) answered %s", serviceString(up))
	}
	if dc := up.DeploymentConfiguration; dc == nil || aws.ToInt32(dc.MinimumHealthyPercent) != 50 || aws.ToInt32(dc.MaximumPercent) != 200 {
		t.Errorf("merged deployment configuration: %+v", dc)
	}
	s = te.waitCompleted(name)
	b.check(t)
	if got := aws.ToString(wantSettled(t, s, v2, 3).Id); got != id2b {
		t.Errorf("completed deployment %s, want %s", got, id2b)
	}
	te.wantServiceTasks(name, v2, id2b, 3)
	for _, task := range v2Tasks {
		te.wantScaledDown(aws.ToString(task.TaskArn), id2b)
	}

	// v3's container exits as it starts: each task reaches RUNNING for a
	// moment and stops before its first health check. The circuit breaker
	// counts them, fails v3 at the third and rolls back to the last
	// COMPLETED deployment (id2b, of v2), which must start a task again:
	// minimumHealthyPercent 50 let v3's rollout stop one v2 task first.
	v3 := def("v3", "--exit-code", "1")
	b = te.watchBounds(name, 2, 6, healthyByCheck)
	up = te.updateService(ecs.UpdateServiceInput{Service: aws.String(name), TaskDefinition: aws.String(v3),
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}}})
	id3 := aws.ToString(up.Deployments[0].Id)
	rolling := te.waitService(name, "the circuit breaker's rollback", func(s types.Service) bool {
		return len(s.Deployments) > 0 && aws.ToString(s.Deployments[0].Id) != id3
	})
	if len(rolling.Deployments) == 2 {
		p, f := rolling.Deployments[0], rolling.Deployments[1]
		if aws.ToString(p.Id) != id2b || aws.ToString(p.Status) != "PRIMARY" || aws.ToString(p.TaskDefinition) != v2 ||
			p.RolloutState != types.DeploymentRolloutStateInProgress ||
			aws.ToString(p.RolloutStateReason) != "ECS deployment circuit breaker: rolling back to deploymentId "+id2b+"." ||
			aws.ToString(rolling.TaskDefinition) != v2 {
			t.Errorf("rolling back: want PRIMARY %s (v2) IN_PROGRESS: %s", id2b, serviceString(rolling))
		}
		if aws.ToString(f.Id) != id3 || aws.ToString(f.Status) != "ACTIVE" || f.RolloutState != types.DeploymentRolloutStateFailed ||
			aws.ToString(f.RolloutStateReason) != "ECS deployment circuit breaker: tasks failed to start." || f.FailedTasks < 3 ||
			aws.ToString(f.TaskDefinition) != v3 {
			t.Errorf("rolling back: want the failed deployment ACTIVE, FAILED with the breaker's reason and at least 3 failed tasks: %s", serviceString(rolling))
		}
	} else {
		t.Errorf("want the failed deployment beside the rollback while it runs: %s", serviceString(rolling))
	}
	s = te.waitCompleted(name)
	b.check(t)
	if got := aws.ToString(wantSettled(t, s, v2, 3).Id); got != id2b {
		t.Errorf("rolled back to deployment %s, want %s", got, id2b)
	}
	te.wantServiceTasks(name, v2, id2b, 3)
	wantEvents(t, s, failedEvent(name, id3), rollingBackEvent(name, id2b), completedEvent(name, id2b), steadyEvent(name))
	failed := 0
	for _, task := range te.serviceTasks(name, types.DesiredStatusStopped) {
		if aws.ToString(task.StartedBy) != id3 {
			continue
		}
		if aws.ToString(task.LastStatus) != "STOPPED" || aws.ToString(task.TaskDefinitionArn) != v3 {
			t.Errorf("v3 task: %s", taskString(task))
		}
		switch task.StopCode {
		case types.TaskStopCodeEssentialContainerExited:
			failed++
			if aws.ToString(task.StoppedReason) != "Essential container in task exited" || exitCode(container(t, task, "app")) != "1" ||
				task.HealthStatus == types.HealthStatusHealthy {
				t.Errorf("v3 task: want %q, exit code 1, never HEALTHY: %s", "Essential container in task exited", taskString(task))
			}
		case types.TaskStopCodeServiceSchedulerInitiated: // stopped by the rollback before it exited
			if aws.ToString(task.StoppedReason) != scalingReason(id2b) {
				t.Errorf("v3 task stopped by the rollback: want %q: %s", scalingReason(id2b), taskString(task))
			}
		default:
			t.Errorf("v3 task: unexpected stop code: %s", taskString(task))
		}
	}
	if failed < 3 {
		t.Errorf("%d v3 tasks exited, want at least the 3 that tripped the breaker", failed)
	}
	// The deployment history: v3 rolled back.
	hist, err := te.ecs.ListServiceDeployments(ctx(t), &ecs.ListServiceDeploymentsInput{Cluster: aws.String(te.cluster), Service: aws.String(name),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusRollbackSuccessful}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.ServiceDeployments) != 1 || !strings.HasSuffix(aws.ToString(hist.ServiceDeployments[0].ServiceDeploymentArn), "/"+strings.TrimPrefix(id3, "ecs-svc/")) {
		t.Errorf("ListServiceDeployments ROLLBACK_SUCCESSFUL: %+v, want v3's deployment %s alone", hist.ServiceDeployments, id3)
	}
}

// TestService_ReplacesKilledTask kills one task's container with the
// engine (docker kill): the task stops with EssentialContainerExited, exit
// code 137, and the service starts a replacement, back to its desired
// count, in the same deployment.
func TestService_ReplacesKilledTask(t *testing.T) {
	te := newServiceEnv(t, deploy.Config{}, agentOptions{})
	ag := te.agents[0]
	const name = "crashy"
	def := te.register(name, "", te.app("app"))
	te.createService(ecs.CreateServiceInput{ServiceName: aws.String(name), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(2)})
	s := te.waitCompleted(name)
	id := aws.ToString(wantSettled(t, s, def, 2).Id)
	tasks := te.wantServiceTasks(name, def, id, 2)
	victim, survivor := tasks[0], tasks[1]
	rid := aws.ToString(container(t, victim, "app").RuntimeId)
	ag.waitListening(t, rid)

	if _, err := dockertest.RequireDocker(t).ContainerKill(ctx(t), rid, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatalf("docker kill %s: %v", rid, err)
	}
	arn := aws.ToString(victim.TaskArn)
	task := te.waitTaskStopped(arn)
	if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(task.StoppedReason) != "Essential container in task exited" ||
		exitCode(container(t, task, "app")) != "137" || aws.ToString(task.StartedBy) != id || aws.ToString(task.Group) != "service:"+name {
		t.Errorf("killed task: want EssentialContainerExited, %q, exit 137, startedBy %s, group service:%s: %s (startedBy %s, group %s)",
			"Essential container in task exited", id, name, taskString(task), aws.ToString(task.StartedBy), aws.ToString(task.Group))
	}
	te.waitService(name, "a replacement", func(s types.Service) bool { return len(slices.Concat(startedTasks(t, s)...)) == 3 })
	s = te.waitCompleted(name)
	if d := wantSettled(t, s, def, 2); aws.ToString(d.Id) != id {
		t.Errorf("the replacement made a new deployment: %s", serviceString(s))
	}
	var replacement string
	for _, task := range te.wantServiceTasks(name, def, id, 2) {
		switch aws.ToString(task.TaskArn) {
		case aws.ToString(survivor.TaskArn):
		case arn:
			t.Errorf("the killed task is live again: %s", taskString(task))
		default:
			replacement = lastSegment(aws.ToString(task.TaskArn))
		}
	}
	if replacement == "" {
		t.Fatal("no replacement among the service's tasks")
	}
	if started := startedTasks(t, s); len(started) != 2 || !slices.Equal(started[1], []string{replacement}) {
		t.Errorf("started events %v, want the first two tasks, then %s alone", started, replacement)
	}
	wantEvents(t, s, startedEvent(name, replacement))
	// A task that exits is not stopped by the scheduler: no stop event.
	noEvent(t, s, ") has stopped ")
}
