package lb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/inproc"
	"berth.dev/berth/internal/e2e/steadyload"
	lbengine "berth.dev/berth/internal/lb"
	"berth.dev/berth/internal/lbnode"
	"berth.dev/berth/internal/server"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDLBTEST0000000001"
	testSecret  = "lb-test-secret-0000000000000000000000000"
	cluster     = "web"
)

// env is a server with its data plane, a cluster, Docker agents and
// clients.
type env struct {
	t       *testing.T
	srv     *server.Server
	dir     string
	pool    string // the load balancers' address pool
	image   string
	ecs     *ecs.Client
	elb     *elb.Client
	acm     *acm.Client
	agents  []*agent.Agent
	lbStop  context.CancelFunc
	lbDone  chan struct{}
	lbState string
}

// newEnv starts a server (with its own load-balancer address pool), a data
// plane node, cluster "web" and n Docker agents (n > 0 requires Docker).
func newEnv(t *testing.T, n int) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.image = inproc.NoImage // without agents no task runs
	if n > 0 {
		e.image, _ = inproc.App(t, inproc.Docker)
	}
	e.pool = fmt.Sprintf("127.%d.%d.0/24", 2+rand.IntN(240), 1+rand.IntN(250))
	d := deploy.DefaultConfig()
	d.SettleTime = 2 * time.Second
	srv, cfg := inproc.StartServer(t, inproc.ServerOptions{Region: testRegion, Account: testAccount, KeyID: testKeyID, Secret: testSecret,
		DataDir: e.dir, Config: server.Config{Deploy: &d, LBAddresses: e.pool}})
	e.srv = srv
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.elb = elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.acm = acm.NewFromConfig(cfg, func(o *acm.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.lbState = filepath.Join(e.dir, "lb", "lb-config.json")
	e.startLB()
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	for range n {
		e.startAgent()
	}
	return e
}

func (e *env) ctx() context.Context { return inproc.Ctx(e.t) }

// startLB runs a data-plane node (engine and stream) in this process.
func (e *env) startLB() {
	if err := os.MkdirAll(filepath.Dir(e.lbState), 0o700); err != nil {
		e.t.Fatal(err)
	}
	eng := lbengine.New(lbengine.Config{Log: inproc.Logger("lb"), Node: "test"})
	n := lbnode.New(lbnode.Config{Server: e.srv.Endpoint(), Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		Node: "test", StateFile: e.lbState, Engine: eng, Log: inproc.Logger("lbnode")})
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.Run(c)
		eng.Close()
	}()
	e.lbStop, e.lbDone = cancel, done
	e.t.Cleanup(e.stopLB)
}

func (e *env) stopLB() {
	if e.lbStop == nil {
		return
	}
	e.lbStop()
	<-e.lbDone
	e.lbStop = nil
}

// startAgent starts one more Docker agent in this process, in the next
// availability zone.
func (e *env) startAgent() *agent.Agent {
	e.t.Helper()
	dir, id := e.t.TempDir(), inproc.InstanceID()
	a, _ := inproc.StartAgent(e.t, agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: dir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + string(rune('a'+len(e.agents))),
		InstanceType: "t3.lb", InstanceID: id, StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		HostAddress: "127.0.0.1", Driver: inproc.NewRuntime(e.t, inproc.Docker, dir, nil), Log: inproc.Logger("agent " + id),
	})
	e.agents = append(e.agents, a)
	return a
}

// webDef registers a bridge-mode task definition of the test app that
// serves / on 8080 with VERSION=version in its environment.
func (e *env) webDef(version string) string { return e.appDef(version) }

