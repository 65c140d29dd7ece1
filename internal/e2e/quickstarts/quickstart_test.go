package quickstarts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/berthdev"
)

// TestQuickstart_README follows the README's first quickstart as written,
// with the AWS CLI, against `berth dev` on Docker with no registry: berth
// dev makes the demo image, examples/demo.json registers, a task runs,
// answers on its host port, and a service of it becomes stable.
func TestQuickstart_README(t *testing.T) {
	dockertest.RequireDocker(t)
	berthdev.RequireAWSCLI(t)
	awsBin := berthdev.AWSCLI
	d := berthdev.Start(t, berthBin, testKeyID, testSecret)
	endpoint, out, stopDev := d.Endpoint, d.Output, d.Stop

	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, awsBin, append([]string{"--endpoint-url", endpoint, "--output", "json", "ecs"}, args...)...)
		cmd.Dir = repoRoot
		cmd.Env = berthdev.CLIEnv(testKeyID, testSecret)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws ecs %s: %v\n%s\nberth dev:\n%s", strings.Join(args, " "), err, b, out.String())
		}
		return string(b)
	}

	aws("register-task-definition", "--cli-input-json", "file://examples/demo.json")
	var ran struct{ Tasks []struct{ TaskArn string } }
	if err := json.Unmarshal([]byte(aws("run-task", "--task-definition", "demo")), &ran); err != nil || len(ran.Tasks) != 1 {
		t.Fatalf("run-task: %v, %d tasks", err, len(ran.Tasks))
	}
	arn := ran.Tasks[0].TaskArn
	aws("wait", "tasks-running", "--tasks", arn)
	var port []any
	if err := json.Unmarshal([]byte(aws("describe-tasks", "--tasks", arn, "--query",
		"tasks[0].[lastStatus, healthStatus, containers[0].networkBindings[0].hostPort]")), &port); err != nil || len(port) != 3 {
		t.Fatalf("describe-tasks --query: %v %v", err, port)
	}
	hostPort, ok := port[2].(float64)
	if port[0] != "RUNNING" || !ok || hostPort < 1024 {
		t.Fatalf("describe-tasks: status, health, host port = %v", port)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", int(hostPort))
	var body []byte
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	if !strings.Contains(string(body), "demo-app") {
		t.Errorf("GET %s: want the demo app's echo (its args name demo-app), got %s", url, body)
	}
	aws("stop-task", "--task", arn, "--reason", "done")

	aws("create-service", "--service-name", "demo", "--task-definition", "demo", "--desired-count", "2",
		"--deployment-configuration", "minimumHealthyPercent=100,maximumPercent=200,deploymentCircuitBreaker={enable=true,rollback=true}")
	aws("wait", "services-stable", "--services", "demo")
	var counts []any
	if err := json.Unmarshal([]byte(aws("describe-services", "--services", "demo", "--query", "services[0].[runningCount, length(deployments)]")), &counts); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(counts) != "[2 1]" { // what the waiter waits for (rolloutState may still be IN_PROGRESS, as in ECS)
		t.Errorf("service demo after services-stable: runningCount, deployments = %v", counts)
	}
	aws("delete-service", "--service", "demo", "--force")
	aws("wait", "services-inactive", "--services", "demo")
	aws("wait", "tasks-stopped", "--tasks", arn)
	stopDev()
}

