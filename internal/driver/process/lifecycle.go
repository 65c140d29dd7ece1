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

	"berth.dev/berth/internal/atomicfile"
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
		// On disk before the shim runs: after a power loss, a container
		// whose marker was lost would look never started and run again.
		err := marker.Sync()
		if cerr := marker.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = atomicfile.SyncDir(dir)
		}
		if err != nil {
			return driver.Status{}, fmt.Errorf("%w: recording the start: %v", driver.ErrCannotStart, err)
		}
		rec, err := d.record(id)
		if err != nil {
			return driver.Status{}, fmt.Errorf("%w: %v", driver.ErrCannotStart, err)
		}
		secrets, ok := d.containerSecrets(id, rec, 0)
		if !ok {
			msg := "the container's secrets are no longer known: the agent that created it restarted before starting it"
			if werr := writeJSON(filepath.Join(dir, fileStartError), startErrorRec{Error: msg, ExitCode: 128, Time: time.Now()}); werr != nil {
				return driver.Status{}, werr
			}
			return driver.Status{Exited: true, ExitCode: 128, Error: msg}, fmt.Errorf("%w: %s", driver.ErrCannotStart, msg)
		}
		if err := d.launchShim(id, secrets); err != nil {
			msg := "starting the shim: " + err.Error()
			if werr := writeJSON(filepath.Join(dir, fileStartError), startErrorRec{Error: msg, ExitCode: 128, Time: time.Now()}); werr != nil {
				return driver.Status{}, werr
			}
			return driver.Status{Exited: true, ExitCode: 128, Error: msg}, fmt.Errorf("%w: %s", driver.ErrCannotStart, msg)
		}
	}
	c := d.child(id)
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
		// A shim this driver started says when the workload's record is
		// written (or it failed); one started elsewhere is polled for.
		switch {
		case c == nil:
			err = d.await(ctx, nil, nil, time.Now().Add(d.poll))
		case isClosed(c.ready):
			// It said, and there is no record: it died. Once it is
			// reaped, the snapshot records the failure.
			err = d.await(ctx, nil, c.done, time.Time{})
			c = nil
		default:
			err = d.await(ctx, c.ready, c.done, time.Time{})
		}
		if err != nil {
			return driver.Status{}, err
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// child is a shim this driver started.
type child struct {
	ready chan struct{} // closed when the shim has recorded the workload or why it did not start, or exited
	done  chan struct{} // closed when the shim is reaped
}

// child returns the shim this driver started for container id, if any.
func (d *Driver) child(id string) *child {
	if v, ok := d.children.Load(id); ok {
		return v.(*child)
	}
	return nil
}

// launchShim starts `shim run --ready-fd 3 DIR` in a new session, its stdio
// on shim.log, and reaps it when it exits. The shim closes fd 3 (the write
// end of a pipe) once workload.json or start-error.json is written, so
// Start waits on the pipe, not on the state directory.
func (d *Driver) launchShim(id string, secrets []string) error {
	dir := d.dir(id)
	logf, err := os.OpenFile(filepath.Join(dir, fileShimLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyW.Close()
	args := append(slices.Clone(d.shimArgs), "run", "--ready-fd", "3")
	var (
		secretsW *os.File
		extra    []*os.File
	)
	if len(secrets) > 0 {
		// The secrets go to the shim on a pipe, never through a file.
		var secretsR *os.File
		if secretsR, secretsW, err = os.Pipe(); err != nil {
			readyR.Close()
			return err
		}
		defer secretsR.Close()
		args = append(args, "--secrets-fd", "4")
		defer func() {
			if secretsW != nil {
				secretsW.Close()
			}
		}()
		extra = append(extra, secretsR)
	}
	args = append(args, dir)
	cmd := exec.Command(d.shimPath, args...)
	cmd.Dir = "/"
	// One P is all a shim needs (it waits and copies output), and the
	// runtime starts a little faster with one. Nothing of the shim's
	// environment reaches the workload.
	cmd.Env = []string{"GOMAXPROCS=1"}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = append([]*os.File{readyW}, extra...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		readyR.Close()
		return err
	}
	if secretsW != nil {
		w := secretsW
		secretsW = nil
		go writeSecrets(w, secrets)
	}
	c := &child{ready: make(chan struct{}), done: make(chan struct{})}
	d.children.Store(id, c)
	d.notifyLaunch()
	go func() {
		var b [1]byte
		_, _ = readyR.Read(b[:]) // EOF (or a byte): the shim has said
		readyR.Close()
		close(c.ready)
	}()
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	return nil
}

// notifyLaunch wakes the waiters of containers that were not started.
func (d *Driver) notifyLaunch() {
	d.launchMu.Lock()
	close(d.launched)
	d.launched = make(chan struct{})
	d.launchMu.Unlock()
}

func (d *Driver) launchedCh() <-chan struct{} {
	d.launchMu.Lock()
	defer d.launchMu.Unlock()
	return d.launched
}

// Wait blocks until the container has exited (or failed to start) and
// returns its final status. It also waits for a container not started yet.
func (d *Driver) Wait(ctx context.Context, h driver.Handle) (driver.Status, error) {
	id, err := d.resolve(h)
	if err != nil {
		return driver.Status{}, err
	}
	for {
		launched := d.launchedCh() // before the snapshot: a launch after it wakes us
		s, err := d.snapshot(id, 0)
		if err != nil {
			return driver.Status{}, err
		}
		if s.terminal() {
			return s.status(), nil
		}
		if err := d.awaitChange(ctx, s, launched, time.Time{}); err != nil {
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
		kill := !now.Before(killAt) && now.Sub(lastKill) >= killRepeat
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
		// Until the exit, or until the next signal is due.
		next := killAt
		if !lastKill.IsZero() {
			next = lastKill.Add(killRepeat)
		}
		if !next.After(now) {
			next = now.Add(d.poll) // a signal that could not be sent: try again soon
		}
		if err := d.awaitChange(ctx, s, nil, next); err != nil {
			return err
		}
	}
}

// killRepeat is how often Stop repeats a kill that has not ended the
// container.
const killRepeat = time.Second
