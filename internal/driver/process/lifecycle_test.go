//go:build linux

package process

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestExitCodes(t *testing.T) {
	d := newDriver(t, Options{})
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"exit 255", 255},
		{"kill -TERM $$", 143},
		{"kill -KILL $$", 137},
	} {
		h, _ := mustStart(t, d, sh(tc.script))
		st := mustWait(t, d, h)
		if st.ExitCode != tc.want {
			t.Errorf("%q: exit code %d, want %d", tc.script, st.ExitCode, tc.want)
		}
		if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
			t.Errorf("%q: started %v, finished %v", tc.script, st.StartedAt, st.FinishedAt)
		}
		if st.Error != "" || st.OOMKilled {
			t.Errorf("%q: unexpected %+v", tc.script, st)
		}
	}
}

func TestStartReportsRunning(t *testing.T) {
	d := newDriver(t, Options{})
	h := mustCreate(t, d, driver.Spec{Command: []string{"sleep", "1000"}})
	st, err := d.Inspect(ctxT(t), h)
	if err != nil || st.Running || st.Exited {
		t.Fatalf("created container: %+v, %v", st, err)
	}
	st, err = d.Start(ctxT(t), h)
	if err != nil || !st.Running || st.Exited || st.StartedAt.IsZero() {
		t.Fatalf("start: %+v, %v", st, err)
	}
	shim := snap(t, d, h).shim
	// A second Start launches nothing and reports the same container.
	st, err = d.Start(ctxT(t), h)
	if err != nil || !st.Running {
		t.Fatalf("second start: %+v, %v", st, err)
	}
	if again := snap(t, d, h).shim; *again != *shim {
		t.Fatalf("second start replaced the shim: %+v -> %+v", shim, again)
	}
	if err := d.Stop(ctxT(t), h, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	st = mustWait(t, d, h)
	if st.ExitCode != 143 {
		t.Fatalf("sleep stopped with SIGTERM: exit code %d, want 143", st.ExitCode)
	}
}

func TestArgvEnvAndWorkingDir(t *testing.T) {
	t.Setenv("BERTH_AGENT_SECRET", "leaked")
	d := newDriver(t, Options{})
	work := t.TempDir()
	spec := sh(`printf '%s|%s|%s|%s|%s\n' "$0" "$1" "$FOO" "$(pwd)" "$HOME"; env`)
	spec.Command = append(spec.Command, "zero", "one")
	spec.Env = []string{"FOO=bar", "HOME=/custom", "FOO=baz"}
	spec.WorkingDir = work
	h, _ := mustStart(t, d, spec)
	if st := mustWait(t, d, h); st.ExitCode != 0 {
		t.Fatalf("exit code %d", st.ExitCode)
	}
	out := texts(readLogs(t, d, h, false), "stdout")
	if len(out) == 0 || out[0] != "zero|one|baz|"+work+"|/custom" {
		t.Fatalf("output %q", out)
	}
	env := strings.Join(out[1:], "\n")
	if strings.Contains(env, "BERTH_AGENT_SECRET") {
		t.Errorf("the agent's environment reached the workload:\n%s", env)
	}
	if !strings.Contains(env, "PATH="+basePath) {
		t.Errorf("no base PATH in:\n%s", env)
	}
}

func TestCommandResolvedThroughSpecPath(t *testing.T) {
	d := newDriver(t, Options{})
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "hello-berth"), []byte("#!/bin/sh\necho \"hi $1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h, _ := mustStart(t, d, driver.Spec{
		Command: []string{"hello-berth", "there"},
		Env:     []string{"PATH=" + bin + ":/usr/bin:/bin"},
	})
	mustWait(t, d, h)
	if out := texts(readLogs(t, d, h, false), "stdout"); len(out) != 1 || out[0] != "hi there" {
		t.Fatalf("output %q", out)
	}
	// Without that PATH the name does not resolve.
	_, err := d.Start(ctxT(t), mustCreate(t, d, driver.Spec{Command: []string{"hello-berth"}}))
	if !errors.Is(err, driver.ErrCannotStart) || !strings.Contains(err.Error(), `"hello-berth": executable file not found in $PATH`) {
		t.Fatalf("start without PATH: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	d := newDriver(t, Options{})
	noexec := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without ulimits the shim execs the workload itself; with them, through
	// the trampoline. Both give the same outcomes.
	for _, via := range []struct {
		name    string
		ulimits []driver.Ulimit
	}{{"direct", nil}, {"trampoline", []driver.Ulimit{{Name: "nofile", Soft: 512, Hard: 512}}}} {
		for _, tc := range []struct {
			name     string
			spec     driver.Spec
			code     int
			contains string
		}{
			{"not found", driver.Spec{Command: []string{"berth-no-such-program"}}, 127, "executable file not found in $PATH"},
			{"absolute not found", driver.Spec{Command: []string{"/nonexistent/prog"}}, 127, `exec: "/nonexistent/prog": no such file or directory`},
			{"not executable", driver.Spec{Command: []string{noexec}}, 126, "permission denied"},
			{"no working dir", driver.Spec{Command: []string{"true"}, WorkingDir: "/nonexistent/dir"}, 127, `chdir to cwd ("/nonexistent/dir") set in config: no such file or directory`},
			{"no working dir, no program", driver.Spec{Command: []string{"berth-no-such-program"}, WorkingDir: "/nonexistent/dir"}, 127, `chdir to cwd ("/nonexistent/dir")`},
			{"working dir is a file", driver.Spec{Command: []string{"true"}, WorkingDir: noexec}, 127, "not a directory"},
			{"directory as program", driver.Spec{Command: []string{"/"}}, 126, "permission denied"},
		} {
			name := via.name + ": " + tc.name
			tc.spec.Ulimits = via.ulimits
			h := mustCreate(t, d, tc.spec)
			st, err := d.Start(ctxT(t), h)
			if !errors.Is(err, driver.ErrCannotStart) || !strings.HasPrefix(err.Error(), "CannotStartContainerError: ") || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("%s: start error %v", name, err)
				continue
			}
			if !st.Exited || st.Running || st.ExitCode != tc.code || !strings.Contains(st.Error, tc.contains) {
				t.Errorf("%s: status %+v", name, st)
			}
			if st2, err := d.Inspect(ctxT(t), h); err != nil || st2.ExitCode != tc.code || !st2.Exited {
				t.Errorf("%s: inspect %+v, %v", name, st2, err)
			}
		}
	}
}