// TestQuickstart_READMELoadBalancers follows the README's "Load balancers"
// section as written against `berth dev` on Docker: with the AWS CLI, a
// load balancer, a target group, a listener forwarding to it and a service
// of the demo task definition with --load-balancers, the target-in-service
// waiter, target health and curl through the load balancer's address; with
// berth, `berth deploy -f examples/web-lb-service.yaml`, its curl line and
// `berth lbs`. Its load balancers take addresses of a pool no other test
// uses (the README's 127.0.1.0/24 belongs to a berth dev run by hand).
func TestQuickstart_READMELoadBalancers(t *testing.T) {
	dockertest.RequireDocker(t)
	berthdev.RequireAWSCLI(t)
	d := berthdev.Start(t, berthBin, testKeyID, testSecret, "--lb-addresses", "127.0.43.0/24")
	endpoint, out, stopDev := d.Endpoint, d.Output, d.Stop
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = repoRoot
		cmd.Env = berthdev.CLIEnv(testKeyID, testSecret)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s\nberth dev:\n%s", filepath.Base(name), strings.Join(args, " "), err, b, out.String())
		}
		return string(b)
	}
	aws := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(run(berthdev.AWSCLI, append([]string{"--endpoint-url", endpoint, "--output", "text"}, args...)...))
	}
	get := func(url string) string {
		t.Helper()
		var err error
		for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(200 * time.Millisecond) {
			var resp *http.Response
			if resp, err = http.Get(url); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return string(body)
				}
				err = fmt.Errorf("%s: %s", resp.Status, body)
			}
		}
		t.Fatalf("GET %s: %v", url, err)
		return ""
	}

	// With the AWS CLI.
	lbARN := aws("elbv2", "create-load-balancer", "--name", "demo", "--type", "application", "--subnets", "subnet-a", "subnet-b",
		"--query", "LoadBalancers[0].LoadBalancerArn")
	addr := aws("elbv2", "describe-load-balancers", "--names", "demo", "--query", "LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].IpAddress")
	if !strings.HasPrefix(addr, "127.0.43.") {
		t.Fatalf("load balancer address %q, want one of 127.0.43.0/24", addr)
	}
	tgARN := aws("elbv2", "create-target-group", "--name", "demo-tg", "--protocol", "HTTP", "--port", "8080", "--vpc-id", "vpc-berth", "--target-type", "instance",
		"--health-check-path", "/health", "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2", "--query", "TargetGroups[0].TargetGroupArn")
	aws("elbv2", "modify-target-group-attributes", "--target-group-arn", tgARN, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=5")
	listenerARN := aws("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "HTTP", "--port", "8000",
		"--default-actions", "Type=forward,TargetGroupArn="+tgARN, "--query", "Listeners[0].ListenerArn")
	aws("ecs", "register-task-definition", "--cli-input-json", "file://examples/demo.json")
	aws("ecs", "create-service", "--service-name", "demo-lb", "--task-definition", "demo", "--desired-count", "2",
		"--load-balancers", "targetGroupArn="+tgARN+",containerName=app,containerPort=8080")
	aws("elbv2", "wait", "target-in-service", "--target-group-arn", tgARN)
	if h := aws("elbv2", "describe-target-health", "--target-group-arn", tgARN, "--query", "TargetHealthDescriptions[].TargetHealth.State"); h != "healthy\thealthy" {
		t.Errorf("target health after target-in-service: %q", h)
	}
	if body := get("http://" + addr + ":8000/"); !strings.Contains(body, "demo-app") {
		t.Errorf("GET through the load balancer: want the demo app's echo, got %s", body)
	}
	aws("ecs", "delete-service", "--service", "demo-lb", "--force")
	aws("elbv2", "delete-listener", "--listener-arn", listenerARN)
	aws("elbv2", "delete-target-group", "--target-group-arn", tgARN)
	aws("elbv2", "delete-load-balancer", "--load-balancer-arn", lbARN)
	aws("ecs", "wait", "services-inactive", "--services", "demo-lb")

	// With berth.
	berth := func(args ...string) string {
		t.Helper()
		return run(berthBin, append([]string{"--endpoint", endpoint}, args...)...)
	}
	deployed := berth("deploy", "-f", "examples/web-lb-service.yaml")
	m := regexp.MustCompile(`curl (http://\S+)`).FindStringSubmatch(deployed)
	if m == nil {
		t.Fatalf("berth deploy printed no curl line:\n%s", deployed)
	}
	if body := get(m[1]); !strings.Contains(body, "demo-app") {
		t.Errorf("GET %s: want the demo app's echo, got %s", m[1], body)
	}
	lbs := berth("lbs")
	for _, want := range []string{"web ", "HTTP " + strings.TrimPrefix(strings.TrimSuffix(m[1], "/"), "http://"), "path-pattern=/,/health", "forward web-tg", "fixed-response 404"} {
		if !strings.Contains(lbs, want) {
			t.Errorf("berth lbs lacks %q:\n%s", want, lbs)
		}
	}
	if n := strings.Count(lbs, " healthy "); n != 2 {
		t.Errorf("berth lbs shows %d healthy targets, want 2:\n%s", n, lbs)
	}
	aws("ecs", "delete-service", "--service", "web-lb", "--force")
	aws("ecs", "wait", "services-inactive", "--services", "web-lb")
	stopDev()
}
