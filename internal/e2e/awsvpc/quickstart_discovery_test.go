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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
)

// TestQuickstart_READMEDiscovery follows the README's service discovery
// quickstart with `berth deploy` against `berth dev` as root on Docker, in
// a network namespace of the test's: examples/discovery/api-service.yaml
// and web-service.yaml (awsvpc, FARGATE), berth's DNS answering
// api.internal with api's task addresses, web reaching api by that name
// through its task DNS (GET /fetch?url=http://api.internal:8080/), and a
// second deploy that creates nothing in Cloud Map.
func TestQuickstart_READMEDiscovery(t *testing.T) {
	cli := dockertest.RequireDocker(t)
	const awsBin = "/usr/bin/aws"
	if _, err := os.Stat(awsBin); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("%s not found (BERTH_REQUIRE_AWSCLI=1)", awsBin)
		}
		t.Skipf("%s not found", awsBin)
	}
	_, here, _, _ := runtime.Caller(0)
	repoRoot := filepath.Join(filepath.Dir(here), "..", "..", "..")
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"./berth deploy -f examples/discovery/api-service.yaml",
		"./berth deploy -f examples/discovery/web-service.yaml",
		"curl 'http://WEB_IP:8080/fetch?url=http://api.internal:8080/'",
		"dig @127.0.0.1 -p 8053 api.internal",
	} {
		if !strings.Contains(string(readme), line) {
			t.Fatalf("the README's service discovery quickstart no longer says %q", line)
		}
	}

	seg := newSegment(t)
	ns, _ := seg.host(1)
	dir := t.TempDir()
	account := fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)
	// Task DNS on (the test's namespace has its own 169.254.170.2), berth's
	// DNS on a free port, nothing forwarded.
	dev := start(t, "berth dev", ns, "dev", "--data-dir", filepath.Join(dir, "berth"), "--listen", "127.0.0.1:0",
		"--runtime", "docker", "--account-id", account, "--dns-listen", "127.0.0.1:0", "--dns-forward", "none", "--task-dns", "on")
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
	d := regexp.MustCompile(`(?m)^\s+dns\s+(\S+):(\d+)\s`).FindStringSubmatch(dev.out.String())
	if m == nil || d == nil {
		t.Fatalf("no endpoint or DNS address in the banner:\n%s", dev.out.String())
	}
	endpoint := m[1]

	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	env := append(cleanEnv(os.Environ()), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	run := func(name string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/var/run/netns/" + ns, name}, args...)...)
		cmd.Dir = repoRoot
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	must := func(name string, args ...string) string {
		t.Helper()
		out, err := run(name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s\nberth dev:\n%s", name, strings.Join(args, " "), err, out, tail(dev.out.String(), 6000))
		}
		return out
	}
	deploy := func(manifest string) string {
		t.Helper()
		return must(berthBin, "--endpoint", endpoint, "deploy", "-f", manifest, "--timeout", "4m")
	}

	out := deploy("examples/discovery/api-service.yaml")
	if !strings.Contains(out, "namespace internal: created ns-") || !strings.Contains(out, "cloud map service api.internal: created srv-") ||
		!strings.Contains(out, "completed") {
		t.Fatalf("deploy api:\n%s", out)
	}
	out = deploy("examples/discovery/web-service.yaml")
	if !strings.Contains(out, "namespace internal: ns-") || !strings.Contains(out, "cloud map service web.internal: created srv-") {
		t.Fatalf("deploy web:\n%s", out)
	}

	// The tasks' addresses.
	ips := func(service string) []string {
		t.Helper()
		arns := strings.Fields(must(awsBin, "--endpoint-url", endpoint, "ecs", "list-tasks", "--service-name", service,
			"--desired-status", "RUNNING", "--query", "taskArns", "--output", "text"))
		if len(arns) == 0 {
			t.Fatalf("service %s has no running tasks", service)
		}
		var got []string
		if err := json.Unmarshal([]byte(must(awsBin, append([]string{"--endpoint-url", endpoint, "--output", "json", "ecs", "describe-tasks",
			"--query", "tasks[].attachments[0].details[?name=='privateIPv4Address'].value | []", "--tasks"}, arns...)...)), &got); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	apiIPs, webIPs := ips("api"), ips("web")
	if len(apiIPs) != 2 || len(webIPs) != 1 {
		t.Fatalf("api tasks at %v, web tasks at %v", apiIPs, webIPs)
	}

	// berth's DNS answers api.internal with api's addresses (both tasks are
	// healthy: the deployment completed).
	if _, err := exec.LookPath("dig"); err == nil {
		got := strings.Fields(must("dig", "@"+d[1], "-p", d[2], "+short", "+time=2", "+tries=1", "api.internal"))
		slices.Sort(got)
		if !slices.Equal(got, apiIPs) {
			t.Errorf("dig api.internal: %v, want %v", got, apiIPs)
		}
	} else if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" || os.Getenv("CI") != "" {
		t.Errorf("dig is required in CI (bind9-dnsutils): %v", err)
	}

	// web reaches api by its name: the answer is one of api's tasks.
	url := "http://" + webIPs[0] + ":8080/fetch?url=http://api.internal:8080/"
	var page string
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		page, err = run("curl", "-fsS", "--max-time", "6", url)
		if err == nil && strings.Contains(page, "demo-app") {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("curl %s: %v %q\nberth dev:\n%s", url, err, page, tail(dev.out.String(), 6000))
		}
	}
	var echo struct{ Hostname string }
	if err := json.Unmarshal([]byte(page), &echo); err != nil || echo.Hostname == "" {
		t.Fatalf("web's /fetch of api: %v %q", err, page)
	}
	resolved := must("curl", "-fsS", "--max-time", "6", "http://"+webIPs[0]+":8080/resolve?name=api.internal&type=A")
	for _, ip := range apiIPs {
		if !strings.Contains(resolved, ip) {
			t.Errorf("web's resolver answers api.internal with %s, want %v", resolved, apiIPs)
		}
	}

	// A second deploy finds what the first made.
	out = deploy("examples/discovery/api-service.yaml")
	if strings.Contains(out, "created") || !strings.Contains(out, "cloud map service api.internal: srv-") {
		t.Errorf("second deploy of api:\n%s", out)
	}
}
