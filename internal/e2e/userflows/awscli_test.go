package userflows

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/berthdev"
)

// TestAWSCLI runs scripts/awscli-e2e.sh, which drives `berth dev` with the
// real AWS CLI and checks every answer.
func TestAWSCLI(t *testing.T) {
	runAWSCLIScript(t, "awscli-e2e.sh")
}

// TestAWSCLITasks runs scripts/awscli-tasks.sh against `berth dev` with the
// process runtime: run-task, the CLI's tasks-running and tasks-stopped
// waiters, stop-task.
func TestAWSCLITasks(t *testing.T) {
	runAWSCLIScript(t, "awscli-tasks.sh", "--runtime", "process")
}

// TestAWSCLIServices runs scripts/awscli-services.sh against `berth dev`
// with the process runtime: create-service, services-stable, a rolling
// update, delete-service, services-inactive. A short settle time keeps the
// deployments quick.
func TestAWSCLIServices(t *testing.T) {
	runAWSCLIScript(t, "awscli-services.sh", "--runtime", "process", "--task-settle-time", "2s")
}

// TestAWSCLILoadBalancer runs scripts/awscli-lb.sh against `berth dev` on
// Docker: the AWS CLI creates a load balancer, a target group, a listener
// and a rule, an ECS service behind them, waits for its targets, curls
// through the listener, scales in through the drain, checks ELB's and
// ECS's errors for bad input, and deletes it all.
func TestAWSCLILoadBalancer(t *testing.T) {
	runAWSCLIScript(t, "awscli-lb.sh", "--lb-addresses", "127.0.42.0/24")
}

// TestAWSCLIDiscovery runs scripts/awscli-discovery.sh against `berth dev`
// on Docker: a private DNS namespace and a Cloud Map service made with the
// AWS CLI, an ECS service registering its tasks there, list-instances,
// discover-instances (through berth's endpoint as the HTTP proxy for the
// data- host), get-instances-health-status, list-services-by-namespace,
// berth's DNS answers with dig, a scale-in to 0 and the clean-up.
func TestAWSCLIDiscovery(t *testing.T) {
	if _, err := exec.LookPath("dig"); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("dig is required (BERTH_REQUIRE_AWSCLI=1 or CI is set): %v; install the Debian package bind9-dnsutils", err)
		}
		t.Log("dig not found: the script does not check berth's DNS answers (install bind9-dnsutils)")
	}
	runAWSCLIScript(t, "awscli-discovery.sh")
}

// runAWSCLIScript runs scripts/NAME with bash against a new `berth dev`
// (Docker, unless devArgs choose another runtime) started with devArgs.
func runAWSCLIScript(t *testing.T, name string, devArgs ...string) {
	if !slices.Contains(devArgs, "process") {
		dockertest.RequireDocker(t)
	}
	berthdev.RequireAWSCLI(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is required to run the AWS CLI script: %v", err)
	}
	script, err := filepath.Abs(filepath.Join(repoRoot, "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	d := berthdev.Start(t, berthBin, testKeyID, testSecret, devArgs...)
	c, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "bash", script)
	cmd.Dir = repoRoot
	cmd.Env = append(berthdev.CLIEnv(testKeyID, testSecret), "BERTH_ENDPOINT="+d.Endpoint)
	if _, err := exec.LookPath("dig"); err == nil {
		cmd.Env = append(cmd.Env, "BERTH_DNS="+d.DNS) // scripts that query berth's DNS do so with dig
	}
	out := &berthdev.LineLogger{T: t}
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	out.Flush()
	if err != nil {
		t.Fatalf("%s: %v\nberth output:\n%s", name, err, d.Output.String())
	}
}
