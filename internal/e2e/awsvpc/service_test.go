package awsvpc

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// registerVersion registers revision of family "svc" whose demo
// application answers with VERSION=version in its environment, or, when
// failing, whose program does not exist (its tasks never reach RUNNING:
// CannotStartContainerError, which the circuit breaker counts).
func (c *cluster) registerVersion(version string, failing bool) string {
	c.t.Helper()
	entry := []string{berthBin, "demo-app"}
	if failing {
		entry = []string{"/nonexistent/berth-v" + version}
	}
	out, err := c.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("svc"), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("berth-demo:1"), Essential: aws.Bool(true), EntryPoint: entry,
			Environment:  []types.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// serviceTasks waits until the service is stable with want running tasks
// of its current task definition, and returns them.
func (c *cluster) serviceTasks(service string, want int) []types.Task {
	c.t.Helper()
	var tasks []types.Task
	c.eventually(3*time.Minute, fmt.Sprintf("service %s stable with %d tasks", service, want), func() error {
		d, err := c.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{service}})
		if err != nil || len(d.Services) != 1 {
			return fmt.Errorf("describe: %v", err)
		}
		s := d.Services[0]
		if len(s.Deployments) != 1 || s.RunningCount != int32(want) || s.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
			return fmt.Errorf("%d deployments, running %d, rollout %s", len(s.Deployments), s.RunningCount, s.Deployments[0].RolloutState)
		}
		list, err := c.ecs.ListTasks(context.Background(), &ecs.ListTasksInput{ServiceName: aws.String(service)})
		if err != nil || len(list.TaskArns) != want {
			return fmt.Errorf("%d tasks listed: %v", len(list.TaskArns), err)
		}
		out, err := c.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: list.TaskArns})
		if err != nil {
			return err
		}
		for _, t := range out.Tasks {
			if aws.ToString(t.TaskDefinitionArn) != aws.ToString(s.TaskDefinition) || aws.ToString(t.LastStatus) != "RUNNING" {
				return fmt.Errorf("task %s of %s is %s", aws.ToString(t.TaskArn), aws.ToString(t.TaskDefinitionArn), aws.ToString(t.LastStatus))
			}
		}
		tasks = out.Tasks
		return nil
	})
	return tasks
}

// versions fetches / of every task from host 2 (which routes to host 3's
// tasks too) and returns the VERSION each answers with.
func (c *cluster) versions(tasks []types.Task) []string {
	c.t.Helper()
	var out []string
	for _, task := range tasks {
		body := c.fetchBody(c.agents[2].ns, detail(task, "privateIPv4Address")+":8080")
		i := strings.Index(body, `"VERSION":"`)
		if i < 0 {
			c.t.Fatalf("no VERSION in %s", body)
		}
		v := body[i+len(`"VERSION":"`):]
		out = append(out, v[:strings.Index(v, `"`)])
	}
	return out
}

func (c *cluster) fetchBody(ns, addr string) string {
	c.t.Helper()
	var body string
	c.eventually(20*time.Second, "GET "+addr, func() (err error) {
		body, err = get(ns, addr)
		return err
	})
	return body
}

