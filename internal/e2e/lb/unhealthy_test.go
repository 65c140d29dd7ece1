package lb

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestTaskFailingELBChecksIsReplaced: a service task whose /health starts
// answering 500 is marked unhealthy by the data plane's checks, stopped
// by ECS with ECS's reason and event, and replaced by a task that passes.
func TestTaskFailingELBChecksIsReplaced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	_, tg, _ := e.alb("web", 2*time.Second)
	e.service("web", e.webDef("v1"), tg, 2, 0)
	e.waitStable("web", 2*time.Minute)
	e.waitInService(tg, time.Minute)

	tasks := e.runningTasks("web", 2, 10*time.Second)
	sick := tasks[0]
	port := hostPort(t, sick)
	instance := e.instanceID(sick)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/fail", port))
	if err != nil {
		t.Fatalf("GET /fail of the task: %v", err)
	}
	resp.Body.Close()

	// The task stops for its ELB checks.
	arn := aws.ToString(sick.TaskArn)
	deadline := time.Now().Add(90 * time.Second)
	for {
		task := e.task(arn)
		if aws.ToString(task.LastStatus) == "STOPPED" {
			if want := "Task failed ELB health checks in (target-group " + tg + ")"; aws.ToString(task.StoppedReason) != want {
				t.Fatalf("stopped reason %q, want %q", aws.ToString(task.StoppedReason), want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unhealthy task is %s (desired %s, reason %q) after 90s", aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus),
				aws.ToString(task.StoppedReason))
		}
		time.Sleep(250 * time.Millisecond)
	}
	e.waitEvent("web", fmt.Sprintf("(service web) (instance %s) (port %d) is unhealthy in (target-group %s) due to (reason Health checks failed with these codes: [500]).",
		instance, port, tg), 10*time.Second)

	// A replacement runs and passes its checks.
	e.waitStable("web", 2*time.Minute)
	now := e.runningTasks("web", 2, 30*time.Second)
	if slices.ContainsFunc(now, func(task ecstypes.Task) bool { return aws.ToString(task.TaskArn) == arn }) {
		t.Fatalf("the unhealthy task %s still runs", arn)
	}
	for _, task := range now {
		e.waitTargetState(tg, instance, hostPort(t, task), elbtypes.TargetHealthStateEnumHealthy, time.Minute)
	}
}

// TestGracePeriodKeepsUnhealthyTasks: during healthCheckGracePeriodSeconds
// a task whose target is unhealthy is not replaced. The assertion is a
// bounded observation window: once the data plane reports the target
// unhealthy, the task must stay RUNNING for four more health-check
// intervals (20 s), all well inside the 120 s grace period. When it heals,
// it serves and the service becomes stable with the same task.
func TestGracePeriodKeepsUnhealthyTasks(t *testing.T) {
	t.Parallel()
	const (
		grace    = 120 * time.Second
		interval = 5 * time.Second // the harness's target groups
		window   = 4 * interval
	)
	e := newEnv(t, 1)
	_, tg, _ := e.alb("grace", 0)
	created := time.Now()
	e.service("grace", e.appDef("v1", "--unhealthy"), tg, 1, int32(grace.Seconds()))
	task := e.runningTasks("grace", 1, time.Minute)[0]
	arn, port := aws.ToString(task.TaskArn), hostPort(t, task)
	instance := e.instanceID(task)

	h := e.waitTargetState(tg, instance, port, elbtypes.TargetHealthStateEnumUnhealthy, time.Minute)
	if h.Reason != elbtypes.TargetHealthReasonEnumResponseCodeMismatch {
		t.Fatalf("the target is unhealthy for %s, want %s", h.Reason, elbtypes.TargetHealthReasonEnumResponseCodeMismatch)
	}
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		got := e.task(arn)
		if aws.ToString(got.LastStatus) != "RUNNING" || aws.ToString(got.DesiredStatus) != "RUNNING" {
			t.Fatalf("%s into the grace period the unhealthy task is %s (desired %s, reason %q)", time.Since(created).Round(time.Second),
				aws.ToString(got.LastStatus), aws.ToString(got.DesiredStatus), aws.ToString(got.StoppedReason))
		}
		if h := e.targetHealth(tg, instance, port); h.State != elbtypes.TargetHealthStateEnumUnhealthy {
			t.Fatalf("the target became %s during the window: the window observed nothing", h.State)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if elapsed := time.Since(created); elapsed > grace-10*time.Second {
		t.Fatalf("the observation ended %s after the service was created: too close to the %s grace period to prove anything", elapsed, grace)
	}

	// Healed, the same task passes and the deployment completes with it.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/heal", port))
	if err != nil {
		t.Fatalf("GET /heal of the task: %v", err)
	}
	resp.Body.Close()
	e.waitTargetState(tg, instance, port, elbtypes.TargetHealthStateEnumHealthy, time.Minute)
	e.waitStable("grace", time.Minute)
	if now := e.runningTasks("grace", 1, 10*time.Second); aws.ToString(now[0].TaskArn) != arn {
		t.Fatalf("the task was replaced: %s, was %s", aws.ToString(now[0].TaskArn), arn)
	}
}
