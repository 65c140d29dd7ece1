package docker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"github.com/moby/moby/client"
)

func TestExitCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--exit-code", "0"}, 0},
		{[]string{"--exit-code", "3"}, 3},
		{[]string{"--exit-code", "42", "--exit-after", "1s"}, 42},
	} {
		h, st := e.run(e.spec(c.args...))
		if st.StartedAt.IsZero() {
			t.Errorf("%v: start status %+v has no start time", c.args, st)
		}
		fin := e.wait(h)
		if !fin.Exited || fin.Running || fin.ExitCode != c.code {
			t.Errorf("%v: final status %+v, want exit %d", c.args, fin, c.code)
		}
		if fin.FinishedAt.Before(fin.StartedAt) || fin.FinishedAt.IsZero() {
			t.Errorf("%v: started %v finished %v", c.args, fin.StartedAt, fin.FinishedAt)
		}
		if again := e.wait(h); again.ExitCode != c.code {
			t.Errorf("%v: second wait %+v", c.args, again)
		}
	}
}

// TestWaitSurvivesCancel abandons a Wait, then waits again from a new
// driver (an agent restarted) and still gets the exit code.
func TestWaitSurvivesCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.run(e.spec("--exit-code", "5", "--exit-after", "2s"))
	ctx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
	_, err := e.d.Wait(ctx, h)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled wait: %v", err)
	}
	if st, err := e.d.Inspect(e.ctx, h); err != nil || !st.Running {
		t.Fatalf("after the abandoned wait: %+v %v (the container must keep running)", st, err)
	}
	time.Sleep(2500 * time.Millisecond) // it exits while nobody waits
	restarted := newDriver(t, e.ctx, "")
	st, err := restarted.Wait(e.ctx, driver.Handle{ID: h.ID})
	if err != nil || !st.Exited || st.ExitCode != 5 {
		t.Fatalf("wait after restart: %+v %v", st, err)
	}
}

func TestWaitOnCreatedContainerBlocksUntilItRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.create(e.spec("--exit-code", "9"))
	done := make(chan driver.Status, 1)
	go func() {
		st, _ := e.d.Wait(e.ctx, h)
		done <- st
	}()
	select {
	case st := <-done:
		t.Fatalf("wait returned before start: %+v", st)
	case <-time.After(500 * time.Millisecond):
	}
	if _, err := e.d.Start(e.ctx, h); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-done:
		if st.ExitCode != 9 || !st.Exited {
			t.Fatalf("%+v", st)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wait did not return")
	}
}

