package e2e

import (
	"berth.dev/berth/internal/e2e/berthdev"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// awsCLI is where Debian's awscli package installs the AWS CLI v2. The
// script calls it by this path: an older CLI may come first on PATH.
const awsCLI = "/usr/bin/aws"

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

// haveAWSCLI reports whether the AWS CLI is at awsCLI; where it is
// required (BERTH_REQUIRE_AWSCLI=1 or CI) its absence fails the test.
func haveAWSCLI(t *testing.T) bool {
	t.Helper()
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%s is required (BERTH_REQUIRE_AWSCLI=1 or CI is set): %v; install the Debian package awscli", awsCLI, err)
		}
		return false
	}
	return true
}

func runAWSCLIScript(t *testing.T, name string, devArgs ...string) {
	if !haveAWSCLI(t) {
		t.Skipf("%s not found (install the Debian package awscli, or set BERTH_REQUIRE_AWSCLI=1 to make this a failure)", awsCLI)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is required to run the AWS CLI script: %v", err)
	}
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "..", "..", "scripts", name)
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("script: %v", err)
	}

	p := startProcess(t, "dev", t.TempDir(), devArgs...)

	c, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "bash", script)
	cmd.Env = append(berthdev.WithoutAWSEnv(os.Environ()),
		"BERTH_ENDPOINT="+p.endpoint,
		"AWS_ACCESS_KEY_ID="+testKeyID,
		"AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_REGION="+testRegion,
	)
	out := &berthdev.LineLogger{T: t}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	out.Flush()
	if err != nil {
		p.kill() // the process is gone: its output is complete
		t.Fatalf("%s: %v\nberth output:\n%s", filepath.Base(script), err, p.stderr.String())
	}
}
