package e2e

import (
	"berth.dev/berth/internal/e2e/berthdev"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
)

// TestQuickstart_README follows the README's first quickstart as written,
// with the AWS CLI, against `berth dev` on Docker with no registry: berth
// dev makes the demo image, examples/demo.json registers, a task runs,
// answers on its host port, and a service of it becomes stable.
func TestQuickstart_README(t *testing.T) {
	dockertest.RequireDocker(t)
	if !haveAWSCLI(t) {
		t.Skipf("the AWS CLI is not at %s (set BERTH_REQUIRE_AWSCLI=1 to make this a failure)", awsCLI)
	}
	awsBin := awsCLI
	endpoint, out, stopDev := startQuickstartDev(t)

	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, awsBin, append([]string{"--endpoint-url", endpoint, "--output", "json", "ecs"}, args...)...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
			"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
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

// startQuickstartDev starts `berth dev` on Docker as the README's quickstart
// does (with extra flags) and returns its endpoint, its output and a
// function that stops it (also run at cleanup).
func startQuickstartDev(t *testing.T, extra ...string) (string, *lockedBuffer, func()) {
	t.Helper()
	d := berthdev.Start(t, berthBin, testKeyID, testSecret, extra...)
	return d.Endpoint, d.Output, d.Stop
}

// quickstartEnv is the environment the README's commands run in.
func quickstartEnv() []string { return berthdev.CLIEnv(testKeyID, testSecret) }
