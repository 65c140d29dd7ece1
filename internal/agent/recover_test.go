package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/fakedriver"
)

// After a restart the agent adopts a running task: same container, no
// pull, create or start.
func TestRecover_AdoptsRunningTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		ta := h.start()
		task := app(10, "srv")
		h.srv.run(task)
		ta.settle()
		id := h.containersOf(task.TaskArn)[0].Handle.ID
		ta.stop()
		before := h.calls(fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart, fakedriver.OpStop)
		adopted := h.logs.count("adopted task")

		ta = h.start()
		if n := h.calls(fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart, fakedriver.OpStop); n != before {
			t.Errorf("the restarted agent made %d pull, create, start or stop calls", n-before)
		}
		cs := h.containersOf(task.TaskArn)
		if len(cs) != 1 || cs[0].Handle.ID != id || !cs[0].Status.Running {
			t.Fatalf("containers after the restart %+v", cs)
		}
		if n := h.logs.count("adopted task") - adopted; n != 1 {
			t.Errorf("logged %d adoptions", n)
		}
		if s, _ := ta.a.TaskStatus(task.TaskArn); s != "RUNNING" || h.srv.last(task.TaskArn) != "RUNNING" {
			t.Errorf("agent %q, server %q", s, h.srv.last(task.TaskArn))
		}
		// It still watches the container.
		if err := h.rt.Exit(id, 4); err != nil {
			t.Fatal(err)
		}
		ta.settle()
		if rep := h.srv.lastReport(task.TaskArn); aws.ToString(rep.Status) != "STOPPED" || aws.ToInt32(rep.Containers[0].ExitCode) != 4 {
			t.Errorf("after the exit: %s", reportString(rep))
		}
	})
}

// A task that stopped and whose STOPPED report the server has gets no
// runner after a restart: nothing is pulled or created, it is not logged
// as adopted, and its clean-up comes at the deadline its record holds.
func TestRecover_StoppedTaskCleanedUpAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskCleanupWait = time.Hour
		h.rt.SetProgram("job", fakedriver.Program{ExitAfter: time.Minute})
		ta := h.start()
		task := app(11, "job")
		h.srv.run(task)
		time.Sleep(time.Minute + time.Second)
		ta.settle()
		rec, _ := h.record(task.TaskArn)
		if rec.StoppedAt == nil || rec.Reported != "STOPPED" {
			t.Fatalf("record %+v", rec)
		}
		deadline := rec.StoppedAt.Add(time.Hour)
		ta.stop()
		time.Sleep(20 * time.Minute) // the agent is away
		before := h.calls(fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart)
		adopted := h.logs.count("adopted task")

		ta = h.start()
		if n := h.calls(fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart); n != before {
			t.Errorf("%d pull, create or start calls for a stopped task", n-before)
		}
		if n := h.logs.count("adopted task") - adopted; n != 0 {
			t.Errorf("a stopped task was logged as adopted (%d)", n)
		}
		if n := h.logs.count("stopped tasks wait for their clean-up"); n != 1 {
			t.Errorf("%d summary lines", n)
		}
		if s, ok := ta.a.TaskStatus(task.TaskArn); s != "STOPPED" || !ok {
			t.Errorf("TaskStatus %q %v", s, ok)
		}
		time.Sleep(time.Until(deadline) - time.Second)
		synctest.Wait()
		if len(h.containersOf(task.TaskArn)) != 1 || len(h.records()) != 1 {
			t.Fatalf("cleaned up before its deadline: %v", h.records())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if len(h.containersOf(task.TaskArn)) != 0 || len(h.records()) != 0 {
			t.Fatalf("not cleaned up at its deadline: containers %+v, records %v", h.containersOf(task.TaskArn), h.records())
		}
	})
}

// A restart past a stopped task's deadline cleans it up at once.
func TestRecover_PastDeadlineCleansUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskCleanupWait = time.Hour
		h.rt.SetProgram("job", fakedriver.Program{ExitAfter: time.Second})
		ta := h.start()
		task := app(12, "job")
		h.srv.run(task)
		time.Sleep(2 * time.Second)
		ta.settle()
		ta.stop()
		time.Sleep(2 * time.Hour)
		h.srv.setDown(true) // nothing depends on the server
		ta = h.start()
		time.Sleep(time.Second) // the clean-up's runtime calls
		synctest.Wait()
		if len(h.rt.Containers()) != 0 || len(h.records()) != 0 {
			t.Fatalf("containers %+v, records %v", h.rt.Containers(), h.records())
		}
	})
}

