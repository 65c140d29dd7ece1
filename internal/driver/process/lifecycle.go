//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"berth.dev/berth/internal/driver"
)

// Start launches the container's shim and returns once the workload runs
// (or already exited). A failure to exec it wraps driver.ErrCannotStart.
// Starting a started container launches nothing and reports its status.
func (d *Driver) Start(ctx context.Context, h driver.Handle) (driver.Status, error) {
	id, err := d.resolve(h)
	if err != nil {
		return driver.Status{}, err
	}
	dir := d.dir(id)
	marker, err := os.OpenFile(filepath.Join(dir, fileStarted), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		// Started before, perhaps by another agent: wait for its outcome.
	case err != nil:
		return driver.Status{}, fmt.Errorf("%w: %v", driver.ErrCannotStart, err)
	default:
		marker.Close()
		if err := d.launchShim(id); err != nil {
			msg := "starting the shim: " + err.Error()
			if werr := writeJSON(filepath.Join(dir, fileStartError), startErrorRec{Error: msg, ExitCode: 128, Time: time.Now()}); werr != nil {
				return driver.Status{}, werr
			}
			return driver.Status{Exited: true, ExitCode: 128, Error: msg}, fmt.Errorf("%w: %s", driver.ErrCannotStart, msg)
		}
	}
	for {
		s, err := d.snapshot(id, 0)
		if err != nil {
			return driver.Status{}, err
		}
		switch {
		case s.startErr != nil:
			return s.status(), fmt.Errorf("%w: %s", driver.ErrCannotStart, s.startErr.Error)
		case s.work != nil || s.exit != nil:
			return s.status(), nil
		}
		if err := d.sleep(ctx); err != nil {
			return driver.Status{}, err
		}
	}
}

// launchShim starts `shim run DIR` in a new session, its stdio on
// shim.log, and reaps it when it exits.
func (d *Driver) launchShim(id string) error {
	dir := d.dir(id)
	logf, err := os.OpenFile(filepath.Join(dir, fileShimLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(d.shimPath, append(slices.Clone(d.shimArgs), "run", dir)...)
	cmd.Dir = "/"
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	d.children.Store(id, done)
	go func() {
		cmd.Wait()
		close(done)
	}()
	return nil
}

// Wait blocks until the container has exited (or failed to start) and
// returns its final status. It also waits for a container not started yet.
func (d *Driver) Wait(ctx context.Context, h driver.Handle) (driver.Status, error) {
	id, err := d.resolve(h)
	if err != nil {
		return driver.Status{}, err
	}
	for {
		s, err := d.snapshot(id, 0)
		if err != nil {
			return driver.Status{}, err
		}
		if s.terminal() {
			return s.status(), nil
		}
		if err := d.sleep(ctx); err != nil {
			return driver.Status{}, err
		}
	}
}

// Inspect returns the container's current status.
func (d *Driver) Inspect(_ context.Context, h driver.Handle) (driver.Status, error) {
	id, err := d.resolve(h)
	if err != nil {
		return driver.Status{}, err
	}
	s, err := d.snapshot(id, 0)
	if err != nil {
		return driver.Status{}, err
	}
	return s.status(), nil
}

// Stop asks the shim to SIGTERM the process group, and after timeout to
// SIGKILL it, and returns once the container has exited. Without a shim it
// signals a verified workload's group itself. A container that never
// started, or has exited, is left as it is.
func (d *Driver) Stop(ctx context.Context, h driver.Handle, timeout time.Duration) error {
	id, err := d.resolve(h)
	if err != nil {
		return err
	}
	killAt := time.Now().Add(timeout)
	var termSent bool
	var lastKill time.Time
	lostCode := 0
	for {
		s, err := d.snapshot(id, lostCode)
		if err != nil {
			return err
		}
		if s.terminal() || !s.started {
			return nil
		}
		now := time.Now()
		kill := !now.Before(killAt) && now.Sub(lastKill) >= time.Second
		switch {
		case s.shimAlive && !termSent:
			termSent = s.shim.signal(syscall.SIGTERM) == nil
		case s.shimAlive && kill:
			if s.shim.signal(syscall.SIGUSR1) == nil {
				lastKill = now
			}
		case s.workAlive && !termSent:
			termSent = s.work.signalGroup(syscall.SIGTERM) == nil
		case s.workAlive && kill:
			if s.work.signalGroup(syscall.SIGKILL) == nil {
				lastKill, lostCode = now, 128+int(syscall.SIGKILL)
			}
		}
		if err := d.sleep(ctx); err != nil {
			return err
		}
	}
}
