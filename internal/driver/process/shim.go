//go:build linux

package process

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// drainTimeout bounds how long the shim copies output after the workload's
// process group is gone: a process that left the group may hold the pipes.
const drainTimeout = 2 * time.Second

// RunShim runs the hidden shim subcommand with the arguments after it and
// returns the exit code:
//
//	run --ready-fd N [--secrets-fd M] DIR
//	                      supervise the container whose state directory is
//	                      DIR; close fd N once the workload runs (its record
//	                      written) or cannot start; read the container's
//	                      secrets (a JSON list of NAME=VALUE) on fd M
//	exec                  the trampoline: read a plan on fd 3, exec it,
//	                      report on fd 4
func RunShim(args []string) int {
	switch {
	case len(args) == 4 && args[0] == "run" && args[1] == "--ready-fd" && filepath.IsAbs(args[3]):
		fd, err := strconv.Atoi(args[2])
		if err != nil || fd < 3 {
			break
		}
		syscall.CloseOnExec(fd) // the workload must not hold it
		return runSupervisor(args[3], os.NewFile(uintptr(fd), "ready"), nil)
	case len(args) == 6 && args[0] == "run" && args[1] == "--ready-fd" && args[3] == "--secrets-fd" && filepath.IsAbs(args[5]):
		fd, err := strconv.Atoi(args[2])
		sfd, serr := strconv.Atoi(args[4])
		if err != nil || serr != nil || fd < 3 || sfd < 3 || fd == sfd {
			break
		}
		syscall.CloseOnExec(fd)
		syscall.CloseOnExec(sfd)
		return runSupervisor(args[5], os.NewFile(uintptr(fd), "ready"), os.NewFile(uintptr(sfd), "secrets"))
	case len(args) == 1 && args[0] == "exec":
		return runTrampoline()
	}
	fmt.Fprintln(os.Stderr, "usage: shim run --ready-fd N [--secrets-fd M] DIR | shim exec (internal to the berth process runtime)")
	return 2
}

func shimLogf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s shim[%d]: %s\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid(), fmt.Sprintf(format, args...))
}

// runSupervisor starts the workload, forwards signals to its process group,
// copies its output and records how it ended. It closes ready once
// workload.json or start-error.json is written.
func runSupervisor(dir string, ready, secrets *os.File) int {
	defer ready.Close()
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGHUP)
	_ = os.Chdir("/")

	rec, err := readRecord(dir)
	if err != nil {
		shimLogf("%v", err)
		return 2
	}
	var secretEnv []string
	if secrets != nil {
		// Kept in this process's memory only (see secrets.go).
		if secretEnv, err = readSecrets(secrets); err != nil {
			shimLogf("%v", err)
			return 2
		}
	}
	self, err := refOf(os.Getpid())
	if err == nil {
		err = writeProcJSON(filepath.Join(dir, fileShim), self)
	}
	if err != nil {
		shimLogf("recording the shim: %v", err)
		return 2
	}
	fail := func(code int, format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		shimLogf("cannot start: %s", msg)
		if err := writeJSON(filepath.Join(dir, fileStartError), startErrorRec{Error: msg, ExitCode: code, Time: time.Now()}); err != nil {
			shimLogf("recording the start error: %v", err)
		}
		ready.Close()
		return 1
	}
	lw, err := openLogWriter(filepath.Join(dir, dirLogs), rec.LogMaxBytes, rec.LogFiles)
	if err != nil {
		return fail(128, "opening the log: %v", err)
	}
	if cg := rec.Cgroup; cg != nil {
		if err := cg.create(); err != nil {
			lw.Close()
			cg.remove()
			return fail(128, "%v", err)
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail(128, "%v", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail(128, "%v", err)
	}
	var copiers sync.WaitGroup
	copiers.Go(func() { copyStream(outR, "stdout", lw) })
	copiers.Go(func() { copyStream(errR, "stderr", lw) })

	plan := rec.Plan
	plan.Env = mergeEnv(plan.Env, secretEnv)
	l, failure, err := startWorkload(plan, outW, errW, rec.Cgroup,
		trampoline{"/proc/self/exe", append(append([]string{}, rec.ShimArgs...), "exec")})
	outW.Close()
	errW.Close()
	if err != nil || failure != nil {
		drain(&copiers, outR, errR)
		lw.Close()
		if rec.Cgroup != nil {
			rec.Cgroup.remove()
		}
		if err != nil {
			return fail(128, "starting the workload: %v", err)
		}
		return fail(failure.ExitCode, "%s", failure.Error)
	}
	if err := writeProcJSON(filepath.Join(dir, fileWorkload), workloadRec{procRef: l.ref, StartedAt: time.Now()}); err != nil {
		shimLogf("recording the workload: %v", err) // it runs; exit.json will tell
	}
	ready.Close()
	shimLogf("workload pid %d started", l.ref.Pid)

	exited := make(chan struct{})
	go func() { l.waitExited(); close(exited) }()
	for running := true; running; {
		select {
		case s := <-sigs:
			forward(s.(syscall.Signal), l.ref.Pid, rec.Cgroup)
		case <-exited:
			running = false
		}
	}
	signal.Stop(sigs)
	code, sig := l.finish(rec.Cgroup)
	finished := time.Now()
	drain(&copiers, outR, errR)
	oom := false
	if cg := rec.Cgroup; cg != nil {
		oom = cg.oomKilled()
		if err := cg.remove(); err != nil {
			shimLogf("removing the cgroup: %v", err)
		}
	}
	if err := lw.Close(); err != nil {
		shimLogf("log: %v", err)
	}
	shimLogf("workload exited with code %d", code)
	if err := writeJSON(filepath.Join(dir, fileExit), exitRec{ExitCode: code, Signal: sig, OOMKilled: oom, FinishedAt: finished}); err != nil {
		shimLogf("recording the exit: %v", err)
		return 1
	}
	return 0
}

// forward passes a signal the shim received to the workload's process
// group. The leader is the shim's unreaped child, so pgid is its group.
func forward(s syscall.Signal, pgid int, cg *cgroupConfig) {
	switch s {
	case syscall.SIGTERM, syscall.SIGINT:
		_ = syscall.Kill(-pgid, s)
	case syscall.SIGUSR1:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if cg != nil {
			cg.kill()
		}
	}
}

// drain waits for the output copiers, closing the pipes after drainTimeout.
func drain(copiers *sync.WaitGroup, pipes ...*os.File) {
	done := make(chan struct{})
	go func() { copiers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		shimLogf("output still open %s after the workload exited; closing it", drainTimeout)
		for _, p := range pipes {
			p.Close()
		}
		<-done
	}
}
