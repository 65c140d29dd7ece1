//go:build linux

package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"berth.dev/berth/internal/driver"
)

// maxExecOutput bounds ExecResult.Output; the rest is discarded.
const maxExecOutput = 64 << 10

// Exec runs cmd as a host process the way the workload runs: same
// environment, working directory, user, ulimits and cgroup, but not under
// the shim. On timeout its process group is killed and the error wraps
// context.DeadlineExceeded. A command that cannot be executed is a result
// (exit code 126 or 127, the reason as output), not an error. Processes it
// leaves in its process group are killed when it exits.
func (d *Driver) Exec(ctx context.Context, h driver.Handle, cmd []string, timeout time.Duration) (driver.ExecResult, error) {
	id, err := d.resolve(h)
	if err != nil {
		return driver.ExecResult{}, err
	}
	if len(cmd) == 0 || cmd[0] == "" {
		return driver.ExecResult{}, errors.New("exec: no command")
	}
	s, err := d.snapshot(id, 0)
	if err != nil {
		return driver.ExecResult{}, err
	}
	if !s.running() {
		return driver.ExecResult{}, fmt.Errorf("container %s is not running", id)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	plan := s.rec.Plan
	plan.Argv = d.imageFile(s.rec.Spec.Image, cmd)
	pid := 0
	if s.work != nil {
		pid = s.work.Pid
	}
	if secrets, ok := d.containerSecrets(id, s.rec, pid); ok {
		plan.Env = mergeEnv(plan.Env, secrets)
	}
	var cg *cgroupConfig
	if s.rec.Cgroup != nil {
		if _, err := os.Stat(s.rec.Cgroup.Path); err == nil {
			cg = s.rec.Cgroup
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return driver.ExecResult{}, err
	}
	out := &boundedBuffer{max: maxExecOutput}
	copied := make(chan struct{})
	go func() {
		io.Copy(out, r)
		close(copied)
	}()
	l, failure, err := startWorkload(plan, w, w, cg, trampoline{d.shimPath, append(append([]string{}, d.shimArgs...), "exec")})
	w.Close()
	if err != nil || failure != nil {
		<-copied
		r.Close()
		if err != nil {
			return driver.ExecResult{}, fmt.Errorf("exec: %w", err)
		}
		return driver.ExecResult{ExitCode: failure.ExitCode, Output: []byte(failure.Error)}, nil
	}
	exited := make(chan struct{})
	go func() {
		l.waitExited()
		close(exited)
	}()
	var waitErr error
	select {
	case <-exited:
	case <-ctx.Done():
		_ = syscall.Kill(-l.ref.Pid, syscall.SIGKILL) // an unreaped child: its group
		waitErr = ctx.Err()
		if errors.Is(waitErr, context.DeadlineExceeded) {
			waitErr = fmt.Errorf("exec timed out after %s: %w", timeout, waitErr)
		}
	}
	code, _ := l.finish(nil)
	select {
	case <-copied:
	case <-time.After(drainTimeout):
		r.Close() // a process that left the group holds the output open
		<-copied
	}
	r.Close()
	return driver.ExecResult{ExitCode: code, Output: out.Bytes()}, waitErr
}

// boundedBuffer keeps the first max bytes written to it. (Not embedding
// bytes.Buffer: io.Copy would use its ReadFrom and bypass the bound.)
type boundedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *boundedBuffer) Bytes() []byte { return b.buf.Bytes() }
