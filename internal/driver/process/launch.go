//go:build linux

package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// execFailure is what the trampoline reports when it cannot exec.
type execFailure struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exitCode"`
}

// launched is a trampoline that exec'd its program: it leads its own
// process group.
type launched struct {
	proc *os.Process
	ref  procRef
}

// launch starts the trampoline (prog args...) with stdout and stderr, in its
// own process group, moves it into cg, hands it plan and waits for the exec.
// A failure to exec comes back as *execFailure with the trampoline reaped.
func launch(prog string, args []string, plan execPlan, stdout, stderr *os.File, cg *cgroupConfig) (*launched, *execFailure, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer devnull.Close()
	planR, planW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer planW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		planR.Close()
		return nil, nil, err
	}
	defer errR.Close()
	proc, err := os.StartProcess(prog, append([]string{prog}, args...), &os.ProcAttr{
		Dir:   "/",
		Env:   []string{},
		Files: []*os.File{devnull, stdout, stderr, planR, errW},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	planR.Close()
	errW.Close()
	if err != nil {
		return nil, nil, err
	}
	abort := func(msg string) (*launched, *execFailure, error) {
		proc.Kill()
		proc.Wait()
		return nil, &execFailure{Error: msg, ExitCode: 128}, nil
	}
	ref, err := refOf(proc.Pid) // an unreaped child: the pid is stable
	if err != nil {
		return abort(err.Error())
	}
	// The trampoline waits for its plan, so it runs nothing before it is in
	// the cgroup.
	if cg != nil {
		if err := cg.add(proc.Pid); err != nil {
			return abort(err.Error())
		}
	}
	data, _ := json.Marshal(plan)
	if _, err := planW.Write(data); err != nil {
		return abort("sending the exec plan: " + err.Error())
	}
	planW.Close()
	// errW is close-on-exec in the trampoline: EOF without data means the
	// exec succeeded.
	report, err := io.ReadAll(errR)
	if err != nil {
		return abort("reading the exec result: " + err.Error())
	}
	if len(report) > 0 {
		var f execFailure
		if jerr := json.Unmarshal(report, &f); jerr != nil || f.Error == "" {
			f = execFailure{Error: fmt.Sprintf("exec: %s", report), ExitCode: 128}
		}
		proc.Wait()
		return nil, &f, nil
	}
	return &launched{proc: proc, ref: ref}, nil, nil
}

// waitExited blocks until the process has exited, without reaping it: its
// pid, and so its process group ID, stays reserved.
func (l *launched) waitExited() {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, l.ref.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// finish kills what is left of the process group, reaps the leader and
// returns its exit code and signal.
func (l *launched) finish(cg *cgroupConfig) (code, sig int) {
	l.waitExited()
	_ = syscall.Kill(-l.ref.Pid, syscall.SIGKILL)
	if cg != nil {
		cg.kill()
	}
	ps, err := l.proc.Wait()
	if err != nil {
		return 255, 0
	}
	return exitCode(ps.Sys().(syscall.WaitStatus))
}
