package agent

import (
	"testing"
	"testing/synctest"
	"time"

	"berth.dev/berth/internal/driver/fakedriver"
)

// Over many task lifetimes, with an agent restart halfway, the agent keeps
// records only of what still runs or still needs cleaning up: once the last
// clean-up is past, the tasks dir is empty and the runtime holds nothing.
func TestLifecycle_RecordsDoNotGrow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const tasks = 200
		h := newHost(t)
		h.cfg.TaskCleanupWait = 10 * time.Minute
		h.rt.SetProgram("short", fakedriver.Program{ExitAfter: time.Second, ExitCode: 0})
		h.rt.FailPull("broken", "manifest unknown")
		ta := h.start()
		for n := range tasks {
			image := "short"
			if n%10 == 9 {
				image = "broken" // a tenth never gets a container
			}
			h.srv.run(app(1000+n, image))
			if n%20 == 19 {
				time.Sleep(30 * time.Second)
				ta.settle()
			}
			if n == tasks/2 {
				ta.stop()
				ta = h.start()
			}
		}
		time.Sleep(time.Minute)
		ta.settle()
		for n := range tasks {
			if arn := app(1000+n, "").TaskArn; h.srv.last(arn) != "STOPPED" {
				t.Fatalf("task %d: server has %s", n, h.srv.last(arn))
			}
		}
		if got := len(h.records()); got == 0 || got > tasks {
			t.Fatalf("%d records while clean-ups are pending", got)
		}
		time.Sleep(11 * time.Minute)
		synctest.Wait()
		if rs := h.records(); len(rs) != 0 {
			t.Errorf("%d records left, e.g. %s", len(rs), rs[0])
		}
		if cs := h.rt.Containers(); len(cs) != 0 {
			t.Errorf("%d containers left", len(cs))
		}
		if n := h.calls(fakedriver.OpCreate); n != tasks*9/10 {
			t.Errorf("%d creates for %d tasks that could run", n, tasks*9/10)
		}
		ta.a.mu.Lock()
		runners := len(ta.a.runners)
		ta.a.mu.Unlock()
		ta.a.finished.mu.Lock()
		finished := len(ta.a.finished.tasks)
		ta.a.finished.mu.Unlock()
		if runners != 0 || finished != 0 {
			t.Errorf("the agent holds %d runners and %d finished tasks", runners, finished)
		}
	})
}
