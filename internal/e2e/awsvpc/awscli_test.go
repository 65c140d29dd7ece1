package awsvpc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The AWS CLI drives a Fargate task on berth (scripts/awscli-fargate.sh):
// the script runs in the server's namespace, which routes the task subnet
// of the agent's host, as a VPC would.
func TestAwsvpc_AWSCLIFargate(t *testing.T) {
	const awsCLI = "/usr/bin/aws"
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("%s not found (BERTH_REQUIRE_AWSCLI=1)", awsCLI)
		}
		t.Skipf("%s not found (install the Debian package awscli)", awsCLI)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the script fetches the task's page with curl: %v", err)
	}
	c := newCluster(t, "process")
	c.agent(2)
	c.instances(1)
	// Host 2 serves the first subnet of the range.
	c.seg.in(c.srvNS, "ip", "route", "add", "10.200.0.0/24", "via", "10.251.0.2")

	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "..", "..", "..", "scripts", "awscli-fargate.sh")
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", "--net=/var/run/netns/"+c.srvNS, "bash", script)
	cmd.Env = append(cleanEnv(os.Environ()),
		"BERTH_ENDPOINT=http://"+serverAddr+":4566",
		"AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_REGION="+region,
		"BERTH_TASK_IMAGE=berth-demo:1",
		fmt.Sprintf(`BERTH_TASK_ENTRYPOINT=["%s","demo-app"]`, berthBin),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("awscli-fargate.sh: %v", err)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatal("the script did not finish")
	}
}

// cleanEnv drops the caller's AWS settings so only the test's reach the CLI.
func cleanEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
