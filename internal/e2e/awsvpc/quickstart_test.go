package awsvpc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
)

// TestQuickstart_READMEFargate follows the README's Fargate section as
// written, with the AWS CLI, against `berth dev` as root on Docker: the
// demo image, examples/fargate.json, a FARGATE task answering at its own
// address, the capacity providers and a service of 4 tasks. berth dev runs
// in a network namespace of the test's (its task network goes there, not
// on the machine), and so do the CLI and curl.
func TestQuickstart_READMEFargate(t *testing.T) {
	cli := dockertest.RequireDocker(t)
	const awsBin = "/usr/bin/aws"
	if _, err := os.Stat(awsBin); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("%s not found (BERTH_REQUIRE_AWSCLI=1)", awsBin)
		}
		t.Skipf("%s not found", awsBin)
	}
	seg := newSegment(t)
	ns, _ := seg.host(1)
	dir := t.TempDir()
	account := fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)
	dev := start(t, "berth dev", ns, "dev", "--data-dir", filepath.Join(dir, "berth"), "--listen", "127.0.0.1:0",
		"--runtime", "docker", "--account-id", account, "--dns-forward", "none")
	t.Cleanup(func() { // the test's tasks and pause containers
		ctx := context.Background()
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", driver.LabelCluster+"=arn:aws:ecs:us-east-1:"+account+":cluster/default")})
		if err == nil {
			for _, ct := range list.Items {
				cli.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true})
			}
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(dev.out.String(), "Use it with the AWS CLI") {
		select {
		case <-dev.done:
			t.Fatalf("berth dev exited:\n%s", dev.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("berth dev printed no banner:\n%s", dev.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := regexp.MustCompile(`endpoint\s+(http://\S+)`).FindStringSubmatch(dev.out.String())
	if m == nil {
		t.Fatalf("no endpoint in the banner:\n%s", dev.out.String())
	}
	endpoint := m[1]
	_, here, _, _ := runtime.Caller(0)
	repoRoot := filepath.Join(filepath.Dir(here), "..", "..", "..")

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/var/run/netns/" + ns, name}, args...)...)
		cmd.Dir = repoRoot
		cmd.Env = append(cleanEnv(os.Environ()), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
			"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s\nberth dev:\n%s", name, strings.Join(args, " "), err, b, tail(dev.out.String(), 6000))
		}
		return string(b)
	}
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
		cmd := exec.Command("nsenter", "--net=/var/run/netns/"+ns, "curl", "-fsS", "--max-time", "2", "http://"+ip+":8080/")
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
