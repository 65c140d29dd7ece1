package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is berth running as a separate process.
type proc struct {
	t        *testing.T
	cmd      *exec.Cmd
	endpoint string
	stderr   *bytes.Buffer
}

// startProcess runs `berth <mode> --data-dir dir --listen 127.0.0.1:0` with
// the test credentials and waits until it answers.
func startProcess(t *testing.T, mode, dir string, extra ...string) *proc {
	t.Helper()
	os.Remove(filepath.Join(dir, "endpoint"))
	args := append([]string{mode, "--data-dir", dir, "--listen", "127.0.0.1:0", "--account-id", testAccount}, extra...)
	if mode == "dev" && !slices.Contains(extra, "--task-network") {
		// The host's task network (bridge, iptables chains) is for the
		// awsvpc tests alone, which make and remove it in namespaces.
		args = append(args, "--task-network", "off")
	}
	if (mode == "dev" || mode == "server") && !slices.Contains(extra, "--dns-listen") {
		// DNS on a free port, nothing forwarded off the machine.
		args = append(args, "--dns-listen", "127.0.0.1:0", "--dns-forward", "none")
	}
	if mode == "dev" && !slices.Contains(extra, "--task-dns") {
		args = append(args, "--task-dns", "off") // the host's task endpoint: one test at a time
	}
	cmd := exec.Command(berthBin, args...)
	cmd.Env = append(os.Environ(), "BERTH_ROOT_ACCESS_KEY_ID="+testKeyID, "BERTH_ROOT_SECRET_ACCESS_KEY="+testSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start berth: %v", err)
	}
	p := &proc{t: t, cmd: cmd, stderr: &stderr}
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "endpoint")); err == nil {
			ep := strings.TrimSpace(string(b))
			if resp, err := http.Get(ep + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					p.endpoint = ep
					return p
				}
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("berth did not become ready; output:\n%s", stderr.String())
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// stop sends SIGTERM and returns the exit error.
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		p.kill()
		p.t.Fatalf("berth did not stop on SIGTERM; output:\n%s", p.stderr.String())
		return nil
	}
}