// A FARGATE service with a capacity provider strategy in awsvpc rolls from
// v1 to v2 on two hosts, scales in, replaces a stopped task, leaves a
// draining host, and rolls back from a v3 whose tasks fail to the v2 it
// ran, as the bridge services do; its tasks reach berth's endpoint
// (outbound traffic leaves through their host).
func TestAwsvpc_FargateService(t *testing.T) {
	c := newCluster(t, "process")
	c.agent(2)
	c.agent(3)
	c.instances(2)
	ctx := context.Background()
	if _, err := c.ecs.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("default"),
		CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{}}); err != nil {
		t.Fatal(err)
	}
	v1, v2 := c.registerVersion("1", false), c.registerVersion("2", false)
	_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(4),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String("FARGATE"), Base: 1, Weight: 1}, {CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}},
		NetworkConfiguration: vpc,
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tasks := c.serviceTasks("web", 4)
	providers, subnets := map[string]int{}, map[string]int{}
	for _, task := range tasks {
		providers[aws.ToString(task.CapacityProviderName)]++
		ip := detail(task, "privateIPv4Address")
		subnets[ip[:strings.LastIndex(ip, ".")]]++
		if task.LaunchType != types.LaunchTypeFargate || task.ContainerInstanceArn != nil {
			t.Errorf("task %s: launch type %s, instance %v", aws.ToString(task.TaskArn), task.LaunchType, task.ContainerInstanceArn)
		}
	}
	if providers["FARGATE"] == 0 || providers["FARGATE_SPOT"] == 0 || len(subnets) != 2 {
		t.Errorf("4 tasks by provider %v, by host subnet %v: want both providers and both hosts", providers, subnets)
	}
	if got := strings.Join(c.versions(tasks), ","); got != "1,1,1,1" {
		t.Fatalf("v1 answers %s", got)
	}
	// Outbound: a task reaches berth's endpoint.
	var taskNS string
	for _, task := range tasks {
		if strings.HasPrefix(detail(task, "privateIPv4Address"), "10.200.0.") { // host 2's subnet
			taskNS = fmt.Sprintf("/proc/%d/ns/net", fetch(t, c.agents[2].ns, detail(task, "privateIPv4Address")+":8080").PID)
			break
		}
	}
	if taskNS == "" {
		t.Fatal("no task on host 2")
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dialer(taskNS)}}
	resp, err := hc.Get("http://" + serverAddr + ":4566/healthz")
	if err != nil {
		t.Fatalf("a task cannot reach berth's endpoint: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("berth's /healthz from a task: %s", resp.Status)
	}

	// v1 → v2.
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	tasks = c.serviceTasks("web", 4)
	if got := strings.Join(c.versions(tasks), ","); got != "2,2,2,2" {
		t.Fatalf("after the roll: %s", got)
	}
	// Scale in.
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	tasks = c.serviceTasks("web", 2)
	// A stopped task is replaced (with an address of its own).
	stopped := aws.ToString(tasks[0].TaskArn)
	if _, err := c.ecs.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(stopped)}); err != nil {
		t.Fatal(err)
	}
	c.eventually(time.Minute, "the stopped task replaced", func() error {
		for _, task := range c.serviceTasks("web", 2) {
			if aws.ToString(task.TaskArn) == stopped {
				return fmt.Errorf("%s still listed", stopped)
			}
		}
		return nil
	})
	// Draining host 3 moves its tasks to host 2.
	inst := c.instances(2)
	if _, err := c.ecs.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
		ContainerInstances: []string{inst["10.251.0.3"]}, Status: types.ContainerInstanceStatusDraining}); err != nil {
		t.Fatal(err)
	}
	c.eventually(2*time.Minute, "host 3 drained", func() error {
		for _, task := range c.serviceTasks("web", 2) {
			if ip := detail(task, "privateIPv4Address"); !strings.HasPrefix(ip, "10.200.0.") {
				return fmt.Errorf("a task at %s is still on host 3", ip)
			}
		}
		return nil
	})
	tasks = c.serviceTasks("web", 2)
	if got := strings.Join(c.versions(tasks), ","); got != "2,2" {
		t.Fatalf("after draining: %s", got)
	}
	if _, err := c.ecs.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
		ContainerInstances: []string{inst["10.251.0.3"]}, Status: types.ContainerInstanceStatusActive}); err != nil {
		t.Fatal(err)
	}
	// v3 fails: the circuit breaker rolls back to v2.
	v3 := c.registerVersion("3", true)
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(v3)}); err != nil {
		t.Fatal(err)
	}
	c.eventually(3*time.Minute, "rollback to v2", func() error {
		d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil {
			return err
		}
		s := d.Services[0]
		if aws.ToString(s.TaskDefinition) != v2 || len(s.Deployments) != 1 || s.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
			return fmt.Errorf("running %s, %d deployments", aws.ToString(s.TaskDefinition), len(s.Deployments))
		}
		return nil
	})
	tasks = c.serviceTasks("web", 2)
	if got := strings.Join(c.versions(tasks), ","); got != "2,2" {
		t.Fatalf("after the rollback: %s", got)
	}
}

// A host whose task subnet has no address left fails placements with
// RESOURCE:ENI, and a freed address is used again.
func TestAwsvpc_AddressExhaustion(t *testing.T) {
	c := newCluster(t, "process", "--task-subnet-bits", "30") // one task address per host
	c.agent(2)
	inst := c.instances(1)
	td := c.registerWeb("")
	out, err := c.ecs.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String(td), Count: aws.Int32(2), NetworkConfiguration: vpc})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:ENI" ||
		aws.ToString(out.Failures[0].Arn) != inst["10.251.0.2"] {
		t.Fatalf("tasks %d failures %+v", len(out.Tasks), out.Failures)
	}
	first := aws.ToString(out.Tasks[0].TaskArn)
	c.waitStatus("RUNNING", first)
	if _, err := c.ecs.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(first)}); err != nil {
		t.Fatal(err)
	}
	c.waitStatus("STOPPED", first)
	again := c.startOn(td, inst["10.251.0.2"])
	c.waitStatus("RUNNING", again...)
	if a, b := detail(c.task(first), "privateIPv4Address"), detail(c.task(again[0]), "privateIPv4Address"); a != b || a != "10.200.0.2" {
		t.Errorf("addresses %s then %s, want 10.200.0.2 both times", a, b)
	}

	// berth remove-task-network leaves the host as it was.
	if _, err := c.ecs.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(again[0])}); err != nil {
		t.Fatal(err)
	}
	c.waitStatus("STOPPED", again...)
	h := c.agents[2]
	h.proc.stop()
	if out, err := exec.Command("nsenter", "--net=/var/run/netns/"+h.ns, berthBin, "remove-task-network").CombinedOutput(); err != nil {
		t.Fatalf("remove-task-network: %v: %s", err, out)
	}
	if got := strings.Join(c.links(h.ns), " "); got != "eth0 lo" {
		t.Errorf("interfaces after remove-task-network: %s", got)
	}
	for _, table := range []string{"filter", "nat"} {
		if rules := c.seg.in(h.ns, "iptables", "-t", table, "-S"); strings.Contains(rules, "BERTH") {
			t.Errorf("%s rules left:\n%s", table, rules)
		}
	}
}