// appDef is webDef with more arguments for the test app (say, --unhealthy).
func (e *env) appDef(version string, args ...string) string {
	out, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64),
			Command:      append([]string{"--listen", ":8080"}, args...),
			Environment:  []ecstypes.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}},
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: ecstypes.TransportProtocolTcp}},
		}},
	})
	if err != nil {
		e.t.Fatalf("register: %v", err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// alb creates an application load balancer with an HTTP listener on port
// 80 forwarding to a new instance target group (health checks of /health
// every 5 s, healthy after 2, deregistration delay delay) and waits until
// it is active; it returns the load balancer's address and the target
// group's ARN.
func (e *env) alb(name string, delay time.Duration) (addr, tgARN, listenerARN string) {
	lbARN := e.newLB(name, elbtypes.LoadBalancerTypeEnumApplication)
	tgARN = e.targetGroup(name, elbtypes.ProtocolEnumHttp, 8080, elbtypes.TargetTypeEnumInstance, delay)
	listenerARN = e.listener(lbARN, elbtypes.ProtocolEnumHttp, 80, "", forward(tgARN))
	return e.waitActive(lbARN), tgARN, listenerARN
}

// newLB creates a load balancer of type typ (an ALB in two subnets, an NLB
// in one) and returns its ARN; it serves once it has its listeners and
// waitActive says so.
func (e *env) newLB(name string, typ elbtypes.LoadBalancerTypeEnum) string {
	e.t.Helper()
	subnets := []string{"subnet-a", "subnet-b"}
	if typ == elbtypes.LoadBalancerTypeEnumNetwork {
		subnets = subnets[:1]
	}
	lb, err := e.elb.CreateLoadBalancer(e.ctx(), &elb.CreateLoadBalancerInput{Name: aws.String(name), Type: typ, Subnets: subnets})
	if err != nil {
		e.t.Fatalf("create load balancer: %v", err)
	}
	return aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
}

// targetGroup creates a target group whose health checks run every 5 s
// (timeout 2 s, healthy and unhealthy after 2; HTTP ones GET /health), and
// sets its deregistration delay.
func (e *env) targetGroup(name string, proto elbtypes.ProtocolEnum, port int32, typ elbtypes.TargetTypeEnum, delay time.Duration) string {
	e.t.Helper()
	c := e.ctx()
	in := &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: proto, Port: aws.Int32(port), VpcId: aws.String("vpc-1"), TargetType: typ,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		HealthCheckTimeoutSeconds: aws.Int32(2)}
	if proto == elbtypes.ProtocolEnumHttp || proto == elbtypes.ProtocolEnumHttps {
		in.HealthCheckPath = aws.String("/health")
	}
	tg, err := e.elb.CreateTargetGroup(c, in)
	if err != nil {
		e.t.Fatalf("create target group: %v", err)
	}
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := e.elb.ModifyTargetGroupAttributes(c, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(fmt.Sprint(int(delay.Seconds())))}}}); err != nil {
		e.t.Fatalf("modify target group attributes: %v", err)
	}
	return arn
}

// forward is a default action forwarding to one target group.
func forward(tgARN string) []elbtypes.Action {
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}
}

// listener creates a listener (with certificate certARN when not "") and
// returns its ARN.
func (e *env) listener(lbARN string, proto elbtypes.ProtocolEnum, port int32, certARN string, actions []elbtypes.Action) string {
	e.t.Helper()
	in := &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(port), Protocol: proto, DefaultActions: actions}
	if certARN != "" {
		in.Certificates = []elbtypes.Certificate{{CertificateArn: aws.String(certARN)}}
	}
	l, err := e.elb.CreateListener(e.ctx(), in)
	if err != nil {
		e.t.Fatalf("create %s listener on %d: %v", proto, port, err)
	}
	return aws.ToString(l.Listeners[0].ListenerArn)
}

// waitActive waits until the load balancer is active (a data-plane node
// serves all its listeners) and returns its address.
func (e *env) waitActive(lbARN string) string {
	e.t.Helper()
	c := e.ctx()
	w := elb.NewLoadBalancerAvailableWaiter(e.elb, func(o *elb.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(c, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}}, time.Minute); err != nil {
		e.t.Fatalf("load balancer not available: %v", err)
	}
	d, err := e.elb.DescribeLoadBalancers(c, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	if err != nil {
		e.t.Fatal(err)
	}
	addr := ""
	for _, az := range d.LoadBalancers[0].AvailabilityZones {
		for _, a := range az.LoadBalancerAddresses {
			if a.IpAddress != nil {
				addr = *a.IpAddress
			}
		}
	}
	if addr == "" {
		e.t.Fatalf("the load balancer lists no address: %+v", d.LoadBalancers[0])
	}
	return addr
}

// register registers ip targets 127.0.0.1:port in the target group.
func (e *env) register(tgARN string, ports ...int) {
	e.t.Helper()
	var ts []elbtypes.TargetDescription
	for _, p := range ports {
		ts = append(ts, elbtypes.TargetDescription{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(p))})
	}
	if _, err := e.elb.RegisterTargets(e.ctx(), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: ts}); err != nil {
		e.t.Fatalf("register targets: %v", err)
	}
}

// waitInService waits (the target-in-service waiter) until every target of
// the group is healthy.
func (e *env) waitInService(tgARN string, within time.Duration) {
	e.t.Helper()
	w := elb.NewTargetInServiceWaiter(e.elb, func(o *elb.TargetInServiceWaiterOptions) { o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second })
	if err := w.Wait(e.ctx(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)}, within); err != nil {
		e.t.Fatalf("targets of %s not in service within %s: %v", tgARN, within, err)
	}
}

