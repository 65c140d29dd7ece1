package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// MaxExecOutput bounds ExecResult.Output, as Docker bounds health check
// output: the first 4 KiB are kept, the rest is read and dropped.
const MaxExecOutput = 4096

// execPoll is how often Exec asks whether a finished command's exit code is
// known yet.
const execPoll = 20 * time.Millisecond

// Exec runs cmd (argv, no shell) in the running container and returns its
// exit code and combined output. When timeout (> 0) passes first it returns
// an error wrapping context.DeadlineExceeded; Docker cannot kill an exec, so
// the command may go on running in the container.
func (d *Driver) Exec(ctx context.Context, h driver.Handle, cmd []string, timeout time.Duration) (driver.ExecResult, error) {
	if len(cmd) == 0 {
		return driver.ExecResult{}, errors.New("exec: empty command")
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	created, err := d.cli.ExecCreate(ctx, ref(h), client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return driver.ExecResult{}, execErr(ctx, ref(h), err)
	}
	att, err := d.cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return driver.ExecResult{}, execErr(ctx, ref(h), err)
	}
	stop := context.AfterFunc(ctx, att.Close)
	out := &boundedBuffer{max: MaxExecOutput}
	_, err = stdcopy.StdCopy(out, out, att.Reader)
	stop()
	att.Close()
	if ctx.Err() != nil {
		return driver.ExecResult{Output: out.buf}, execErr(ctx, ref(h), ctx.Err())
	}
	if err != nil {
		return driver.ExecResult{Output: out.buf}, execErr(ctx, ref(h), err)
	}
	for {
		info, err := d.cli.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			return driver.ExecResult{Output: out.buf}, execErr(ctx, ref(h), err)
		}
		if !info.Running {
			return driver.ExecResult{ExitCode: info.ExitCode, Output: out.buf}, nil
		}
		select {
		case <-ctx.Done():
			return driver.ExecResult{Output: out.buf}, execErr(ctx, ref(h), ctx.Err())
		case <-time.After(execPoll):
		}
	}
}

func execErr(ctx context.Context, container string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("exec in %s: %w", container, ctx.Err())
	}
	return classify("exec in", container, err)
}

// boundedBuffer keeps the first max bytes written and accepts the rest.
type boundedBuffer struct {
	max int
	buf []byte
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