func TestStopGraceful(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, sh(`trap 'echo draining; sleep 0.2; echo drained; exit 0' TERM; echo ready; while :; do sleep 0.05; done`))
	eventually(t, "ready", func() bool { return len(readLogs(t, d, h, false)) > 0 })
	start := time.Now()
	if err := d.Stop(ctxT(t), h, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stop took %v: SIGTERM was not handled", took)
	}
	st := mustWait(t, d, h)
	if st.ExitCode != 0 {
		t.Errorf("exit code %d, want 0 after a drain", st.ExitCode)
	}
	if out := texts(readLogs(t, d, h, false), "stdout"); strings.Join(out, ",") != "ready,draining,drained" {
		t.Errorf("output %q", out)
	}
	// Stopping an exited container is a no-op.
	if err := d.Stop(ctxT(t), h, time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestStopKillsWhenTermIgnored(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, sh(`trap '' TERM; echo ready; while :; do sleep 0.05; done`))
	eventually(t, "ready", func() bool { return len(readLogs(t, d, h, false)) > 0 })
	const timeout = 400 * time.Millisecond
	start := time.Now()
	if err := d.Stop(ctxT(t), h, timeout); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < timeout {
		t.Errorf("stop took %v, less than the %v timeout", took, timeout)
	}
	if st := mustWait(t, d, h); st.ExitCode != 137 {
		t.Errorf("exit code %d, want 137", st.ExitCode)
	}
}

func TestStopSignalsTheProcessGroup(t *testing.T) {
	d := newDriver(t, Options{})
	// The child handles SIGTERM itself; the parent waits for it, so the
	// child's line proves it got SIGTERM (not the SIGKILL that ends a group
	// whose leader exited).
	h, _ := mustStart(t, d, sh(`trap 'wait $child; echo parent done; exit 0' TERM
sh -c 'trap "echo child got TERM; exit 0" TERM; echo child ready; while :; do sleep 0.05; done' &
child=$!
wait $child`))
	eventually(t, "the child's trap", func() bool { return len(readLogs(t, d, h, false)) > 0 })
	if err := d.Stop(ctxT(t), h, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if st := mustWait(t, d, h); st.ExitCode != 0 {
		t.Errorf("exit code %d", st.ExitCode)
	}
	if out := texts(readLogs(t, d, h, false), "stdout"); strings.Join(out, ",") != "child ready,child got TERM,parent done" {
		t.Fatalf("output %q", out)
	}
}

func TestGroupKilledWhenMainProcessExits(t *testing.T) {
	d := newDriver(t, Options{})
	tok := token()
	h, _ := mustStart(t, d, sh(`sleep `+tok+` & exit 3`))
	if st := mustWait(t, d, h); st.ExitCode != 3 {
		t.Fatalf("exit code %d", st.ExitCode)
	}
	eventually(t, "the child to die", func() bool { return !processWithArgs("sleep", tok) })
}

func TestKilledFromOutside(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, driver.Spec{Command: []string{"sleep", "1000"}})
	s := snap(t, d, h)
	if !s.running() || s.work == nil {
		t.Fatalf("not running: %+v", s)
	}
	if err := syscall.Kill(s.work.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := mustWait(t, d, h); st.ExitCode != 137 || st.OOMKilled {
		t.Fatalf("status %+v, want exit code 137", st)
	}
}

func TestStopAndWaitBeforeStart(t *testing.T) {
	d := newDriver(t, Options{})
	h := mustCreate(t, d, driver.Spec{Command: []string{"true"}})
	if err := d.Stop(ctxT(t), h, time.Second); err != nil {
		t.Fatalf("stop of a created container: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := d.Wait(ctx, h); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait on a created container: %v", err)
	}
	// Wait also covers a start that happens later.
	done := make(chan driver.Status, 1)
	go func() {
		st, _ := d.Wait(context.Background(), h)
		done <- st
	}()
	if _, err := d.Start(ctxT(t), h); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-done:
		if !st.Exited || st.ExitCode != 0 {
			t.Fatalf("wait: %+v", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return")
	}
}

func TestRemove(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, driver.Spec{Command: []string{"sleep", "1000"}})
	if err := d.Remove(ctxT(t), h); err == nil {
		t.Fatal("removed a running container")
	}
	if err := d.Stop(ctxT(t), h, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctxT(t), h); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.dir(h.ID)); !os.IsNotExist(err) {
		t.Fatalf("state directory left: %v", err)
	}
	if _, err := d.Inspect(ctxT(t), h); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("inspect after remove: %v", err)
	}
	if err := d.Remove(ctxT(t), h); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	created := mustCreate(t, d, driver.Spec{Command: []string{"true"}})
	if err := d.Remove(ctxT(t), created); err != nil {
		t.Fatalf("remove of a created container: %v", err)
	}
	if hs, _ := d.List(ctxT(t)); len(hs) != 0 {
		t.Fatalf("list after removes: %+v", hs)
	}
}

