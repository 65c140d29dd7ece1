package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestShimStartsBeforeHeavyPackages runs `berth shim` with the runtime's
// initialisation trace: the shim (here printing its usage) must run before
// the packages only the server, the CLI and the Docker runtime need have
// initialised, since every task of the process runtime starts one.
func TestShimStartsBeforeHeavyPackages(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(berthBin, "shim")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), "usage: shim run") {
		t.Fatalf("berth shim: %v, want the shim's usage and exit 2; stderr:\n%s", err, stderr.String())
	}
	inited := map[string]bool{}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			inited[f[1]] = true
		}
	}
	if !inited["berth.dev/berth/internal/driver/process"] {
		t.Fatalf("no initialisation trace of the process runtime before the shim ran:\n%s", stderr.String())
	}
	for _, heavy := range []string{
		"github.com/distribution/reference",              // Docker runtime
		"github.com/prometheus/client_golang/prometheus", // server metrics
		"github.com/hashicorp/raft",                      // server
		"github.com/aws/aws-sdk-go-v2/service/sts/internal/endpoints",
	} {
		if inited[heavy] {
			t.Errorf("%s initialised before the shim ran", heavy)
		}
	}
}