func TestStopDrains(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.run(e.spec("--drain", "1s"))
	waitRunning(t, e, h)
	start := time.Now()
	if err := e.d.Stop(e.ctx, h, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	st := e.wait(h)
	if st.ExitCode != 0 || !st.Exited {
		t.Errorf("after a drained stop: %+v", st)
	}
	if took < time.Second || took > 15*time.Second {
		t.Errorf("stop took %v; the app drains for 1s and the timeout is 20s", took)
	}
	if err := e.d.Stop(e.ctx, h, time.Second); err != nil {
		t.Errorf("stopping an exited container: %v", err)
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.run(e.spec("--ignore-sigterm"))
	waitRunning(t, e, h)
	start := time.Now()
	if err := e.d.Stop(e.ctx, h, 1500*time.Millisecond); err != nil { // rounds up to 2s
		t.Fatal(err)
	}
	took := time.Since(start)
	st, err := e.d.Inspect(e.ctx, h)
	if err != nil || st.Running || !st.Exited || st.ExitCode != 137 {
		t.Errorf("after stop: %+v %v; want exited 137", st, err)
	}
	if took < 2*time.Second || took > 8*time.Second {
		t.Errorf("SIGKILL after %v; the timeout was 2s (the engine's default is 10s)", took)
	}
	if st := e.wait(h); st.ExitCode != 137 {
		t.Errorf("wait: %+v", st)
	}
	logs := readLogs(t, e, h, false)
	if !strings.Contains(logs, "ignoring SIGTERM") {
		t.Errorf("the app never saw SIGTERM; logs:\n%s", logs)
	}
}

// TestContainersOutliveTheAgent runs an "agent" process that creates and
// starts a container and exits; the container keeps running, and a new
// driver finds it.
func TestContainersOutliveTheAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := e.spec()
	js, _ := jsonMarshal(spec)
	out, err := runSelf(e.ctx, agentEnv+"="+js)
	if err != nil {
		t.Fatalf("agent process: %v\n%s", err, out)
	}
	id := strings.TrimSpace(out)
	e.removeAtEnd(id)
	time.Sleep(500 * time.Millisecond)
	d := newDriver(t, e.ctx, "")
	st, err := d.Inspect(e.ctx, driver.Handle{ID: id})
	if err != nil || !st.Running {
		t.Fatalf("after the agent exited: %+v %v", st, err)
	}
	list, err := d.List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range list {
		if h.ID == id {
			found = true
			if h.Name != spec.Name || h.Labels[driver.LabelTaskARN] != spec.Labels[driver.LabelTaskARN] || h.Labels[driver.LabelManaged] != "true" {
				t.Errorf("listed %+v", h)
			}
		}
	}
	if !found {
		t.Errorf("List after restart lacks %s", id)
	}
	raw, err := e.cli.ContainerInspect(e.ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hc := raw.Container.HostConfig; hc.AutoRemove || !hc.RestartPolicy.IsNone() {
		t.Errorf("auto-remove %v, restart policy %q", hc.AutoRemove, hc.RestartPolicy.Name)
	}
}

func TestListAndRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	running, _ := e.run(e.spec())
	exited, _ := e.run(e.spec("--exit-code", "0"))
	e.wait(exited)
	created := e.create(e.spec())

	list, err := newDriver(t, e.ctx, "").List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]driver.Handle{}
	for _, h := range list {
		ids[h.ID] = h
	}
	for _, h := range []driver.Handle{running, exited, created} {
		got, ok := ids[h.ID]
		if !ok {
			t.Errorf("List lacks %s", h.Name)
			continue
		}
		if got.Name != h.Name || got.Labels[driver.LabelContainerName] != "app" {
			t.Errorf("listed %+v, created %+v", got, h)
		}
	}

	if err := e.d.Remove(e.ctx, running); err == nil {
		t.Error("removed a running container")
	}
	if err := e.d.Stop(e.ctx, running, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, h := range []driver.Handle{running, exited, created} {
		if err := e.d.Remove(e.ctx, h); err != nil {
			t.Errorf("remove %s: %v", h.Name, err)
		}
		if _, err := e.d.Inspect(e.ctx, h); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("inspect after remove: %v, want ErrNotFound", err)
		}
		if err := e.d.Remove(e.ctx, h); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("second remove: %v, want ErrNotFound", err)
		}
	}
	for _, call := range []func() error{
		func() error { _, err := e.d.Wait(e.ctx, running); return err },
		func() error { return e.d.Stop(e.ctx, running, time.Second) },
		func() error { _, err := e.d.Start(e.ctx, running); return err },
		func() error { _, err := e.d.Logs(e.ctx, running, false); return err },
		func() error { _, err := e.d.Exec(e.ctx, running, []string{"/x"}, time.Second); return err },
	} {
		if err := call(); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("on a removed container: %v, want ErrNotFound", err)
		}
	}
}

func TestCreateAndStartErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := e.spec()
	spec.Image = "berth-no-such-image:" + randomHex(4)
	_, err := e.d.Create(e.ctx, spec)
	if !errors.Is(err, driver.ErrCannotCreate) || !strings.HasPrefix(err.Error(), "CannotCreateContainerError: Error response from daemon: ") {
		t.Errorf("create with a missing image: %v", err)
	}

	spec = e.spec()
	spec.EntryPoint = []string{"/no/such/binary"}
	h := e.create(spec)
	_, err = e.d.Start(e.ctx, h)
	if !errors.Is(err, driver.ErrCannotStart) || !strings.HasPrefix(err.Error(), "CannotStartContainerError: Error response from daemon: ") {
		t.Errorf("start with a missing entrypoint: %v", err)
	}
	st, err := e.d.Wait(e.ctx, h)
	if err != nil || !st.Exited || st.ExitCode == 0 || st.Error == "" {
		t.Errorf("status after a failed start: %+v %v", st, err)
	}

	spec = e.spec()
	spec.Name = "berth-test-" + randomHex(4)
	e.create(spec)
	if _, err := e.d.Create(e.ctx, spec); !errors.Is(err, driver.ErrCannotCreate) {
		t.Errorf("create with a name in use: %v", err)
	}
}

func waitRunning(t *testing.T, e *env, h driver.Handle) {
	t.Helper()
	st, err := e.d.Inspect(e.ctx, h)
	if err != nil || !st.Running {
		t.Fatalf("not running: %+v %v", st, err)
	}
	// The app handles SIGTERM once it has printed that it listens.
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(readLogs(t, e, h, false), "listening on") {
		if time.Now().After(deadline) {
			t.Fatal("the app never started listening")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ driver.Driver = (*docker.Driver)(nil)
