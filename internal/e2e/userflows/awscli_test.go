package userflows

import (
	"os"
	"os/exec"
	"testing"

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

// runAWSCLIScript runs scripts/NAME against a new `berth dev` started with
// devArgs (berthdev.Scripts.Run).
func runAWSCLIScript(t *testing.T, name string, devArgs ...string) {
	t.Helper()
	berthdev.Scripts{Bin: berthBin, RepoRoot: repoRoot, KeyID: testKeyID, Secret: testSecret}.Run(t, name, devArgs...)
}