// targetHealth is the health DescribeTargetHealth reports for one target.
func (e *env) targetHealth(tgARN, id string, port int) elbtypes.TargetHealth {
	e.t.Helper()
	out, err := e.elb.DescribeTargetHealth(e.ctx(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(id), Port: aws.Int32(int32(port))}}})
	if err != nil {
		e.t.Fatalf("describe target health: %v", err)
	}
	if len(out.TargetHealthDescriptions) != 1 || out.TargetHealthDescriptions[0].TargetHealth == nil {
		e.t.Fatalf("describe target health of %s:%d: %+v", id, port, out.TargetHealthDescriptions)
	}
	return *out.TargetHealthDescriptions[0].TargetHealth
}

// waitTargetState waits until the target is in state and returns its
// health.
func (e *env) waitTargetState(tgARN, id string, port int, state elbtypes.TargetHealthStateEnum, within time.Duration) elbtypes.TargetHealth {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		h := e.targetHealth(tgARN, id, port)
		if h.State == state {
			return h
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("target %s:%d not %s within %s: %s (%s) %s", id, port, state, within, h.State, h.Reason, aws.ToString(h.Description))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// service creates a service of taskDef behind tgARN (container app, port
// 8080).
func (e *env) service(name, taskDef, tgARN string, desired int32, grace int32) {
	_, err := e.ecs.CreateService(e.ctx(), &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(name), TaskDefinition: aws.String(taskDef), DesiredCount: aws.Int32(desired),
		LoadBalancers:                 []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		HealthCheckGracePeriodSeconds: aws.Int32(grace),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	})
	if err != nil {
		e.t.Fatalf("create service: %v", err)
	}
}

// waitStable waits until the service has one deployment, COMPLETED, with
// runningCount == desiredCount (the services-stable waiter's test, plus
// the rollout state).
func (e *env) waitStable(name string, within time.Duration) ecstypes.Service {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var last ecstypes.Service
	for time.Now().Before(deadline) {
		out, err := e.ecs.DescribeServices(e.ctx(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
		if err == nil && len(out.Services) == 1 {
			last = out.Services[0]
			if len(last.Deployments) == 1 && last.RunningCount == last.DesiredCount && last.Deployments[0].RolloutState == ecstypes.DeploymentRolloutStateCompleted {
				return last
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	var events []string
	for i, ev := range last.Events {
		if i < 15 {
			events = append(events, aws.ToString(ev.Message))
		}
	}
	e.t.Fatalf("service %s not stable within %s: running %d desired %d deployments %d\nevents:\n%s", name, within, last.RunningCount, last.DesiredCount,
		len(last.Deployments), strings.Join(events, "\n"))
	return last
}

// runningTasks waits until the service has n RUNNING tasks and returns
// them.
func (e *env) runningTasks(name string, n int, within time.Duration) []ecstypes.Task {
	e.t.Helper()
	return inproc.RunningTasks(e.t, e.ecs, cluster, name, n, within)
}

// task describes one task.
func (e *env) task(arn string) ecstypes.Task {
	e.t.Helper()
	return inproc.Task(e.t, e.ecs, cluster, arn)
}

// hostPort is the host port of the task's app container's port 8080.
func hostPort(t *testing.T, task ecstypes.Task) int {
	t.Helper()
	for _, c := range task.Containers {
		for _, nb := range c.NetworkBindings {
			if aws.ToString(c.Name) == "app" && aws.ToInt32(nb.ContainerPort) == 8080 {
				return int(aws.ToInt32(nb.HostPort))
			}
		}
	}
	t.Fatalf("task %s has no binding of port 8080: %+v", aws.ToString(task.TaskArn), task.Containers)
	return 0
}

// instanceID is the EC2 instance ID of the task's container instance.
func (e *env) instanceID(task ecstypes.Task) string {
	e.t.Helper()
	out, err := e.ecs.DescribeContainerInstances(e.ctx(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{aws.ToString(task.ContainerInstanceArn)}})
	if err != nil || len(out.ContainerInstances) != 1 {
		e.t.Fatalf("describe container instance of task %s: %v", aws.ToString(task.TaskArn), err)
	}
	return aws.ToString(out.ContainerInstances[0].Ec2InstanceId)
}

// waitEvent waits until the service has an event whose message is msg.
func (e *env) waitEvent(name, msg string, within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var last ecstypes.Service
	for time.Now().Before(deadline) {
		out, err := e.ecs.DescribeServices(e.ctx(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
		if err == nil && len(out.Services) == 1 {
			last = out.Services[0]
			for _, ev := range last.Events {
				if aws.ToString(ev.Message) == msg {
					return
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	e.t.Fatalf("service %s has no event %q within %s; events:\n%s", name, msg, within, strings.Join(eventTexts(last), "\n"))
}

// startLoad keeps a steady rate of GET / through addr (host:port).
func startLoad(t *testing.T, addr string, rate int) *steadyload.Load {
	return steadyload.Start(t, "http://"+addr+"/", rate, 16, &http.Transport{MaxIdleConnsPerHost: 64})
}