// A task told to stop whose agent restarts before it stopped only goes on
// stopping: its record holds the stop, so nothing is pulled or created,
// even with the server away.
func TestRecover_ToldToStopCreatesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.rt.SetLatency(fakedriver.OpPull, time.Minute)
		ta := h.start()
		task := app(13, "slow")
		h.srv.run(task)
		synctest.Wait()
		h.srv.stopTask(task.TaskArn) // while the pull goes on
		synctest.Wait()
		ta.stop() // before the pull ends
		rec, _ := h.record(task.TaskArn)
		if rec.Stopping == nil || rec.Desired != "STOPPED" || rec.StoppedAt != nil {
			t.Fatalf("record %+v", rec)
		}

		h.srv.setDown(true)
		ta = h.startAsync()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n, m := h.calls(fakedriver.OpPull), h.calls(fakedriver.OpCreate); n != 1 || m != 0 {
			t.Fatalf("%d pulls and %d creates, want the first pull only", n, m)
		}
		if s, _ := ta.a.TaskStatus(task.TaskArn); s != "STOPPED" {
			t.Errorf("TaskStatus %q", s)
		}
		h.srv.setDown(false)
		ta.settle()
		synctest.Wait()
		if rep := h.srv.lastReport(task.TaskArn); aws.ToString(rep.Status) != "STOPPED" || aws.ToString(rep.Reason) != "stopped by the test" {
			t.Errorf("report %s", reportString(rep))
		}
		if rs := h.records(); len(rs) != 0 {
			t.Errorf("records %v", rs)
		}
	})
}

// A task that stopped while its report could not be delivered is reported
// after the restart from its record, then forgotten.
func TestRecover_ReportsStoppedTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.rt.FailPull("missing", "manifest unknown")
		ta := h.start()
		task := app(14, "missing")
		h.srv.setFailReports(true)
		h.srv.run(task)
		time.Sleep(time.Minute)
		synctest.Wait()
		if s, _ := ta.a.TaskStatus(task.TaskArn); s != "STOPPED" || len(h.srv.taskReports(task.TaskArn)) != 0 {
			t.Fatalf("TaskStatus %q, %d reports", s, len(h.srv.taskReports(task.TaskArn)))
		}
		ta.stop()
		rec, _ := h.record(task.TaskArn)
		if rec.StoppedAt == nil || rec.Final == nil || rec.Reported != "" {
			t.Fatalf("record %+v", rec)
		}
		h.srv.setFailReports(false)
		adopted := h.logs.count("adopted task")
		ta = h.start()
		synctest.Wait()
		if rep := h.srv.lastReport(task.TaskArn); aws.ToString(rep.Status) != "STOPPED" ||
			aws.ToString(rep.Containers[0].Reason) == "" || h.srv.last(task.TaskArn) != "STOPPED" {
			t.Fatalf("report %s", reportString(rep))
		}
		if n := h.calls(fakedriver.OpPull); n != 1 {
			t.Errorf("%d pulls", n)
		}
		if n := h.logs.count("adopted task") - adopted; n != 1 {
			t.Errorf("%d adoptions logged for a task that still needed reporting", n)
		}
		if rs := h.records(); len(rs) != 0 {
			t.Errorf("records %v", rs)
		}
	})
}

// A task list the server wrote before it took a STOPPED report, read after
// the acknowledgement (and after the task's record is deleted), does not
// start the task again.
func TestRecover_StaleListStartsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.rt.FailPull("missing", "manifest unknown")
		ta := h.start()
		task := app(15, "missing")
		h.srv.mu.Lock()
		h.srv.lagRemoved = true
		h.srv.mu.Unlock()
		h.srv.run(task)
		ta.settle()
		synctest.Wait()
		if rs := h.records(); len(rs) != 0 || h.srv.last(task.TaskArn) != "STOPPED" {
			t.Fatalf("records %v, server %s", rs, h.srv.last(task.TaskArn))
		}
		h.srv.mu.Lock()
		h.srv.stream.send(agentproto.Message{Type: agentproto.TypeTasks, Tasks: []agentproto.Task{task}}) // the stale list
		h.srv.flushRemoved()
		h.srv.mu.Unlock()
		ta.settle()
		if n := h.calls(fakedriver.OpPull); n != 1 {
			t.Errorf("%d pulls: a stale list started the task again", n)
		}
		if rs := h.records(); len(rs) != 0 {
			t.Errorf("records %v", rs)
		}
		if _, ok := ta.a.TaskStatus(task.TaskArn); ok {
			t.Error("the agent still holds the task after the server removed it")
		}
	})
}

