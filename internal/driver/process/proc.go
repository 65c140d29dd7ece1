//go:build linux

package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// procFS is where /proc is mounted (a variable for tests).
var procFS = "/proc"

var errGone = errors.New("process is gone")

// procStat returns a process's start time (clock ticks after boot, field 22
// of /proc/PID/stat) and its state letter.
func procStat(pid int) (startTicks uint64, state byte, err error) {
	data, err := os.ReadFile(procFS + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold anything,
	// so the fields that follow start after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("pid %d: malformed stat", pid)
	}
	fields := bytes.Fields(data[i+1:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("pid %d: malformed stat", pid)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("pid %d: malformed stat: %v", pid, err)
	}
	return start, fields[0][0], nil
}

// refOf identifies a live process.
func refOf(pid int) (procRef, error) {
	start, _, err := procStat(pid)
	if err != nil {
		return procRef{}, err
	}
	return procRef{Pid: pid, StartTicks: start}, nil
}

// alive reports whether the process r recorded still runs: same start time
// (so not a reused pid) and not a zombie.
func (r procRef) alive() bool {
	if r.Pid <= 0 {
		return false
	}
	start, state, err := procStat(r.Pid)
	return err == nil && start == r.StartTicks && state != 'Z' && state != 'X'
}

// signal sends sig to the process r recorded. The pidfd is opened before
// the start time is checked, so the signal cannot reach a process that
// reused the pid.
func (r procRef) signal(sig syscall.Signal) error {
	p, err := os.FindProcess(r.Pid)
	if err != nil {
		return err
	}
	defer p.Release()
	if !r.alive() {
		return errGone
	}
	if err := p.Signal(sig); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return errGone
		}
		return err
	}
	return nil
}

// signalGroup sends sig to the process group r leads, if r still runs. Only
// for when the shim, which owns the group, is gone.
func (r procRef) signalGroup(sig syscall.Signal) error {
	if !r.alive() {
		return errGone
	}
	err := syscall.Kill(-r.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return errGone
	}
	return err
}

// exitCode is Docker's: the exit status, or 128+signal.
func exitCode(ws syscall.WaitStatus) (code, sig int) {
	if ws.Signaled() {
		return 128 + int(ws.Signal()), int(ws.Signal())
	}
	return ws.ExitStatus(), 0
}
