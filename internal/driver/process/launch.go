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

// launched is a workload that runs: it leads its own process group.
type launched struct {
	proc *os.Process
	ref  procRef
}

// trampoline is how to run the trampoline: `prog args...` must reach
// RunShim with "exec".
type trampoline struct {
	prog string
	args []string
}

// errNoCgroupFD: the kernel cannot start a process in a cgroup (clone3
// with CLONE_INTO_CGROUP needs Linux 5.7).
var errNoCgroupFD = errors.New("cannot clone into a cgroup")

// startWorkload starts plan's program with stdout and stderr, in its own
// process group and in cg. Go's fork/exec does all a plan asks (process
// group, cgroup via CLONE_INTO_CGROUP, working directory, environment)
// except ulimits and a user switch: those plans go through the
// trampoline, which applies them and resolves the program as the
// container's user. A failure to exec comes back as *execFailure.
func startWorkload(plan execPlan, stdout, stderr *os.File, cg *cgroupConfig, tr trampoline) (*launched, *execFailure, error) {
	if plan.NetNS == "" {
		return startWorkloadHere(plan, stdout, stderr, cg, tr)
	}
	// A sandbox: fork from a thread in its namespace, so that the program
	// (or the trampoline that execs it) starts there.
	var (
		l       *launched
		failure *execFailure
		err     error
	)
	if nsErr := inNetNS(plan.NetNS, func() { l, failure, err = startWorkloadHere(plan, stdout, stderr, cg, tr) }); nsErr != nil {
		return nil, &execFailure{Error: nsErr.Error(), ExitCode: 128}, nil
	}
	return l, failure, err
}

// startWorkloadHere is startWorkload in the calling thread's network
// namespace.
func startWorkloadHere(plan execPlan, stdout, stderr *os.File, cg *cgroupConfig, tr trampoline) (*launched, *execFailure, error) {
	if len(plan.Rlimits) == 0 && (plan.User == nil || !plan.User.Switch) && plan.ResolvConf == "" {
		l, f, err := launchDirect(plan, stdout, stderr, cg)
		if !errors.Is(err, errNoCgroupFD) {
			return l, f, err
		}
	}
	return launch(tr.prog, tr.args, plan, stdout, stderr, cg)
}

// launchDirect execs plan's program as the caller's user, with the
// trampoline's outcomes: the same messages and exit codes for a missing
// working directory, a program not found and a failed exec.
func launchDirect(plan execPlan, stdout, stderr *os.File, cg *cgroupConfig) (*launched, *execFailure, error) {
	if len(plan.Argv) == 0 {
		return nil, &execFailure{Error: "bad exec plan: no argv", ExitCode: 128}, nil
	}
	pathEnv, _ := lookupEnv(plan.Env, "PATH")
	prog, err := lookPath(plan.Argv[0], pathEnv)
	if err != nil {
		if f := dirFailure(plan.Dir); f != nil {
			return nil, f, nil // the trampoline changes directory first
		}
		return nil, &execFailure{Error: err.Error(), ExitCode: 127}, nil
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer devnull.Close()
	sys := &syscall.SysProcAttr{Setpgid: true}
	if cg != nil {
		fd, err := unix.Open(cg.Path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &execFailure{Error: fmt.Sprintf("cgroup: joining %s: %v", cg.Path, err), ExitCode: 128}, nil
		}
		defer unix.Close(fd)
		sys.UseCgroupFD, sys.CgroupFD = true, fd
	}
	proc, err := os.StartProcess(prog, plan.Argv, &os.ProcAttr{
		Dir:   plan.Dir,
		Env:   plan.Env,
		Files: []*os.File{devnull, stdout, stderr},
		Sys:   sys,
	})
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			return nil, nil, err
		}
		if cg != nil && errno == syscall.ENOSYS {
			return nil, nil, errNoCgroupFD
		}
		if f := dirFailure(plan.Dir); f != nil {
			return nil, f, nil
		}
		return nil, &execFailure{Error: fmt.Sprintf("exec: %q: %v", prog, errno), ExitCode: codeFor(errno)}, nil
	}
	ref, err := refOf(proc.Pid) // an unreaped child: the pid is stable
	if err != nil {
		proc.Kill()
		proc.Wait()
		return nil, &execFailure{Error: err.Error(), ExitCode: 128}, nil
	}
	return &launched{proc: proc, ref: ref}, nil, nil
}

// dirFailure is the trampoline's failure to change into dir, if it would
// fail: dir must be a directory the caller may search.
func dirFailure(dir string) *execFailure {
	var st unix.Stat_t
	err := unix.Stat(dir, &st)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		err = syscall.ENOTDIR
	}
	if err == nil {
		err = unix.Access(dir, unix.X_OK)
	}
	if err == nil {
		return nil
	}
	return &execFailure{Error: fmt.Sprintf("chdir to cwd (%q) set in config: %v", dir, err), ExitCode: codeFor(err)}
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
	sys := &syscall.SysProcAttr{Setpgid: true}
	if plan.ResolvConf != "" {
		// A mount namespace of the trampoline's own, where it mounts the
		// plan's resolv.conf; Go makes every mount in it private, so
		// nothing done there reaches the host.
		sys.Unshareflags = syscall.CLONE_NEWNS
	}
	proc, err := os.StartProcess(prog, append([]string{prog}, args...), &os.ProcAttr{
		Dir:   "/",
		Env:   []string{},
		Files: []*os.File{devnull, stdout, stderr, planR, errW},
		Sys:   sys,
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
