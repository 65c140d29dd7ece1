package lb

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestServiceMovesToAnotherTargetGroup: UpdateService replacing a running
// service's loadBalancers rolls it onto the new target group: the new
// deployment's tasks are registered and healthy there and serve through
// its listener, and the old group drains empty.
func TestServiceMovesToAnotherTargetGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	addr, tg1, _ := e.alb("web", 2*time.Second)
	lbs, err := e.elb.DescribeLoadBalancers(e.ctx(), &elb.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	tg2 := e.targetGroup("web2", elbtypes.ProtocolEnumHttp, 8080, elbtypes.TargetTypeEnumInstance, 2*time.Second)
	e.listener(aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn), elbtypes.ProtocolEnumHttp, 81, "", forward(tg2))
	e.service("web", e.webDef("v1"), tg1, 2, 0)
	e.waitStable("web", 2*time.Minute)
	e.waitInService(tg1, time.Minute)
	old := map[string]bool{}
	for _, task := range e.runningTasks("web", 2, 30*time.Second) {
		old[aws.ToString(task.TaskArn)] = true
	}

	if _, err := e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"),
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tg2), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}}); err != nil {
		t.Fatalf("update load balancers: %v", err)
	}
	e.waitStable("web", 2*time.Minute)
	tasks := e.runningTasks("web", 2, 30*time.Second)
	for _, task := range tasks {
		if old[aws.ToString(task.TaskArn)] {
			t.Fatalf("task %s of the old deployment still runs", aws.ToString(task.TaskArn))
		}
		e.waitTargetState(tg2, e.instanceID(task), hostPort(t, task), elbtypes.TargetHealthStateEnumHealthy, time.Minute)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		th, err := e.elb.DescribeTargetHealth(e.ctx(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(th.TargetHealthDescriptions) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the old target group still has %d targets a minute after the rollout", len(th.TargetHealthDescriptions))
		}
		time.Sleep(250 * time.Millisecond)
	}
	l := startLoad(t, addr+":81", 50)
	l.WaitAnswers(t, "v1", 50, 30*time.Second)
	l.Finish()
	if _, fails, causes, _ := l.Snapshot(); fails != 0 {
		t.Fatalf("%d requests failed through the new target group: %v", fails, causes)
	}
}
