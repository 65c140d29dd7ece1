package awsvpc

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestQuickstart_READMEDiscovery follows the README's service discovery
// quickstart with `berth deploy` against `berth dev` as root on Docker, in
// a network namespace of the test's: examples/discovery/api-service.yaml
// and web-service.yaml (awsvpc, FARGATE), berth's DNS answering
// api.internal with api's task addresses, web reaching api by that name
// through its task DNS (GET /fetch?url=http://api.internal:8080/), and a
// second deploy that creates nothing in Cloud Map.
func TestQuickstart_READMEDiscovery(t *testing.T) {
	d := startDevNS(t, 6*time.Minute)
	d.readme("service discovery",
		"./berth deploy -f examples/discovery/api-service.yaml",
		"./berth deploy -f examples/discovery/web-service.yaml",
		"curl 'http://WEB_IP:8080/fetch?url=http://api.internal:8080/'",
		"dig @127.0.0.1 -p 8053 api.internal",
	)
	endpoint, dev, run, must := d.endpoint, d.dev, d.run, d.must
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
		got := strings.Fields(must("dig", "@"+d.dnsHost, "-p", d.dnsPort, "+short", "+time=2", "+tries=1", "api.internal"))
		slices.Sort(got)
		if !slices.Equal(got, apiIPs) {
			t.Errorf("dig api.internal: %v, want %v", got, apiIPs)
		}
	} else if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" || os.Getenv("CI") != "" {
		t.Errorf("dig is required in CI (bind9-dnsutils): %v", err)
	}

	// web reaches api by its name: the answer is one of api's tasks.
	url := "http://" + webIPs[0] + ":8080/fetch?url=http://api.internal:8080/"
	var (
		page string
		err  error
	)
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
