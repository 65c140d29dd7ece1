package agent

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/internal/driver/fakedriver"
)

// ops lists the operations of calls.
func ops(calls []fakedriver.Call) []fakedriver.Op {
	var out []fakedriver.Op
	for _, c := range calls {
		out = append(out, c.Op)
	}
	return out
}

func TestRunner_TaskRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		ta := h.start()
		task := app(1, "img")
		h.srv.run(task)
		ta.settle()

		want := []fakedriver.Op{fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart}
		if got := ops(h.rt.Calls(fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart, fakedriver.OpStop)); !slices.Equal(got, want) {
			t.Fatalf("runtime calls %v, want %v", got, want)
		}
		cs := h.containersOf(task.TaskArn)
		if len(cs) != 1 || !cs[0].Status.Running {
			t.Fatalf("containers %+v", cs)
		}
		rep := h.srv.lastReport(task.TaskArn)
		if h.srv.last(task.TaskArn) != "RUNNING" || aws.ToString(rep.Status) != "RUNNING" || len(rep.Containers) != 1 ||
			aws.ToString(rep.Containers[0].Status) != "RUNNING" || aws.ToString(rep.Containers[0].RuntimeId) != cs[0].Handle.ID ||
			rep.PullStartedAt == nil || rep.PullStoppedAt == nil {
			t.Fatalf("last report %+v", rep)
		}
		if s, ok := ta.a.TaskStatus(task.TaskArn); !ok || s != "RUNNING" {
			t.Errorf("TaskStatus %q %v", s, ok)
		}
		rec, ok := h.record(task.TaskArn)
		if !ok || rec.Format != recordFormat || rec.Desired != "RUNNING" || rec.Stopping != nil || rec.StoppedAt != nil ||
			rec.Containers["c0"] != cs[0].Handle.ID {
			t.Fatalf("record %+v", rec)
		}
	})
}

func TestRunner_EssentialExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskCleanupWait = time.Hour
		h.rt.SetProgram("job", fakedriver.Program{ExitAfter: time.Minute, ExitCode: 3})
		ta := h.start()
		task := app(2, "job")
		h.srv.run(task)
		ta.settle()
		if got := h.srv.last(task.TaskArn); got != "RUNNING" {
			t.Fatalf("last status %s", got)
		}
		time.Sleep(time.Minute)
		ta.settle()

		rep := h.srv.lastReport(task.TaskArn)
		c := rep.Containers[0]
		if aws.ToString(rep.Status) != "STOPPED" || aws.ToString(rep.Reason) != "Essential container in task exited" ||
			aws.ToInt32(c.ExitCode) != 3 || aws.ToString(c.Status) != "STOPPED" || rep.ExecutionStoppedAt == nil {
			t.Fatalf("last report %+v, container %+v", rep, c)
		}
		if s, _ := ta.a.TaskStatus(task.TaskArn); s != "STOPPED" {
			t.Errorf("TaskStatus %q", s)
		}
		// The record stays, acknowledged, with when the task stopped: the
		// container is kept for the clean-up wait.
		rec, ok := h.record(task.TaskArn)
		exited := h.containersOf(task.TaskArn)[0].Status.FinishedAt
		if !ok || rec.Reported != "STOPPED" || rec.StoppedAt == nil || !rec.StoppedAt.Equal(exited) || rec.Stopping == nil ||
			rec.Stopping.Code != "EssentialContainerExited" || rec.Final == nil {
			t.Fatalf("record %+v", rec)
		}
		time.Sleep(time.Until(exited.Add(time.Hour)) - time.Second)
		synctest.Wait()
		if len(h.containersOf(task.TaskArn)) != 1 || len(h.records()) != 1 {
			t.Fatalf("cleaned up before the wait: containers %+v, records %v", h.containersOf(task.TaskArn), h.records())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if cs := h.containersOf(task.TaskArn); len(cs) != 0 || len(h.records()) != 0 {
			t.Fatalf("after the clean-up wait: containers %+v, records %v", cs, h.records())
		}
		if _, ok := ta.a.TaskStatus(task.TaskArn); ok {
			t.Error("the agent still holds the cleaned-up task")
		}
	})
}

