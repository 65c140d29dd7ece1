package awsvpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/driver"
)

// registerWeb registers a Fargate task definition whose container serves
// HTTP on 8080: berth's demo application, from the demo image on Docker
// (image), from the test's berth binary on the process runtime.
func (c *cluster) registerWeb(image string) string {
	c.t.Helper()
	var entryPoint []string
	if c.runtime == "process" {
		image, entryPoint = "berth-demo:1", []string{berthBin, "demo-app"}
	}
	out, err := c.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), Essential: aws.Bool(true),
			EntryPoint:   entryPoint,
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}},
		}},
	})
	if err != nil {
		c.t.Fatalf("register: %v", err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

var vpc = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-0a1b2c3d"}, SecurityGroups: []string{"sg-12345678"}}}

// startOn starts one task of td on each named instance.
func (c *cluster) startOn(td string, instances ...string) []string {
	c.t.Helper()
	out, err := c.ecs.StartTask(context.Background(), &ecs.StartTaskInput{TaskDefinition: aws.String(td), ContainerInstances: instances, NetworkConfiguration: vpc})
	if err != nil || len(out.Failures) > 0 {
		c.t.Fatalf("StartTask: %v %+v", err, out)
	}
	var arns []string
	for _, t := range out.Tasks {
		arns = append(arns, aws.ToString(t.TaskArn))
	}
	return arns
}

// echo is what the demo application answers on /.
type echo struct {
	PID      int    `json:"pid"`
	Hostname string `json:"hostname"`
}

// fetch GETs / of addr from namespace ns, waiting up to 20 s for the task
// to listen (RUNNING means its process started, not that it listens).
func fetch(t *testing.T, ns, addr string) echo {
	t.Helper()
	var body string
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if body, err = get(ns, addr); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("GET %s from %s: %v", addr, ns, err)
	}
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.PID == 0 {
		t.Fatalf("GET %s: %v: %s", addr, err, body)
	}
	return e
}

// links lists the interfaces of namespace ns.
func (c *cluster) links(ns string) []string {
	var names []string
	for _, line := range strings.Split(c.seg.in(ns, "ip", "-o", "link", "show"), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 {
			names = append(names, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	slices.Sort(names)
	return names
}

// awsvpc on two hosts, on the process runtime and on Docker: two tasks of
// one host both serve port 8080, each at its own address; a task reaches a
// task of the other host by its address; DescribeTasks shows ECS's ENI
// attachment; an agent restart keeps the tasks and their addresses;
// stopped tasks leave no interface or namespace behind, and their
// addresses are used again.
func TestAwsvpc_ProcessRuntime(t *testing.T) { testAwsvpc(t, "process") }

func TestAwsvpc_Docker(t *testing.T) { testAwsvpc(t, "docker") }

func testAwsvpc(t *testing.T, rt string) {
	c := newCluster(t, rt)
	var cli *client.Client
	image := ""
	if rt == "docker" {
		cli, image = dockerSetup(t, c)
	}
	c.agent(2)
	c.agent(3)
	inst := c.instances(2)
	td := c.registerWeb(image)

	arns := c.startOn(td, inst["10.251.0.2"], inst["10.251.0.2"])
	arns = append(arns, c.startOn(td, inst["10.251.0.3"])...)
	c.waitStatus("RUNNING", arns...)
	tasks := make([]types.Task, len(arns))
	ips := make([]string, len(arns))
	for i, arn := range arns {
		tasks[i] = c.task(arn)
		ips[i] = detail(tasks[i], "privateIPv4Address")
	}
	host2, host3 := c.agents[2].ns, c.agents[3].ns

	// The ENI attachment as ECS shows it.
	for i, task := range tasks {
		at := task.Attachments
		if len(at) != 1 || aws.ToString(at[0].Type) != "ElasticNetworkInterface" || aws.ToString(at[0].Status) != "ATTACHED" {
			t.Fatalf("task %d attachments %+v", i, at)
		}
		ni := task.Containers[0].NetworkInterfaces
		if len(ni) != 1 || aws.ToString(ni[0].PrivateIpv4Address) != ips[i] || len(task.Containers[0].NetworkBindings) != 0 {
			t.Errorf("task %d container interfaces %+v bindings %+v", i, ni, task.Containers[0].NetworkBindings)
		}
	}
	if ips[0] == ips[1] || !strings.HasPrefix(ips[0], "10.200.") {
		t.Fatalf("addresses %v", ips)
	}

	// Two tasks of host 2 serve 8080, each at its own address: on Docker
	// each answers with its task's hostname (its private DNS name), on the
	// process runtime (no UTS namespace) from a process of its own.
	e0, e1 := fetch(t, host2, ips[0]+":8080"), fetch(t, host2, ips[1]+":8080")
	ns0 := fmt.Sprintf("/proc/%d/ns/net", e0.PID)
	if rt == "docker" {
		for i, e := range []echo{e0, e1} {
			if want := detail(tasks[i], "privateDnsName"); e.Hostname != want {
				t.Errorf("task %d answers as %q, want its private DNS name %q", i, e.Hostname, want)
			}
		}
		ns0 = pauseNS(t, cli, arns[0])
	} else if e0.PID == e1.PID {
		t.Fatalf("both addresses answered from process %d", e0.PID)
	}
	// A task of host 2 reaches the task of host 3 by its address.
	fetch(t, ns0, ips[2]+":8080")
	// ... and host 3 reaches the tasks of host 2.
	fetch(t, host3, ips[1]+":8080")

	// An agent restart keeps the tasks and their addresses.
	c.restart(2)
	c.instances(2)
	c.waitStatus("RUNNING", arns...)
	if again := fetch(t, host2, ips[0]+":8080"); again != e0 {
		t.Errorf("after the restart %s answers %+v, before %+v", ips[0], again, e0)
	}

	// Stopped tasks leave nothing behind.
	for _, arn := range arns {
		if _, err := c.ecs.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	c.waitStatus("STOPPED", arns...)
	for i, arn := range arns {
		if st := aws.ToString(c.task(arn).Attachments[0].Status); st != "DELETED" {
			t.Errorf("task %d attachment %s after STOPPED", i, st)
		}
	}
	for _, ns := range []string{host2, host3} {
		if got := strings.Join(c.links(ns), " "); got != "berth0 eth0 lo" {
			t.Errorf("interfaces of %s after the tasks stopped: %s", ns, got)
		}
	}
	for _, n := range []int{2, 3} {
		entries, err := os.ReadDir(processNetNS(c.agents[n].dir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("host %d: %v", n, err)
		}
		if len(entries) != 0 {
			t.Errorf("host %d keeps %d task namespaces", n, len(entries))
		}
	}
	if cli != nil {
		for _, arn := range arns {
			list, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true,
				Filters: make(client.Filters).Add("label", driver.LabelTaskARN+"="+arn).Add("label", driver.LabelSandbox+"=true")})
			if err != nil || len(list.Items) != 0 {
				t.Errorf("pause containers of %s left: %v %d", arn, err, len(list.Items))
			}
		}
	}
	// The lowest address is free again.
	again := c.startOn(td, inst["10.251.0.2"])
	c.waitStatus("RUNNING", again...)
	if ip := detail(c.task(again[0]), "privateIPv4Address"); ip != min(ips[0], ips[1]) {
		t.Errorf("a new task got %s, want the freed %s", ip, min(ips[0], ips[1]))
	}
}
