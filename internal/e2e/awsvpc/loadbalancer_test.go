package awsvpc

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth.dev/berth/internal/e2e/steadyload"
)

// lbPool is the load balancers' address pool: outside the segment
// (10.251.0.0/24) and the task range (10.200.0.0/16).
const lbPool = "10.252.0.0/24"

// A FARGATE service in awsvpc behind an application load balancer: its
// tasks are ip targets at their own addresses, and a steady load through
// a `berth lb` node on an agent host (which routes to every host's task
// subnet) sees no failure while the service rolls from v1 to v2 and
// scales in; the answers switch from v1 to v2, and the target group ends
// with the remaining task's address alone.
func TestFargateServiceBehindLoadBalancer(t *testing.T) {
	t.Run("docker", func(t *testing.T) { testFargateLB(t, "docker") })
	t.Run("process", func(t *testing.T) { testFargateLB(t, "process") })
}

func testFargateLB(t *testing.T, rt string) {
	c := newCluster(t, rt, "--lb-addresses", lbPool)
	image := ""
	if rt == "docker" {
		_, image = dockerSetup(t, c)
	}
	c.agent(2)
	c.agent(3)
	c.instances(2)
	lbNS := c.agents[2].ns
	start(t, "lb", lbNS, "lb", "--endpoint", "http://"+serverAddr+":4566", "--region", region, "--node", "lb-1",
		"--data-dir", t.TempDir(), "--log-level", "debug")
	ctx := context.Background()
	el := c.elb()

	// The load balancer, its ip target group and listener.
	lbOut, err := el.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"),
		Type: elbtypes.LoadBalancerTypeEnumApplication, Subnets: []string{"subnet-0a1b2c3d", "subnet-0a1b2c3e"}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := aws.ToString(lbOut.LoadBalancers[0].LoadBalancerArn)
	tgOut, err := el.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := aws.ToString(tgOut.TargetGroups[0].TargetGroupArn)
	if _, err := el.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("5")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := el.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}}); err != nil {
		t.Fatal(err)
	}
	var lbAddr string
	c.eventually(time.Minute, "the load balancer active", func() error {
		d, err := el.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
		if err != nil {
			return err
		}
		lb := d.LoadBalancers[0]
		if lb.State == nil || lb.State.Code != elbtypes.LoadBalancerStateEnumActive {
			return fmt.Errorf("state %+v", lb.State)
		}
		for _, az := range lb.AvailabilityZones {
			for _, a := range az.LoadBalancerAddresses {
				lbAddr = aws.ToString(a.IpAddress)
			}
		}
		if lbAddr == "" {
			return fmt.Errorf("no address in %+v", lb.AvailabilityZones)
		}
		return nil
	})
	if !strings.HasPrefix(lbAddr, "10.252.0.") {
		t.Fatalf("load balancer address %s is not of the pool %s", lbAddr, lbPool)
	}

	// The service, behind the target group.
	v1, v2 := c.registerLBVersion(image, "1"), c.registerLBVersion(image, "2")
	if _, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: vpc,
		LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	}); err != nil {
		t.Fatal(err)
	}
	tasks := c.serviceTasks("web", 2)
	c.waitTargets(el, tgARN, taskIPs(tasks))
	subnets := map[string]bool{} // of the tasks behind the load balancer
	seen := func(tasks []types.Task) {
		for _, ip := range taskIPs(tasks) {
			subnets[ip[:strings.LastIndex(ip, ".")]] = true
		}
	}
	seen(tasks)

	// A steady load through the load balancer while the service rolls to
	// v2 and scales in.
	loadStart := time.Now()
	l := startNSLoad(t, lbNS, lbAddr, 80)
	l.WaitAnswers(t, "1", 100, 30*time.Second)
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	tasks = c.serviceTasks("web", 2)
	c.waitTargets(el, tgARN, taskIPs(tasks))
	seen(tasks)
	ok, _, _, _ := l.Snapshot()
	l.WaitAnswers(t, "2", ok["2"]+100, 30*time.Second)
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	tasks = c.serviceTasks("web", 1)
	c.waitTargets(el, tgARN, taskIPs(tasks))
	ok, _, _, _ = l.Snapshot()
	l.WaitAnswers(t, "2", ok["2"]+100, 30*time.Second)
	l.Finish()

	ok, fails, causes, last := l.Snapshot()
	t.Logf("answers by version %v, %d failures, in %s", ok, fails, time.Since(loadStart).Round(time.Second))
	if fails != 0 {
		t.Fatalf("%d requests failed through the roll and the scale-in: %v", fails, causes)
	}
	if ok["1"] == 0 || ok["2"] == 0 || last != "2" || len(ok) != 2 {
		t.Fatalf("answers did not switch from v1 to v2: %v, last %q", ok, last)
	}
	// The node on host 2 served tasks of both hosts' subnets.
	if len(subnets) != 2 {
		t.Errorf("the tasks behind the load balancer were in subnets %v: want both hosts'", subnets)
	}
	// ECS's events: the tasks were registered, and those that stopped
	// drained first.
	d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var registered, draining, deregistered int
	for _, ev := range d.Services[0].Events {
		m := aws.ToString(ev.Message)
		switch {
		case strings.Contains(m, "registered 1 targets in (target-group "+tgARN+")") && !strings.Contains(m, "deregistered"):
			registered++
		case strings.Contains(m, "has begun draining connections on 1 tasks."):
			draining++
		case strings.Contains(m, "deregistered 1 targets in (target-group "+tgARN+")"):
			deregistered++
		}
	}
	if registered < 4 || draining < 3 || deregistered < 3 {
		t.Errorf("events: %d registrations, %d drains, %d deregistrations; want 4, 3, 3 at least:\n%s", registered, draining, deregistered, eventList(d.Services[0]))
	}
}

