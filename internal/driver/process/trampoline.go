//go:build linux

package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// rlimitResources maps ECS ulimit names to resources.
var rlimitResources = map[string]int{
	"core":       unix.RLIMIT_CORE,
	"cpu":        unix.RLIMIT_CPU,
	"data":       unix.RLIMIT_DATA,
	"fsize":      unix.RLIMIT_FSIZE,
	"locks":      unix.RLIMIT_LOCKS,
	"memlock":    unix.RLIMIT_MEMLOCK,
	"msgqueue":   unix.RLIMIT_MSGQUEUE,
	"nice":       unix.RLIMIT_NICE,
	"nofile":     unix.RLIMIT_NOFILE,
	"nproc":      unix.RLIMIT_NPROC,
	"rss":        unix.RLIMIT_RSS,
	"rtprio":     unix.RLIMIT_RTPRIO,
	"rttime":     unix.RLIMIT_RTTIME,
	"sigpending": unix.RLIMIT_SIGPENDING,
	"stack":      unix.RLIMIT_STACK,
}

// Trampoline file descriptors (see launch).
const (
	fdPlan  = 3
	fdError = 4
)

// runTrampoline applies a plan and execs its program; it returns only when
// that fails, after reporting why on fdError.
func runTrampoline() int {
	syscall.CloseOnExec(fdPlan)
	syscall.CloseOnExec(fdError)
	report := os.NewFile(fdError, "exec-error")
	fail := func(code int, format string, args ...any) int {
		data, _ := json.Marshal(execFailure{Error: fmt.Sprintf(format, args...), ExitCode: code})
		report.Write(data)
		return code
	}
	planFile := os.NewFile(fdPlan, "exec-plan")
	data, err := io.ReadAll(planFile)
	planFile.Close()
	if err != nil {
		return fail(128, "reading the exec plan: %v", err)
	}
	var plan execPlan
	if err := json.Unmarshal(data, &plan); err != nil || len(plan.Argv) == 0 {
		return fail(128, "bad exec plan: %v", err)
	}
	// The resolv.conf first, while privileged: the trampoline runs in a
	// mount namespace of its own when the plan has one (see launch).
	if plan.ResolvConf != "" {
		if err := mountResolvConf(plan.ResolvConf); err != nil {
			return fail(128, "dns: %v", err)
		}
	}
	// Limits next, while still privileged enough to raise hard limits.
	for _, l := range plan.Rlimits {
		res, ok := rlimitResources[l.Name]
		if !ok {
			return fail(128, "unknown ulimit %q", l.Name)
		}
		// syscall.Setrlimit, so that a nofile limit is not undone at exec.
		if err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: l.Soft, Max: l.Hard}); err != nil {
			return fail(128, "setrlimit %s: %v", l.Name, err)
		}
	}
	if u := plan.User; u != nil && u.Switch {
		groups := make([]int, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = int(g)
		}
		if err := syscall.Setgroups(groups); err != nil {
			return fail(128, "setgroups: %v", err)
		}
		if err := syscall.Setgid(int(u.GID)); err != nil {
			return fail(128, "setgid %d: %v", u.GID, err)
		}
		if err := syscall.Setuid(int(u.UID)); err != nil {
			return fail(128, "setuid %d: %v", u.UID, err)
		}
	}
	if err := syscall.Chdir(plan.Dir); err != nil {
		return fail(codeFor(err), "chdir to cwd (%q) set in config: %v", plan.Dir, err)
	}
	pathEnv, _ := lookupEnv(plan.Env, "PATH")
	prog, err := lookPath(plan.Argv[0], pathEnv)
	if err != nil {
		return fail(127, "%v", err)
	}
	err = syscall.Exec(prog, plan.Argv, plan.Env)
	return fail(codeFor(err), "exec: %q: %v", prog, err)
}

// codeFor is the exit code Docker gives a container that failed to start
// with err: 127 for a missing file, 126 for a refused one, else 128.
func codeFor(err error) int {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		return 127
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EISDIR):
		return 126
	}
	return 128
}

// lookPath resolves a program name as execvp does, with the container's
// PATH: a name with a slash is used as it is (relative to the working
// directory); relative PATH entries are ignored.
func lookPath(file, pathEnv string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && unix.Access(p, unix.X_OK) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}