func TestRunner_PullFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.rt.FailPull("missing", "manifest unknown")
		ta := h.start()
		task := app(3, "missing")
		h.srv.run(task)
		ta.settle()
		synctest.Wait() // the clean-up that follows the acknowledgement

		rep := h.srv.lastReport(task.TaskArn)
		if aws.ToString(rep.Status) != "STOPPED" || !strings.HasPrefix(aws.ToString(rep.Reason), "CannotPullContainerError: ") ||
			!strings.Contains(aws.ToString(rep.Reason), "manifest unknown") ||
			!strings.HasPrefix(aws.ToString(rep.Containers[0].Reason), "CannotPullContainerError: ") {
			t.Fatalf("last report %+v", rep)
		}
		if n := h.calls(fakedriver.OpCreate, fakedriver.OpStart); n != 0 {
			t.Errorf("%d creates or starts after a failed pull", n)
		}
		// Nothing to clean up: the record goes as soon as the server has
		// the STOPPED report.
		if rs := h.records(); len(rs) != 0 {
			t.Errorf("records %v", rs)
		}
		if n := h.calls(fakedriver.OpPull); n != 1 {
			t.Errorf("%d pulls", n)
		}
	})
}

// A stop from the server stops the containers; the task is reported
// STOPPED with the server's reason.
func TestRunner_StopTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.rt.SetProgram("srv", fakedriver.Program{StopDelay: 500 * time.Millisecond})
		ta := h.start()
		task := app(4, "srv")
		h.srv.run(task)
		ta.settle()
		h.srv.stopTask(task.TaskArn)
		ta.settle()
		rep := h.srv.lastReport(task.TaskArn)
		if aws.ToString(rep.Status) != "STOPPED" || aws.ToString(rep.Reason) != "stopped by the test" || aws.ToInt32(rep.Containers[0].ExitCode) != 0 {
			t.Fatalf("last report %s", reportString(rep))
		}
		if n := h.calls(fakedriver.OpStop); n != 1 {
			t.Errorf("%d stops", n)
		}
	})
}

// A control-plane outage stops nothing; what happens meanwhile is reported
// once the server is back.
func TestRunner_OutageStopsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		ta := h.start()
		keep, lose := app(5, "srv"), app(6, "srv")
		h.srv.run(keep)
		h.srv.run(lose)
		ta.settle()
		loseID := h.containersOf(lose.TaskArn)[0].Handle.ID

		h.srv.setDown(true)
		time.Sleep(10 * time.Minute) // the stream is silent past its limit; reconnects fail
		if err := h.rt.Exit(loseID, 7); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if s, _ := ta.a.TaskStatus(lose.TaskArn); s != "STOPPED" {
			t.Fatalf("the agent did not see the exit during the outage: %q", s)
		}
		if n := h.calls(fakedriver.OpStop); n != 0 {
			t.Fatalf("%d stops during the outage", n)
		}
		if !h.containersOf(keep.TaskArn)[0].Status.Running {
			t.Fatal("a container stopped during the outage")
		}

		h.srv.setDown(false)
		ta.settle()
		if h.srv.last(lose.TaskArn) != "STOPPED" || aws.ToInt32(h.srv.lastReport(lose.TaskArn).Containers[0].ExitCode) != 7 {
			t.Errorf("after the outage: %+v", h.srv.lastReport(lose.TaskArn))
		}
		if h.srv.last(keep.TaskArn) != "RUNNING" || !h.containersOf(keep.TaskArn)[0].Status.Running || h.calls(fakedriver.OpCreate) != 2 {
			t.Errorf("the task that kept running: %s, %d creates", h.srv.last(keep.TaskArn), h.calls(fakedriver.OpCreate))
		}
	})
}

func reportString(r *ecs.SubmitTaskStateChangeInput) string {
	if r == nil {
		return "none"
	}
	s := fmt.Sprintf("%s reason=%q", aws.ToString(r.Status), aws.ToString(r.Reason))
	for _, c := range r.Containers {
		s += fmt.Sprintf(" [%s %s exit=%v reason=%q id=%s]", aws.ToString(c.ContainerName), aws.ToString(c.Status), c.ExitCode, aws.ToString(c.Reason), aws.ToString(c.RuntimeId))
	}
	return s
}
