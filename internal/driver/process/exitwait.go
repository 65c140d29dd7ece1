//go:build linux

package process

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// errNoPidfd means waitExit cannot wait for this process without polling
// (a kernel before 5.3, or a pidfd the runtime's poller refuses).
var errNoPidfd = errors.New("pidfd not available")

// waitExit blocks until the process r recorded has exited (true), the
// deadline passes (false; a zero deadline never passes) or ctx ends (its
// error). It holds no thread while it waits: the process's pidfd, opened
// non-blocking, is registered with the runtime's poller, which the kernel
// tells when the process exits. The pidfd is opened before the start time
// is checked, so it cannot refer to a process that reused the pid.
func waitExit(ctx context.Context, r procRef, deadline time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if r.Pid <= 0 {
		return true, nil
	}
	fd, err := unix.PidfdOpen(r.Pid, unix.PIDFD_NONBLOCK)
	switch {
	case errors.Is(err, syscall.ESRCH):
		return true, nil
	case errors.Is(err, syscall.ENOSYS), errors.Is(err, syscall.EINVAL):
		return false, errNoPidfd
	case err != nil:
		return false, err
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	if !r.alive() {
		return true, nil
	}
	// A file the poller does not take cannot have deadlines; its Read would
	// block a thread.
	if err := f.SetReadDeadline(deadline); err != nil {
		return false, errNoPidfd
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	// The callback checks readiness itself: an exit before the wait began
	// is not an edge the poller reports.
	err = rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(pfd, 0)
			if !errors.Is(err, syscall.EINTR) {
				return err != nil || n > 0
			}
		}
	})
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	}
	return false, err
}