func eventList(s types.Service) string {
	var out []string
	for _, ev := range s.Events {
		out = append(out, aws.ToString(ev.Message))
	}
	return strings.Join(out, "\n")
}

// elb is an ELBv2 client of the server, dialling from its namespace.
func (c *cluster) elb() *elb.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DialContext = dialer(c.srvNS) })
	return elb.New(elb.Options{
		Region: region, BaseEndpoint: aws.String("http://" + serverAddr + ":4566"), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	})
}

// registerLBVersion registers a revision of family "web-lb": the demo
// application (from image on Docker, from the test's binary on the
// process runtime) with VERSION=version in its environment.
func (c *cluster) registerLBVersion(image, version string) string {
	c.t.Helper()
	return c.registerApp(image, "web-lb", version)
}

// registerApp registers a revision of family: the demo application (from
// image on Docker, from the test's binary on the process runtime) with
// VERSION=version in its environment.
func (c *cluster) registerApp(image, family, version string) string {
	c.t.Helper()
	var entry []string
	if c.runtime == "process" {
		image, entry = "berth-demo:1", []string{berthBin, "demo-app"}
	}
	out, err := c.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), Essential: aws.Bool(true), EntryPoint: entry,
			Environment:  []types.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}},
		}},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func taskIPs(tasks []types.Task) []string {
	var ips []string
	for _, task := range tasks {
		ips = append(ips, detail(task, "privateIPv4Address"))
	}
	slices.Sort(ips)
	return ips
}

// waitTargets waits until the target group's targets are exactly ips, on
// port 8080, all healthy (drained targets gone).
func (c *cluster) waitTargets(el *elb.Client, tgARN string, ips []string) {
	c.t.Helper()
	c.eventually(time.Minute, fmt.Sprintf("targets %v healthy, alone", ips), func() error {
		out, err := el.DescribeTargetHealth(context.Background(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			return err
		}
		var got []string
		for _, d := range out.TargetHealthDescriptions {
			id, port := aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port)
			if d.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy || port != 8080 {
				return fmt.Errorf("target %s:%d is %s (%s)", id, port, d.TargetHealth.State, d.TargetHealth.Reason)
			}
			got = append(got, id)
		}
		slices.Sort(got)
		if !slices.Equal(got, ips) {
			return fmt.Errorf("targets %v", got)
		}
		return nil
	})
}

// startNSLoad keeps a steady rate of GET / to addr from inside namespace ns.
func startNSLoad(t *testing.T, ns, addr string, rate int) *steadyload.Load {
	return steadyload.Start(t, "http://"+addr+"/", rate, 8, &http.Transport{DialContext: dialer(ns), MaxIdleConnsPerHost: 16})
}
