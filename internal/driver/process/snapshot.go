//go:build linux

package process

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"berth.dev/berth/internal/driver"
)

// startGrace is how long a started container of another agent may go
// without a shim record before it counts as failed.
const startGrace = 30 * time.Second

// snapshot is what the state directory says about a container, with the
// liveness of its processes.
type snapshot struct {
	id, dir   string
	rec       *record
	started   bool
	startedAt time.Time // of the started marker
	shim      *procRef
	work      *workloadRec
	startErr  *startErrorRec
	exit      *exitRec
	shimAlive bool
	workAlive bool
}

// terminal: the workload ran and exited, or never ran.
func (s *snapshot) terminal() bool { return s.exit != nil || s.startErr != nil }

// running: the workload runs, supervised or not.
func (s *snapshot) running() bool {
	return !s.terminal() && s.work != nil && (s.shimAlive || s.workAlive)
}

// load reads the files in the reverse of the order the shim writes them.
func (s *snapshot) load() error {
	s.exit, s.startErr, s.work, s.shim = nil, nil, nil, nil
	var exit exitRec
	var startErr startErrorRec
	var work workloadRec
	var shim procRef
	for _, f := range []struct {
		name string
		v    any
		set  func()
		read func(string, any) (bool, error)
	}{
		{fileExit, &exit, func() { s.exit = &exit }, readJSON},
		{fileStartError, &startErr, func() { s.startErr = &startErr }, readJSON},
		{fileWorkload, &work, func() { s.work = &work }, readProcJSON},
		{fileShim, &shim, func() { s.shim = &shim }, readProcJSON},
	} {
		ok, err := f.read(filepath.Join(s.dir, f.name), f.v)
		if err != nil {
			return err
		}
		if ok {
			f.set()
		}
	}
	fi, err := os.Stat(filepath.Join(s.dir, fileStarted))
	s.started = err == nil
	if s.started {
		s.startedAt = fi.ModTime()
	}
	// A shim that recorded anything was started, even if the marker is lost.
	s.started = s.started || s.shim != nil || s.work != nil || s.terminal()
	return nil
}

// snapshot reads container id. When neither the shim nor the workload runs
// and the shim recorded no end, it records one: exit code lostCode (255
// when 0) for a workload that ran, a start error for one that never did.
func (d *Driver) snapshot(id string, lostCode int) (*snapshot, error) {
	dir := d.dir(id)
	rec, err := d.record(id)
	if err == nil {
		// The record may be the index's: is the container still there?
		if _, err = os.Stat(filepath.Join(dir, fileSpec)); errors.Is(err, fs.ErrNotExist) {
			d.index.remove(id)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", driver.ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	s := &snapshot{id: id, dir: dir, rec: rec}
	// Twice: the shim writes its last record before it exits, so a shim
	// seen dead has written all it will.
	for range 2 {
		if err := s.load(); err != nil {
			return nil, err
		}
		if s.terminal() || !s.started {
			return s, nil
		}
		if s.shimAlive = s.shim != nil && s.shim.alive(); s.shimAlive {
			return s, nil
		}
		if s.workAlive = s.work != nil && s.work.alive(); s.workAlive {
			return s, nil
		}
	}
	now := time.Now()
	switch {
	case s.work != nil:
		e := exitRec{ExitCode: 255, FinishedAt: now,
			Error: fmt.Sprintf("exit status unknown: the shim exited before the workload (pid %d)", s.work.Pid)}
		if lostCode != 0 {
			e.ExitCode, e.Error = lostCode, "the shim was gone; the agent killed the workload"
		}
		err = writeJSON(filepath.Join(dir, fileExit), e)
	case s.shim != nil || d.shimGone(id, s.startedAt):
		msg := "the shim exited before starting the workload"
		if t := strings.TrimSpace(tail(filepath.Join(dir, fileShimLog), 512)); t != "" {
			msg += ": " + t
		}
		err = writeJSON(filepath.Join(dir, fileStartError), startErrorRec{Error: msg, ExitCode: 128, Time: now})
	default:
		return s, nil // starting
	}
	if err != nil {
		return nil, err
	}
	return s, s.load()
}

// shimGone reports whether a started container that has no shim record
// will never get one.
func (d *Driver) shimGone(id string, startedAt time.Time) bool {
	if c := d.child(id); c != nil {
		return isClosed(c.done)
	}
	return time.Since(startedAt) > startGrace
}

// imageDigest is the digest an image reference pins (NAME@sha256:...),
// the only image identity this runtime, which pulls nothing, knows; "" for
// a reference by tag.
func imageDigest(ref string) string {
	_, d, ok := strings.Cut(ref, "@")
	if !ok || !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		return ""
	}
	return d
}

// status converts a snapshot to the driver's Status.
func (s *snapshot) status() driver.Status {
	st := driver.Status{CreatedAt: s.rec.Created, ImageID: imageDigest(s.rec.Spec.Image)}
	if s.work != nil {
		st.StartedAt = s.work.StartedAt
		st.Bindings = s.rec.Bindings
	}
	switch {
	case s.exit != nil:
		st.Exited, st.ExitCode, st.OOMKilled = true, s.exit.ExitCode, s.exit.OOMKilled
		st.FinishedAt, st.Error = s.exit.FinishedAt, s.exit.Error
	case s.startErr != nil:
		st.Exited, st.ExitCode = true, s.startErr.ExitCode
		st.FinishedAt, st.Error = s.startErr.Time, s.startErr.Error
	case s.shimAlive:
		st.Running = s.work != nil
	case s.workAlive:
		st.Running = true
		st.Error = "the shim is gone: the workload runs unsupervised and its exit status will be unknown"
	}
	return st
}
