package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/driver"
)

// writeManifest writes a `berth deploy` manifest for service name whose
// only container runs entryPoint.
func (te *taskEnv) writeManifest(name, entryPoint string) string {
	te.t.Helper()
	m := fmt.Sprintf(`# berth deploy manifest (test)
cluster: %s
service: %s
desiredCount: 2
deploymentConfiguration:
  minimumHealthyPercent: 100
  maximumPercent: 200
  deploymentCircuitBreaker:
    enable: true
    rollback: true
taskDefinition:
  family: %s
  containerDefinitions:
    - name: app
      image: %s
      memory: 64
      entryPoint: [%q]
`, te.cluster, name, name, te.image, entryPoint)
	path := filepath.Join(te.t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(m), 0o600); err != nil {
		te.t.Fatal(err)
	}
	return path
}

// TestService_DeployCommand runs `berth deploy -f` (the command line, in
// process) against the server: a first deployment that completes exits
// 0; a revision whose container cannot start trips the circuit breaker,
// is rolled back, and exits 1; a manifest with an unknown field exits 2
// and changes nothing.
func TestService_DeployCommand(t *testing.T) {
	te := newServiceEnv(t, deploy.Config{}, agentOptions{})
	const name = "cli-web"
	long := func(args ...string) berthResult {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		return te.berth(c, args...)
	}

	good := te.writeManifest(name, te.bin)
	r := long("deploy", "-f", good)
	if r.code != 0 {
		t.Fatalf("berth deploy (good): exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	s := te.service(name)
	v1 := aws.ToString(s.TaskDefinition)
	d := wantSettled(t, s, v1, 2)
	id1 := aws.ToString(d.Id)
	if lastSegment(v1) != name+":1" || !strings.Contains(r.stdout, "registered "+name+":1") ||
		!strings.Contains(r.stdout, "deployment "+id1+" completed") || !strings.Contains(r.stdout, completedEvent(name, id1)) {
		t.Errorf("berth deploy (good) printed:\n%s", r.stdout)
	}
	te.wantServiceTasks(name, v1, id1, 2)

	// -o json of the service is what the AWS CLI prints (events aside,
	// which may grow between the two calls).
	te.compareWithAWSCLI(name)

	// The events of the first rollout, which the next deploy does not print.
	var earlier []string
	for _, e := range te.service(name).Events {
		if m := aws.ToString(e.Message); strings.Contains(m, "has started") {
			earlier = append(earlier, m)
		}
	}
	if len(earlier) == 0 {
		t.Fatalf("no start event in the first rollout: %s", serviceString(te.service(name)))
	}

	// The same service with an entry point that does not exist: every
	// task fails to start (stage 1 of the circuit breaker), the third
	// failure fails the deployment and the service rolls back to v1.
	bad := te.writeManifest(name, "/no/such/program")
	r = long("deploy", "-f", bad)
	if r.code != 1 {
		t.Fatalf("berth deploy (bad): exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "registered "+name+":2") || !strings.Contains(r.stderr, " failed: ") ||
		!strings.Contains(r.stderr, "tasks failed to start.") || !strings.Contains(r.stderr, "rolled back to "+name+":1") ||
		strings.Contains(r.stderr, "was replaced") {
		t.Errorf("berth deploy (bad) printed:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	for _, m := range earlier {
		if strings.Contains(r.stdout, m) {
			t.Errorf("berth deploy (bad) printed an event of the earlier rollout, %q:\n%s", m, r.stdout)
		}
	}
	s = te.waitCompleted(name)
	if got := aws.ToString(wantSettled(t, s, v1, 2).Id); got != id1 {
		t.Errorf("rolled back to deployment %s, want %s", got, id1)
	}
	wantEvents(t, s, rollingBackEvent(name, id1), completedEvent(name, id1), steadyEvent(name))
	failed := 0
	for _, task := range te.serviceTasks(name, types.DesiredStatusStopped) {
		if lastSegment(aws.ToString(task.TaskDefinitionArn)) != name+":2" || task.StopCode != types.TaskStopCodeTaskFailedToStart {
			continue
		}
		failed++
		if task.StartedAt != nil || !strings.HasPrefix(aws.ToString(container(t, task, "app").Reason), "CannotStartContainerError") {
			t.Errorf("a task of the bad revision: %s", taskString(task))
		}
	}
	if failed < 3 {
		t.Errorf("%d tasks of the bad revision failed to start, want at least the 3 that tripped the breaker", failed)
	}

	// A typo in the manifest: exit 2, nothing registered.
	typo := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(typo, []byte("service: "+name+"\ndesiredCout: 3\ntaskDefinition: {family: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := te.berth(ctx(t), "deploy", "-f", typo); r.code != 2 || !strings.Contains(r.stderr, "desiredCout") {
		t.Errorf("berth deploy (typo): exit %d, want 2\nstderr:\n%s", r.code, r.stderr)
	}
	// No desiredCount, or a wrong type: exit 2, the member named as in the file.
	for body, want := range map[string]string{
		"service: " + name + "\ntaskDefinition: {containerDefinitions: [{name: app, image: x, memory: 64}]}\n":                     "desiredCount is required",
		"service: " + name + "\ndesiredCount: many\ntaskDefinition: {containerDefinitions: [{name: app, image: x, memory: 64}]}\n": "desiredCount: must be a whole number",
		"service: " + name + "\ndesiredCount: 1\ntaskDefinition: {containerDefinitions: [{name: app, memory: 64}]}\n":              "taskDefinition.containerDefinitions[0].image is required",
	} {
		if err := os.WriteFile(typo, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := te.berth(ctx(t), "deploy", "-f", typo); r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("berth deploy (%q): exit %d, want 2 and %q\nstderr:\n%s", body, r.code, want, r.stderr)
		}
	}
	if s := te.service(name); aws.ToString(s.TaskDefinition) != v1 || s.DesiredCount != 2 || len(s.Deployments) != 1 {
		t.Errorf("a bad manifest changed the service: %s", serviceString(s))
	}
	if tds := te.mustBerth("task-definitions", "--family-prefix", name); strings.Contains(tds, name+":3") {
		t.Errorf("a bad manifest registered a revision:\n%s", tds)
	}
}

// TestService_HealthCheckGracePeriod runs a service whose container
// answers its health check with a failure at first. With
// healthCheckGracePeriodSeconds the UNHEALTHY task is kept: a later round
// (a scale-out, which proves the scheduler looked) leaves it running, and
// once the application heals the deployment completes with it. Without a
// grace period, a task that turns UNHEALTHY is stopped and replaced at
// once, with ECS's events.
func TestService_HealthCheckGracePeriod(t *testing.T) {
	te := newServiceEnv(t, deploy.Config{}, agentOptions{})
	ag := te.agents[0]
	const name = "slowstart"
	app := te.app("app", "--unhealthy")
	app.HealthCheck = te.serviceHealthCheck(1)
	def := te.register(name, "", app)
	te.createService(ecs.CreateServiceInput{ServiceName: aws.String(name), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(1),
		HealthCheckGracePeriodSeconds: aws.Int32(3600)})
	// call runs the application's /heal or /fail in the task's container.
	call := func(task types.Task, path string) {
		t.Helper()
		rid := aws.ToString(container(t, task, "app").RuntimeId)
		res, err := ag.drv.Exec(ctx(t), driver.Handle{ID: rid}, []string{te.bin, "health", "--timeout", "20s", "http://127.0.0.1:8080" + path}, 30*time.Second)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("exec %s in %s: %v %+v", path, rid, err, res)
		}
	}
	waitHealth := func(arn string, h types.HealthStatus) types.Task {
		t.Helper()
		return te.waitFor(arn, "health "+string(h), func(task types.Task) bool { return task.HealthStatus == h })
	}

	te.waitService(name, "a task", func(s types.Service) bool { return s.RunningCount == 1 })
	first := te.serviceTasks(name, types.DesiredStatusRunning)[0]
	arn1 := aws.ToString(first.TaskArn)
	first = waitHealth(arn1, types.HealthStatusUnhealthy)

	// Scale out while it is UNHEALTHY: the round that starts the second
	// task sees the first one UNHEALTHY and, within the grace period,
	// keeps it.
	te.updateService(ecs.UpdateServiceInput{Service: aws.String(name), DesiredCount: aws.Int32(2)})
	s := te.waitService(name, "a second task", func(s types.Service) bool { return len(startedTasks(t, s)) == 2 })
	if task := te.describe(arn1); aws.ToString(task.DesiredStatus) != "RUNNING" || aws.ToString(task.LastStatus) != "RUNNING" ||
		task.HealthStatus != types.HealthStatusUnhealthy {
		t.Fatalf("the UNHEALTHY task within its grace period: %s", taskString(task))
	}
	if d := s.Deployments[0]; d.RolloutState != types.DeploymentRolloutStateInProgress {
		t.Errorf("the deployment completed with an UNHEALTHY task: %s", serviceString(s))
	}
	started := startedTasks(t, s)
	arn2 := ""
	for _, task := range te.serviceTasks(name, types.DesiredStatusRunning) {
		if aws.ToString(task.TaskArn) != arn1 {
			arn2 = aws.ToString(task.TaskArn)
		}
	}
	if arn2 == "" || len(started[1]) != 1 || started[1][0] != lastSegment(arn2) {
		t.Fatalf("started events %v, second task %s", started, arn2)
	}

	// The application heals: both tasks turn HEALTHY and the deployment
	// completes with the tasks it started, none replaced.
	call(first, "/heal")
	second := te.waitFor(arn2, "RUNNING", func(task types.Task) bool { return aws.ToString(task.LastStatus) == "RUNNING" })
	te.agentOf(second).waitListening(t, aws.ToString(container(t, second, "app").RuntimeId))
	call(second, "/heal")
	s = te.waitCompleted(name)
	id := aws.ToString(wantSettled(t, s, def, 2).Id)
	te.wantServiceTasks(name, def, id, 2)
	if got := startedTasks(t, s); len(got) != 2 {
		t.Errorf("started events %v, want the two tasks only", got)
	}
	noEvent(t, s, "failed container health checks")
	if stopped := te.serviceTasks(name, types.DesiredStatusStopped); len(stopped) != 0 {
		t.Errorf("%d tasks stopped within the grace period", len(stopped))
	}

	// No grace period: a task that fails its health check is stopped and
	// replaced.
	te.updateService(ecs.UpdateServiceInput{Service: aws.String(name), HealthCheckGracePeriodSeconds: aws.Int32(0)})
	call(first, "/fail")
	task := te.waitTaskStopped(arn1)
	if task.StopCode != types.TaskStopCodeServiceSchedulerInitiated || aws.ToString(task.StoppedReason) != "Task failed container health checks" {
		t.Errorf("the UNHEALTHY task without a grace period: want ServiceSchedulerInitiated, %q: %s", "Task failed container health checks", taskString(task))
	}
	// The third start replaces it (the replacement starts unhealthy too
	// and is replaced in turn, so there may be more by now).
	s = te.waitService(name, "a replacement", func(s types.Service) bool { return len(startedTasks(t, s)) >= 3 })
	replacement := startedTasks(t, s)[2]
	wantEvents(t, s, unhealthyEvent(name, lastSegment(arn1)), stoppedEvent(name, lastSegment(arn1)),
		startedEvent(name, replacement...)+" Amazon ECS replaced 1 tasks due to an unhealthy status.")
	if got := aws.ToString(te.service(name).Deployments[0].Id); got != id {
		t.Errorf("replacing an unhealthy task made a new deployment %s", got)
	}
	// The replacement starts unhealthy too and has no grace period: stop
	// the churn before the test ends.
	te.updateService(ecs.UpdateServiceInput{Service: aws.String(name), DesiredCount: aws.Int32(0)})
}
