package lb

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestRollingDeploymentDropsNothing is the promise: a steady 200 requests/s
// through a load balancer in front of a service while it rolls from v1 to
// v2, scales in, and has an instance drained: no request fails, and the
// answers switch from v1 to v2.
func TestRollingDeploymentDropsNothing(t *testing.T) {
	e := newEnv(t, 2)
	addr, tgARN, _ := e.alb("web", 3*time.Second)
	e.service("web", e.webDef("v1"), tgARN, 3, 0)
	e.waitStable("web", 2*time.Minute)

	// Every target is healthy in the target group, and the target-in-service
	// waiter says so.
	w := elb.NewTargetInServiceWaiter(e.elb, func(o *elb.TargetInServiceWaiterOptions) { o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second })
	if err := w.Wait(e.ctx(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)}, time.Minute); err != nil {
		t.Fatalf("targets not in service: %v", err)
	}

	l := startLoad(t, addr+":80", 200)
	l.WaitAnswers(t, "v1", 200, 30*time.Second)

	// Roll to v2.
	if _, err := e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"),
		TaskDefinition: aws.String(e.webDef("v2"))}); err != nil {
		t.Fatal(err)
	}
	e.waitStable("web", 3*time.Minute)
	l.WaitAnswers(t, "v2", 200, 30*time.Second)
	mark := func() map[string]int { ok, _, _, _ := l.Snapshot(); return ok }
	before := mark()

	// Scale in.
	if _, err := e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	e.waitStable("web", 2*time.Minute)

	// Drain the instance that runs the most tasks.
	lt, err := e.ecs.ListTasks(e.ctx(), &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	dt, err := e.ecs.DescribeTasks(e.ctx(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: lt.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	busiest := ""
	for _, task := range dt.Tasks {
		ci := aws.ToString(task.ContainerInstanceArn)
		per[ci]++
		if per[ci] > per[busiest] {
			busiest = ci
		}
	}
	if _, err := e.ecs.UpdateContainerInstancesState(e.ctx(), &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{busiest}, Status: ecstypes.ContainerInstanceStatusDraining}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.ecs.DescribeContainerInstances(e.ctx(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: []string{busiest}})
		if err == nil && out.ContainerInstances[0].RunningTasksCount == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the drained instance still runs tasks after 2 minutes")
		}
		time.Sleep(250 * time.Millisecond)
	}
	e.waitStable("web", 2*time.Minute)
	l.WaitAnswers(t, "v2", mark()["v2"]+200, 30*time.Second)
	l.Finish()

	ok, fails, causes, last := l.Snapshot()
	t.Logf("answers %v, failures %d; v2 answers after the rollout %d", ok, fails, ok["v2"]-before["v2"])
	if fails != 0 {
		t.Fatalf("%d requests failed through the rolling deployment, scale-in and draining: %v", fails, causes)
	}
	if ok["v1"] == 0 || ok["v2"] == 0 || last != "v2" {
		t.Fatalf("answers did not switch from v1 to v2: %v, last %q", ok, last)
	}

	// The service shows its load balancer and ECS's events.
	svc := e.waitStable("web", time.Minute)
	if len(svc.LoadBalancers) != 1 || aws.ToString(svc.LoadBalancers[0].TargetGroupArn) != tgARN {
		t.Fatalf("service load balancers: %+v", svc.LoadBalancers)
	}
	var registered, drained bool
	for _, ev := range svc.Events {
		m := aws.ToString(ev.Message)
		registered = registered || strings.Contains(m, "registered 1 targets in (target-group "+tgARN+")")
		drained = drained || strings.Contains(m, "has begun draining connections on 1 tasks.")
	}
	if !registered || !drained {
		t.Fatalf("service events lack registration or draining: %v", eventTexts(svc))
	}
	// Only the running tasks are registered targets (the replacement of a
	// drained task may still be in its initial checks: a drain does not
	// make a new deployment); the stopped ones drained and left, or are
	// still shown draining.
	var th *elb.DescribeTargetHealthOutput
	deadline = time.Now().Add(time.Minute)
	for {
		var err error
		th, err = e.elb.DescribeTargetHealth(e.ctx(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			t.Fatal(err)
		}
		initial := 0
		for _, d := range th.TargetHealthDescriptions {
			if d.TargetHealth.State == elbtypes.TargetHealthStateEnumInitial {
				initial++
			}
		}
		if initial == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	healthy := 0
	for _, d := range th.TargetHealthDescriptions {
		switch d.TargetHealth.State {
		case elbtypes.TargetHealthStateEnumHealthy:
			healthy++
		case elbtypes.TargetHealthStateEnumDraining:
		default:
			t.Errorf("target %s:%d is %s (%s)", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port), d.TargetHealth.State, d.TargetHealth.Reason)
		}
	}
	if healthy != 2 {
		t.Fatalf("%d healthy targets, want 2", healthy)
	}
}

func eventTexts(svc ecstypes.Service) []string {
	var out []string
	for _, ev := range svc.Events {
		out = append(out, aws.ToString(ev.Message))
	}
	return out
}
