package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
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

// TestAWSCLILoadBalancer runs scripts/awscli-lb.sh against `berth dev` on
// Docker (the demo image): an ALB, a target group of instance targets, a
// listener and a rule made with `aws elbv2`, a service with
// --load-balancers, the CLI's target-in-service, target-deregistered and
// load-balancers-deleted waiters, traffic through the listener, a scale-in
// that drains a target, ELB's and ECS's errors, the clean-up. Its load
// balancers take addresses of a pool no other test uses.
func TestAWSCLILoadBalancer(t *testing.T) {
	dockertest.RequireDocker(t)
	runAWSCLIScript(t, "awscli-lb.sh", "--runtime", "docker", "--lb-addresses", "127.0.42.0/24")
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
	cmd.Env = append(withoutAWSEnv(os.Environ()),
		"BERTH_ENDPOINT="+p.endpoint,
		"AWS_ACCESS_KEY_ID="+testKeyID,
		"AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_REGION="+testRegion,
	)
	out := &lineLogger{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	out.flush()
	if err != nil {
		p.kill() // the process is gone: its output is complete
		t.Fatalf("%s: %v\nberth output:\n%s", filepath.Base(script), err, p.stderr.String())
	}
}

// withoutAWSEnv drops the caller's AWS credentials, profile and endpoint
// settings so that only the ones the test sets reach the CLI.
func withoutAWSEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
			"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// lineLogger forwards a process's output to the test log line by line, as
// the process writes it.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(b), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(string(l.buf))
		l.buf = nil
	}
}
