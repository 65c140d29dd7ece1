package awsvpc

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestQuickstart_READMEFargate follows the README's Fargate section as
// written, with the AWS CLI, against `berth dev` as root on Docker: the
// demo image, examples/fargate.json, a FARGATE task answering at its own
// address, the capacity providers and a service of 4 tasks. berth dev runs
// in a network namespace of the test's (its task network goes there, not
// on the machine), and so do the CLI and curl.
func TestQuickstart_READMEFargate(t *testing.T) {
	d := startDevNS(t, 8*time.Minute)
	endpoint, run := d.endpoint, d.must
	aws := func(args ...string) string {
		t.Helper()
		return run(awsBin, append([]string{"--endpoint-url", endpoint, "--output", "json", "ecs"}, args...)...)
	}

	aws("register-task-definition", "--cli-input-json", "file://examples/fargate.json")
	var ran struct{ Tasks []struct{ TaskArn string } }
	if err := json.Unmarshal([]byte(aws("run-task", "--task-definition", "demo-fargate", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-12345678],securityGroups=[sg-12345678]}")), &ran); err != nil || len(ran.Tasks) != 1 {
		t.Fatalf("run-task: %v, %d tasks", err, len(ran.Tasks))
	}
	arn := ran.Tasks[0].TaskArn
	aws("wait", "tasks-running", "--tasks", arn)
	var details []struct{ Name, Value string }
	if err := json.Unmarshal([]byte(aws("describe-tasks", "--tasks", arn, "--query", "tasks[0].attachments[0].details")), &details); err != nil {
		t.Fatal(err)
	}
	ip := ""
	for _, d := range details {
		if d.Name == "privateIPv4Address" {
			ip = d.Value
		}
	}
	if !strings.HasPrefix(ip, "10.200.") {
		t.Fatalf("details %+v", details)
	}
	var page string
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(200 * time.Millisecond) {
		cmd := exec.Command("nsenter", "--net=/var/run/netns/"+d.ns, "curl", "-fsS", "--max-time", "2", "http://"+ip+":8080/")
		if b, err := cmd.Output(); err == nil {
			page = string(b)
			break
		}
	}
	if !strings.Contains(page, "demo-app") {
		t.Fatalf("curl http://%s:8080/: %q", ip, page)
	}

	aws("put-cluster-capacity-providers", "--cluster", "default", "--capacity-providers", "FARGATE", "FARGATE_SPOT",
		"--default-capacity-provider-strategy", "capacityProvider=FARGATE,base=1,weight=1", "capacityProvider=FARGATE_SPOT,weight=3")
	aws("create-service", "--service-name", "web", "--task-definition", "demo-fargate", "--desired-count", "4",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-12345678]}")
	aws("wait", "services-stable", "--services", "web")
	var svc []any
	if err := json.Unmarshal([]byte(aws("describe-services", "--services", "web", "--query",
		"services[0].[runningCount, length(capacityProviderStrategy), platformVersion]")), &svc); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(svc) != "[4 2 LATEST]" {
		t.Errorf("service web: runningCount, strategy items, platform version = %v", svc)
	}
	aws("delete-service", "--service", "web", "--force")
	aws("wait", "services-inactive", "--services", "web")
}