// oldRecord writes a task record as the agent before the record's
// lifecycle wrote it: spec, containers and reported, nothing else.
func (h *host) oldRecord(task agentproto.Task, containers map[string]string, reported string) {
	h.t.Helper()
	b, err := json.Marshal(map[string]any{"spec": task, "containers": containers, "reported": reported})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(h.dir, tasksDir), 0o700); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, tasksDir, taskFileName(task.TaskArn)), b, 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// container creates a container of task in the runtime as an agent of the
// host would, running or exited.
func (h *host) container(task agentproto.Task, name string, exitCode int, exited bool) string {
	h.t.Helper()
	ctx := h.t.Context()
	hd, err := h.rt.Create(ctx, driver.Spec{Name: name + "-" + taskID(task.TaskArn), Image: "srv", Labels: map[string]string{
		driver.LabelManaged: "true", driver.LabelTaskARN: task.TaskArn, driver.LabelContainerName: name, labelAgent: h.cfg.InstanceID}})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.rt.Start(ctx, hd); err != nil {
		h.t.Fatal(err)
	}
	if exited {
		if err := h.rt.Exit(hd.ID, exitCode); err != nil {
			h.t.Fatal(err)
		}
	}
	return hd.ID
}

// Records the previous agent wrote load and are handled: an acknowledged
// task is cleaned up from its container's exit; one not acknowledged
// starts nothing until the server lists it, and is forgotten when the
// server does not; one still running runs on.
func TestRecover_OldRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskCleanupWait = time.Hour
		acked, dead, running := app(20, "srv"), app(21, "gone-image"), app(22, "srv")
		ackedID := h.container(acked, "c0", 0, true)
		exitedAt := time.Now()
		h.oldRecord(acked, map[string]string{"c0": ackedID}, "STOPPED")
		h.oldRecord(dead, map[string]string{}, "")
		runningID := h.container(running, "c0", 0, false)
		h.oldRecord(running, map[string]string{"c0": runningID}, "")
		h.srv.run(running) // the server knows only this one
		time.Sleep(30 * time.Minute)

		ta := h.start()
		synctest.Wait()
		if n := h.calls(fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart); n != 4 { // the test's own
			t.Errorf("%d pull, create or start calls: %v", n-4, h.rt.Calls())
		}
		if _, ok := h.record(dead.TaskArn); ok {
			t.Error("the record of a task the server does not list is kept")
		}
		rec, ok := h.record(running.TaskArn)
		if !ok || rec.Format != recordFormat || rec.Desired != "RUNNING" || rec.Containers["c0"] != runningID {
			t.Errorf("record of the running task %+v", rec)
		}
		if h.srv.last(running.TaskArn) != "RUNNING" || !h.containersOf(running.TaskArn)[0].Status.Running {
			t.Errorf("the running task: %s", h.srv.last(running.TaskArn))
		}
		rec, ok = h.record(acked.TaskArn)
		if !ok || rec.StoppedAt == nil || !rec.StoppedAt.Equal(exitedAt) || rec.Format != recordFormat {
			t.Fatalf("record of the acknowledged task %+v", rec)
		}
		time.Sleep(time.Until(exitedAt.Add(time.Hour)) - time.Second)
		synctest.Wait()
		if len(h.containersOf(acked.TaskArn)) != 1 {
			t.Fatal("cleaned up before the deadline")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if len(h.containersOf(acked.TaskArn)) != 0 {
			t.Fatal("not cleaned up at the deadline")
		}
		if rs := h.records(); len(rs) != 1 {
			t.Errorf("records %v, want the running task's", rs)
		}
		ta.stop()
	})
}

// An older agent's record of a task that did not stop, with its server
// away: the agent starts nothing for it (it may be long dead) until the
// server lists it.
func TestRecover_OldRecordWaitsForServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		task := app(23, "srv")
		h.oldRecord(task, map[string]string{}, "")
		h.srv.run(task)
		h.srv.setDown(true)
		ta := h.startAsync()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := h.calls(fakedriver.OpPull, fakedriver.OpCreate); n != 0 {
			t.Fatalf("%d pulls or creates before the server listed the task", n)
		}
		h.srv.setDown(false)
		ta.settle()
		if h.srv.last(task.TaskArn) != "RUNNING" || len(h.containersOf(task.TaskArn)) != 1 {
			t.Errorf("once listed: %s, containers %+v", h.srv.last(task.TaskArn), h.containersOf(task.TaskArn))
		}
	})
}
