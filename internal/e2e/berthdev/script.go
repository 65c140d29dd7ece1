package berthdev

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
)

// Scripts runs the AWS CLI script tests (scripts/awscli-*.sh) of a test
// package: each against a new `berth dev` of the binary Bin, started with the
// root credentials KeyID/Secret.
type Scripts struct {
	Bin string
	// RepoRoot is the repository root, relative to the test's directory
	// or absolute; scripts run there.
	RepoRoot      string
	KeyID, Secret string
}

// Run runs scripts/NAME with bash against a new `berth dev` (Docker, unless
// devArgs choose another runtime) started with devArgs, and fails the test
// when the script fails (with berth's output). It skips or fails as
// RequireAWSCLI and dockertest.RequireDocker do; the script gets six
// minutes, BERTH_ENDPOINT, and BERTH_DNS when dig is installed.
func (s Scripts) Run(t *testing.T, name string, devArgs ...string) {
	t.Helper()
	if !slices.Contains(devArgs, "process") {
		dockertest.RequireDocker(t)
	}
	RequireAWSCLI(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is required to run the AWS CLI script: %v", err)
	}
	script, err := filepath.Abs(filepath.Join(s.RepoRoot, "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	d := Start(t, s.Bin, s.KeyID, s.Secret, devArgs...)
	c, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "bash", script)
	cmd.Dir = s.RepoRoot
	cmd.Env = append(CLIEnv(s.KeyID, s.Secret), "BERTH_ENDPOINT="+d.Endpoint)
	if _, err := exec.LookPath("dig"); err == nil {
		cmd.Env = append(cmd.Env, "BERTH_DNS="+d.DNS) // scripts that query berth's DNS do so with dig
	}
	out := &LineLogger{T: t}
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	out.Flush()
	if err != nil {
		t.Fatalf("%s: %v\nberth output:\n%s", name, err, d.Output.String())
	}
}
