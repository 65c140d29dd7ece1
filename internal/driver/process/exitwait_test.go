//go:build linux

package process

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestWaitExitOfAChild(t *testing.T) {
	cmd := exec.Command("sleep", "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	ref, err := refOf(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// A deadline passes while it runs.
	start := time.Now()
	exited, err := waitExit(context.Background(), ref, time.Now().Add(50*time.Millisecond))
	if err != nil || exited || time.Since(start) < 40*time.Millisecond {
		t.Fatalf("before its exit: %v, %v after %v", exited, err, time.Since(start))
	}
	// Its exit ends the wait, unreaped (a zombie) as the agent's shims are
	// until their reaper runs.
	exited, err = waitExit(context.Background(), ref, time.Time{})
	if err != nil || !exited {
		t.Fatalf("wait: %v, %v", exited, err)
	}
	if took := time.Since(start); took < 250*time.Millisecond || took > 5*time.Second {
		t.Fatalf("returned after %v for a 0.3 s process", took)
	}
	// Once exited, it returns at once.
	if exited, err := waitExit(context.Background(), ref, time.Time{}); err != nil || !exited {
		t.Fatalf("second wait: %v, %v", exited, err)
	}
	cmd.Wait()
	if exited, err := waitExit(context.Background(), ref, time.Time{}); err != nil || !exited {
		t.Fatalf("wait for a reaped process: %v, %v", exited, err)
	}
}

func TestWaitExitOfAnotherProcessesChild(t *testing.T) {
	// The shell exits at once; its sleep lives on, adopted by init (or a
	// subreaper): not a child of this process, like an adopted shim.
	out, err := exec.Command("sh", "-c", "sleep 0.4 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := refOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	exited, err := waitExit(ctxT(t), ref, time.Time{})
	if err != nil || !exited {
		t.Fatalf("wait: %v, %v", exited, err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Fatalf("returned after %v, before the process exited", took)
	}
	if ref.alive() {
		t.Fatal("waitExit returned while the process runs")
	}
}

func TestWaitExitCancelled(t *testing.T) {
	cmd := liveSleep(t)
	ref, err := refOf(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := waitExit(ctx, ref, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	if _, err := waitExit(ctx, ref, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a cancelled context: %v", err)
	}
}

func TestWaitExitPidReuse(t *testing.T) {
	// A record of another process with the same pid (another start time):
	// the one recorded is gone, whatever runs under its pid now.
	cmd := liveSleep(t)
	ref, err := refOf(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	ref.StartTicks--
	start := time.Now()
	if exited, err := waitExit(ctxT(t), ref, time.Time{}); err != nil || !exited || time.Since(start) > time.Second {
		t.Fatalf("wait for a reused pid: %v, %v after %v", exited, err, time.Since(start))
	}
	if exited, err := waitExit(ctxT(t), procRef{Pid: 0}, time.Time{}); err != nil || !exited {
		t.Fatalf("wait for no pid: %v, %v", exited, err)
	}
}

// TestEventDrivenLifecycle runs containers on a driver that would poll the
// state directory once an hour: Start, Wait and Stop must hear of changes
// from the shim's pipe and the processes' pidfds, for shims it started and
// for shims it adopted.
func TestEventDrivenLifecycle(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, Options{StateDir: stateDir, PollInterval: time.Hour})
	within := func(what string, limit time.Duration, f func()) {
		t.Helper()
		start := time.Now()
		f()
		if took := time.Since(start); took > limit {
			t.Fatalf("%s took %v", what, took)
		}
	}
	h1, h2 := mustCreate(t, d, sh("sleep 0.3; exit 3")), mustCreate(t, d, sh(trapScript))
	within("start", 5*time.Second, func() {
		if st, err := d.Start(ctxT(t), h1); err != nil || !st.Running {
			t.Fatalf("start: %+v, %v", st, err)
		}
		if _, err := d.Start(ctxT(t), h2); err != nil {
			t.Fatal(err)
		}
	})
	within("wait", 5*time.Second, func() {
		if st := mustWait(t, d, h1); st.ExitCode != 3 {
			t.Fatalf("exit code %d", st.ExitCode)
		}
	})
	failed := mustCreate(t, d, driver.Spec{Command: []string{"berth-no-such-program"}})
	within("failed start", 5*time.Second, func() {
		if _, err := d.Start(ctxT(t), failed); !errors.Is(err, driver.ErrCannotStart) {
			t.Fatalf("start: %v", err)
		}
	})
	// Another driver adopts the running container: its shim is not its
	// child.
	eventually(t, "the trap", func() bool { return len(readLogs(t, d, h2, false)) > 0 })
	b := newDriver(t, Options{StateDir: stateDir, PollInterval: time.Hour})
	waited := make(chan driver.Status, 1)
	go func() {
		st, _ := b.Wait(ctxT(t), h2)
		waited <- st
	}()
	within("stop", 5*time.Second, func() {
		if err := b.Stop(ctxT(t), h2, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	})
	select {
	case st := <-waited:
		if st.ExitCode != 7 {
			t.Fatalf("adopted wait: %+v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the adopting driver's Wait did not return")
	}
	// A stop that has to kill: SIGKILL at the timeout, not at the next poll.
	h3, _ := mustStart(t, d, sh(`trap '' TERM; echo up; while :; do sleep 0.05; done`))
	eventually(t, "the trap", func() bool { return len(readLogs(t, d, h3, false)) > 0 })
	within("stop with kill", 5*time.Second, func() {
		if err := d.Stop(ctxT(t), h3, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	})
	if st := mustWait(t, d, h3); st.ExitCode != 137 {
		t.Fatalf("killed: exit code %d", st.ExitCode)
	}
}
