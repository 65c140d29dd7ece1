package lb

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestServiceLoadBalancerValidation: CreateService and UpdateService
// refuse loadBalancers that do not fit the task definition or the target
// group with ECS's InvalidParameterException and messages (traffic.md
// E.3), and an UpdateService that replaces them starts a new deployment.
func TestServiceLoadBalancerValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	lbARN := e.newLB("val", elbtypes.LoadBalancerTypeEnumApplication)
	inst := e.targetGroup("inst", elbtypes.ProtocolEnumHttp, 8080, elbtypes.TargetTypeEnumInstance, 0)
	inst2 := e.targetGroup("inst2", elbtypes.ProtocolEnumHttp, 8080, elbtypes.TargetTypeEnumInstance, 0)
	ip := e.targetGroup("ip", elbtypes.ProtocolEnumHttp, 8080, elbtypes.TargetTypeEnumIp, 0)
	idle := e.targetGroup("idle", elbtypes.ProtocolEnumHttp, 8080, elbtypes.TargetTypeEnumInstance, 0)
	l := e.listener(lbARN, elbtypes.ProtocolEnumHttp, 80, "", forward(inst))
	for i, tg := range []string{ip, inst2} {
		if _, err := e.elb.CreateRule(e.ctx(), &elb.CreateRuleInput{ListenerArn: aws.String(l), Priority: aws.Int32(int32(10 + i)),
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{fmt.Sprintf("/r%d/*", i)}}},
			Actions:    forward(tg)}); err != nil {
			t.Fatalf("create rule: %v", err)
		}
	}
	bridge := e.webDef("v1")
	awsvpc, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("vpc"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(e.image), Memory: aws.Int32(64),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	vpc := aws.ToString(awsvpc.TaskDefinition.TaskDefinitionArn)
	lb := func(tg, container string, port int32) ecstypes.LoadBalancer {
		return ecstypes.LoadBalancer{TargetGroupArn: aws.String(tg), ContainerName: aws.String(container), ContainerPort: aws.Int32(port)}
	}
	create := func(name, taskDef string, lbs ...ecstypes.LoadBalancer) error {
		in := &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name), TaskDefinition: aws.String(taskDef),
			DesiredCount: aws.Int32(0), LoadBalancers: lbs}
		if taskDef == vpc {
			in.NetworkConfiguration = &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}
		}
		_, err := e.ecs.CreateService(e.ctx(), in)
		return err
	}
	invalid := func(what string, err error, want string) {
		t.Helper()
		var ipe *ecstypes.InvalidParameterException
		if !errors.As(err, &ipe) || ipe.ErrorMessage() != want {
			t.Errorf("%s: %v, want InvalidParameterException %q", what, err, want)
		}
	}
	six := []ecstypes.LoadBalancer{}
	for i := range 6 {
		six = append(six, lb(inst, "app", int32(8080+i)))
	}
	for _, tc := range []struct {
		what, taskDef string
		lbs           []ecstypes.LoadBalancer
		want          string
	}{
		{"ip target group, bridge task definition", bridge, []ecstypes.LoadBalancer{lb(ip, "app", 8080)},
			"The provided target group " + ip + " has target type ip, which is incompatible with the bridge network mode specified in the task definition."},
		{"instance target group, awsvpc task definition", vpc, []ecstypes.LoadBalancer{lb(inst, "app", 8080)},
			"The provided target group " + inst + " has target type instance, which is incompatible with the awsvpc network mode specified in the task definition."},
		{"container not in the task definition", bridge, []ecstypes.LoadBalancer{lb(inst, "web", 8080)},
			"The container web does not exist in the task definition."},
		{"port not in the task definition", bridge, []ecstypes.LoadBalancer{lb(inst, "app", 9090)},
			"The container app did not have a container port 9090 defined."},
		{"target group without a load balancer", bridge, []ecstypes.LoadBalancer{lb(idle, "app", 8080)},
			"The target group with targetGroupArn " + idle + " does not have an associated load balancer."},
		{"blank container name", bridge, []ecstypes.LoadBalancer{lb(inst, "", 8080)}, "Container Name can not be blank."},
		{"six load balancers", bridge, six,
			"A service can have at most 5 load balancers (target groups); 6 were given."},
	} {
		invalid("CreateService, "+tc.what, create("bad", tc.taskDef, tc.lbs...), tc.want)
	}
	if out, err := e.ecs.ListServices(e.ctx(), &ecs.ListServicesInput{Cluster: aws.String(cluster)}); err != nil || len(out.ServiceArns) != 0 {
		t.Fatalf("refused creates left services: %v %v", out, err)
	}

	// A valid service; UpdateService validates the same way, and replacing
	// its load balancers starts a new deployment.
	if err := create("web", bridge, lb(inst, "app", 8080)); err != nil {
		t.Fatalf("create service: %v", err)
	}
	describe := func() ecstypes.Service {
		out, err := e.ecs.DescribeServices(e.ctx(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe service: %v", err)
		}
		return out.Services[0]
	}
	primary := func(svc ecstypes.Service) string {
		for _, d := range svc.Deployments {
			if aws.ToString(d.Status) == "PRIMARY" {
				return aws.ToString(d.Id)
			}
		}
		t.Fatalf("no PRIMARY deployment: %+v", svc.Deployments)
		return ""
	}
	first := primary(describe())
	update := func(lbs ...ecstypes.LoadBalancer) error {
		_, err := e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), LoadBalancers: lbs})
		return err
	}
	invalid("UpdateService, ip target group, bridge task definition", update(lb(ip, "app", 8080)),
		"The provided target group "+ip+" has target type ip, which is incompatible with the bridge network mode specified in the task definition.")
	invalid("UpdateService, port not in the task definition", update(lb(inst2, "app", 1)), "The container app did not have a container port 1 defined.")
	// A new task definition must keep the container port the service's
	// load balancer names.
	other, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(e.image), Memory: aws.Int32(64),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(9000)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"),
		TaskDefinition: other.TaskDefinition.TaskDefinitionArn})
	invalid("UpdateService, a task definition without the port", err, "The container app did not have a container port 8080 defined.")
	if got := primary(describe()); got != first {
		t.Fatalf("a refused update started deployment %s", got)
	}
	if err := update(lb(inst2, "app", 8080)); err != nil {
		t.Fatalf("update load balancers: %v", err)
	}
	svc := describe()
	if got := primary(svc); got == first {
		t.Fatalf("replacing the load balancers started no deployment: %+v", svc.Deployments)
	}
	if len(svc.LoadBalancers) != 1 || aws.ToString(svc.LoadBalancers[0].TargetGroupArn) != inst2 ||
		aws.ToString(svc.LoadBalancers[0].ContainerName) != "app" || aws.ToInt32(svc.LoadBalancers[0].ContainerPort) != 8080 {
		t.Fatalf("service load balancers after the update: %+v", svc.LoadBalancers)
	}
}
