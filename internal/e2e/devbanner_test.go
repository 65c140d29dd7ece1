package e2e

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/berthdev"
)

// lockedBuffer is a bytes.Buffer a process writes while the test reads.
type lockedBuffer = berthdev.Buffer

// devBanner starts `berth dev --runtime rt`, stops it once its banner is
// out and returns all it printed.
func devBanner(t *testing.T, rt string) string {
	t.Helper()
	cmd := exec.Command(berthBin, "dev", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--runtime", rt, "--task-network", "off",
		"--dns-listen", "127.0.0.1:0", "--dns-forward", "none", "--task-dns", "off")
	cmd.Env = append(os.Environ(), "BERTH_ROOT_ACCESS_KEY_ID="+testKeyID, "BERTH_ROOT_SECRET_ACCESS_KEY="+testSecret)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	defer stop()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), "Use it with the AWS CLI") {
		if time.Now().After(deadline) {
			t.Fatalf("berth dev --runtime %s printed no banner:\n%s", rt, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// berth dev prints the whole banner before it waits for a signal: once
	// it has exited, all of it is in out (and nothing more is coming).
	stop()
	return out.String()
}

// TestDevBanner checks what `berth dev` tells a newcomer: the endpoint,
// the credentials, the runtime and the pull behaviour; on Docker, that the
// demo image is there with no registry (the README's demo path).
func TestDevBanner(t *testing.T) {
	t.Run("process", func(t *testing.T) {
		t.Parallel()
		out := devBanner(t, "process")
		for _, want := range []string{"endpoint     http://127.0.0.1:", "access key   " + testKeyID, "runtime process", "examples/demo.json",
			"image pulls  prefer-cached", "--image-pull-behavior default", "runs this binary as a process"} {
			if !strings.Contains(out, want) {
				t.Errorf("banner lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "Making the demo image") {
			t.Errorf("the process runtime needs no image, but berth dev made one:\n%s", out)
		}
	})
	t.Run("docker", func(t *testing.T) {
		t.Parallel()
		dockertest.RequireDocker(t)
		out := devBanner(t, "docker")
		for _, want := range []string{"runtime docker", "berth-demo:1 (this binary, FROM scratch) is ready", "berth run demo --wait", "image pulls  prefer-cached"} {
			if !strings.Contains(out, want) {
				t.Errorf("banner lacks %q:\n%s", want, out)
			}
		}
	})
}
