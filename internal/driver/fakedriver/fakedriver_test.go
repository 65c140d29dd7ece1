package fakedriver

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"berth.dev/berth/internal/driver"
)

func spec(name, image string) driver.Spec {
	return driver.Spec{Name: name, Image: image, Labels: map[string]string{driver.LabelManaged: "true", "k": name}}
}

func mustCreateStart(t *testing.T, r *Runtime, name, image string) driver.Handle {
	t.Helper()
	h, err := r.Create(t.Context(), spec(name, image))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestScriptedExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New()
		r.SetProgram("job", Program{ExitAfter: 5 * time.Second, ExitCode: 3})
		start := time.Now()
		h := mustCreateStart(t, r, "a", "job")
		st, err := r.Wait(t.Context(), h)
		if err != nil || !st.Exited || st.ExitCode != 3 || st.Running {
			t.Fatalf("wait: %+v %v", st, err)
		}
		if got := st.FinishedAt.Sub(start); got != 5*time.Second {
			t.Errorf("exited after %v, want 5s", got)
		}
		if st.StartedAt.After(st.FinishedAt) {
			t.Errorf("started %v after it finished %v", st.StartedAt, st.FinishedAt)
		}
	})
}

func TestExitOnDemand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New()
		h := mustCreateStart(t, r, "a", "server")
		done := make(chan driver.Status)
		go func() {
			st, _ := r.Wait(context.Background(), h)
			done <- st
		}()
		time.Sleep(time.Hour)
		synctest.Wait()
		select {
		case st := <-done:
			t.Fatalf("exited on its own: %+v", st)
		default:
		}
		if err := r.Exit(h.ID, 9); err != nil {
			t.Fatal(err)
		}
		if st := <-done; st.ExitCode != 9 {
			t.Fatalf("exit code %d, want 9", st.ExitCode)
		}
		if err := r.Exit(h.ID, 1); err == nil {
			t.Error("an exited container exited again")
		}
	})
}

func TestStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New()
		r.SetProgram("polite", Program{StopDelay: time.Second, StopCode: 0})
		r.SetProgram("stubborn", Program{IgnoreTerm: true})
		r.SetProgram("slow", Program{StopDelay: time.Minute})
		for _, c := range []struct {
			image string
			code  int
			took  time.Duration
		}{{"polite", 0, time.Second}, {"stubborn", 137, 10 * time.Second}, {"slow", 137, 10 * time.Second}} {
			h := mustCreateStart(t, r, c.image, c.image)
			start := time.Now()
			if err := r.Stop(t.Context(), h, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			st, _ := r.Inspect(t.Context(), h)
			if !st.Exited || st.ExitCode != c.code || time.Since(start) != c.took {
				t.Errorf("%s: %+v after %v, want exit %d after %v", c.image, st, time.Since(start), c.code, c.took)
			}
			// Stopping an exited container is a no-op.
			if err := r.Stop(t.Context(), h, time.Second); err != nil {
				t.Errorf("%s: second stop: %v", c.image, err)
			}
		}
		if err := r.Stop(t.Context(), driver.Handle{ID: "nope"}, time.Second); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("stop of an unknown container: %v", err)
		}
	})
}

func TestRemoveAndNotFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New()
		h := mustCreateStart(t, r, "a", "server")
		if err := r.Remove(t.Context(), h); err == nil {
			t.Fatal("removed a running container")
		}
		if err := r.Stop(t.Context(), h, 0); err != nil {
			t.Fatal(err)
		}
		if err := r.Remove(t.Context(), h); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"remove":  r.Remove(t.Context(), h),
			"inspect": second(r.Inspect(t.Context(), h)),
			"wait":    second(r.Wait(t.Context(), h)),
			"start":   second(r.Start(t.Context(), h)),
		} {
			if !errors.Is(err, driver.ErrNotFound) {
				t.Errorf("%s of a removed container: %v", name, err)
			}
		}
		// The name is free again.
		if _, err := r.Create(t.Context(), spec("a", "server")); err != nil {
			t.Errorf("create with a removed container's name: %v", err)
		}
		if _, err := r.Create(t.Context(), spec("a", "server")); !errors.Is(err, driver.ErrCannotCreate) {
			t.Errorf("create with a name in use: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestPullAndStartFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New()
		r.FailPull("missing", "manifest unknown")
		if err := r.Pull(t.Context(), "missing", driver.PullDefault); !errors.Is(err, driver.ErrCannotPull) {
			t.Errorf("pull: %v", err)
		}
		if err := r.Pull(t.Context(), "present", driver.PullAlways); err != nil {
			t.Errorf("pull: %v", err)
		}
		r.FailPull("missing", "")
		if err := r.Pull(t.Context(), "missing", driver.PullDefault); err != nil {
			t.Errorf("pull after the failure was cleared: %v", err)
		}
		r.SetProgram("broken", Program{StartError: "exec: not found"})
		h, _ := r.Create(t.Context(), spec("b", "broken"))
		if _, err := r.Start(t.Context(), h); !errors.Is(err, driver.ErrCannotStart) {
			t.Errorf("start: %v", err)
		}
		if st, _ := r.Inspect(t.Context(), h); st.Running || st.Exited {
			t.Errorf("a container that failed to start: %+v", st)
		}
	})
}

func TestLatencyAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New()
		r.SetLatency(OpPull, time.Minute)
		start := time.Now()
		if err := r.Pull(t.Context(), "img", driver.PullDefault); err != nil || time.Since(start) != time.Minute {
			t.Fatalf("pull: %v after %v", err, time.Since(start))
		}
		r.SetLatency(OpCreate, time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := r.Create(ctx, spec("a", "img")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("create past its context: %v", err)
		}
		if n := len(r.Containers()); n != 0 {
			t.Fatalf("an abandoned create made %d containers", n)
		}
		if got := len(r.Calls(OpPull, OpCreate)); got != 2 {
			t.Errorf("%d calls recorded, want 2", got)
		}
	})
}

// The containers outlive whoever uses the runtime: a second user lists
// them, running or exited, with their labels.
func TestListSurvivesUsers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New()
		r.SetProgram("job", Program{ExitAfter: time.Second, Output: []string{"hello"}})
		ctx, cancel := context.WithCancel(t.Context())
		a := mustCreateStart(t, r, "a", "job")
		b := mustCreateStart(t, r, "b", "server")
		if _, err := r.Create(ctx, driver.Spec{Name: "unmanaged", Image: "x"}); err != nil {
			t.Fatal(err)
		}
		go r.Wait(ctx, b) // the first user's wait, abandoned
		cancel()
		time.Sleep(2 * time.Second)
		hs, err := r.List(t.Context())
		if err != nil || len(hs) != 2 || hs[0].ID != a.ID || hs[1].ID != b.ID || hs[1].Labels["k"] != "b" {
			t.Fatalf("list: %+v %v", hs, err)
		}
		if st, _ := r.Inspect(t.Context(), b); !st.Running {
			t.Error("a container stopped with its user's context")
		}
		ls, err := r.Logs(t.Context(), a, true)
		if err != nil {
			t.Fatal(err)
		}
		if l, err := ls.Next(); err != nil || string(l.Text) != "hello" {
			t.Errorf("log line %q %v", l.Text, err)
		}
		if _, err := ls.Next(); err != io.EOF {
			t.Errorf("end of the log: %v", err)
		}
	})
}
