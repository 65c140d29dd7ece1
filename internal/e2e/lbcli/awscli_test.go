package lbcli

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/berthdev"
)

// TestAWSCLILoadBalancer runs scripts/awscli-lb.sh against `berth dev` on
// Docker: the AWS CLI creates a load balancer, a target group, a listener
// and a rule, an ECS service behind them, waits for its targets, curls
// through the listener, scales in through the drain, checks ELB's and
// ECS's errors for bad input, and deletes it all.
func TestAWSCLILoadBalancer(t *testing.T) {
	dockertest.RequireDocker(t)
	berthdev.RequireAWSCLI(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is required to run the AWS CLI script: %v", err)
	}
	script, err := filepath.Abs(filepath.Join(repoRoot, "scripts", "awscli-lb.sh"))
	if err != nil {
		t.Fatal(err)
	}
	d := berthdev.Start(t, berthBin, testKeyID, testSecret, "--lb-addresses", "127.0.42.0/24")
	c, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "bash", script)
	cmd.Dir = repoRoot
	cmd.Env = append(berthdev.CLIEnv(testKeyID, testSecret), "BERTH_ENDPOINT="+d.Endpoint)
	out := &berthdev.LineLogger{T: t}
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	out.Flush()
	if err != nil {
		t.Fatalf("%s: %v\nberth output:\n%s", filepath.Base(script), err, d.Output.String())
	}
}