func TestHandleByName(t *testing.T) {
	d := newDriver(t, Options{})
	spec := driver.Spec{Name: "ecs-web-1-app", Command: []string{"true"}, Labels: map[string]string{driver.LabelContainerName: "app"}}
	h := mustCreate(t, d, spec)
	if h.Name != spec.Name || h.Labels[driver.LabelContainerName] != "app" || h.Labels[driver.LabelManaged] != "true" || !validID(h.ID) {
		t.Fatalf("handle %+v", h)
	}
	if _, err := d.Create(ctxT(t), spec); !errors.Is(err, driver.ErrCannotCreate) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := d.Start(ctxT(t), driver.Handle{Name: spec.Name}); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctxT(t), driver.Handle{Name: spec.Name}); err != nil || st.ExitCode != 0 {
		t.Fatalf("wait by name: %+v, %v", st, err)
	}
	for _, bad := range []driver.Handle{{ID: "../../etc"}, {ID: strings.Repeat("0", 32)}, {Name: "nope"}} {
		if _, err := d.Inspect(ctxT(t), bad); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("inspect %+v: %v", bad, err)
		}
	}
}

func TestPull(t *testing.T) {
	d := newDriver(t, Options{})
	for _, p := range []driver.PullPolicy{"", driver.PullDefault, driver.PullAlways, driver.PullOnce, driver.PullPreferCached} {
		if err := d.Pull(ctxT(t), "nginx:1.27", p); err != nil {
			t.Errorf("pull with %q: %v", p, err)
		}
	}
	if err := d.Pull(ctxT(t), "nginx", "sometimes"); !errors.Is(err, driver.ErrCannotPull) {
		t.Errorf("unknown policy: %v", err)
	}
	if d.Name() != "process" {
		t.Errorf("name %q", d.Name())
	}
}

func TestConcurrentContainers(t *testing.T) {
	d := newDriver(t, Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ctx := ctxT(t)
			spec := sh("echo n$0; exit $0")
			spec.Command = append(spec.Command, strconv.Itoa(i))
			h, err := d.Create(ctx, spec)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := d.Start(ctx, h); err != nil {
				t.Error(err)
				return
			}
			st, err := d.Wait(ctx, h)
			if err != nil || st.ExitCode != i {
				t.Errorf("container %d: %+v, %v", i, st, err)
			}
			if out := texts(readLogs(t, d, h, true), ""); len(out) != 1 || out[0] != "n"+strconv.Itoa(i) {
				t.Errorf("container %d: output %q", i, out)
			}
		})
	}
	wg.Wait()
}

func TestConcurrentStartsLaunchOneShim(t *testing.T) {
	d := newDriver(t, Options{})
	h := mustCreate(t, d, sh(trapScript))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if st, err := d.Start(ctxT(t), h); err != nil || !st.Running {
				t.Errorf("start: %+v, %v", st, err)
			}
		})
	}
	wg.Wait()
	eventually(t, "the trap", func() bool { return len(readLogs(t, d, h, false)) > 0 })
	stopAdopted(t, d, h, 7)
}

func TestShimThatDiesEarly(t *testing.T) {
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false program")
	}
	// An hour's poll interval: the shim's exit (its ready pipe closing,
	// then its reaping) is what Start hears.
	d := newDriver(t, Options{ShimPath: falseBin, PollInterval: time.Hour})
	h := mustCreate(t, d, driver.Spec{Command: []string{"true"}})
	st, err := d.Start(ctxT(t), h)
	if !errors.Is(err, driver.ErrCannotStart) || !strings.Contains(err.Error(), "the shim exited before starting the workload") {
		t.Fatalf("start with a broken shim: %v", err)
	}
	if !st.Exited || st.ExitCode != 128 {
		t.Fatalf("status %+v", st)
	}
	if _, err := New(Options{StateDir: t.TempDir(), ShimPath: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Fatal("New accepted a missing shim")
	}
}
