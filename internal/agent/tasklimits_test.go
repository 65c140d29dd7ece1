package agent

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/fakedriver"
	"berth.dev/berth/internal/shape"
)

// The task definition's cpu and memory, or RunTask's overrides of them,
// reach every container's spec as the task's limits.
func TestTaskLimitsInSpecs(t *testing.T) {
	task := app(1, "img", "img")
	id := taskID(task.TaskArn)
	for _, c := range []struct {
		name             string
		cpu, mem         *string
		ovCPU, ovMem     *string
		want             *driver.TaskLimits
		containerMemMiB  int32
		wantContainerMem int64
	}{
		{name: "none"},
		{name: "definition", cpu: ptr("512"), mem: ptr("1024"), want: &driver.TaskLimits{TaskID: id, CPUUnits: 512, MemoryMiB: 1024}},
		{name: "cpu only", cpu: ptr("256"), want: &driver.TaskLimits{TaskID: id, CPUUnits: 256}},
		{name: "overrides", cpu: ptr("512"), mem: ptr("1024"), ovCPU: ptr("2048"), ovMem: ptr("4096"),
			want: &driver.TaskLimits{TaskID: id, CPUUnits: 2048, MemoryMiB: 4096}},
		{name: "memory override only", cpu: ptr("512"), ovMem: ptr("64"), want: &driver.TaskLimits{TaskID: id, CPUUnits: 512, MemoryMiB: 64}},
		{name: "overrides without definition", ovCPU: ptr("128"), want: &driver.TaskLimits{TaskID: id, CPUUnits: 128}},
		{name: "container limit kept", mem: ptr("64"), containerMemMiB: 256, want: &driver.TaskLimits{TaskID: id, MemoryMiB: 64}, wantContainerMem: 256},
		{name: "not a number", cpu: ptr("1 vCPU"), mem: ptr("-1")},
	} {
		task := app(1, "img", "img")
		task.Definition.Cpu, task.Definition.Memory = c.cpu, c.mem
		if c.containerMemMiB > 0 {
			task.Definition.ContainerDefinitions[1].Memory = ptr(c.containerMemMiB)
		}
		if c.ovCPU != nil || c.ovMem != nil {
			task.Overrides = &shape.TaskOverride{Cpu: c.ovCPU, Memory: c.ovMem}
		}
		a := &Agent{cfg: Config{DataDir: t.TempDir()}}
		for i := range 2 {
			s, err := a.driverSpec(&task, i)
			if err != nil {
				t.Fatal(err)
			}
			if (s.Task == nil) != (c.want == nil) || s.Task != nil && *s.Task != *c.want {
				t.Errorf("%s: container %d: task limits %+v, want %+v", c.name, i, s.Task, c.want)
			}
			if i == 1 && s.MemoryMiB != c.wantContainerMem {
				t.Errorf("%s: container memory %d, want %d", c.name, s.MemoryMiB, c.wantContainerMem)
			}
		}
	}
}

// ecs.capability.task-cpu-mem-limit is advertised only with a runtime
// that enforces task limits.
func TestTaskLimitsCapability(t *testing.T) {
	rt := fakedriver.New()
	has := func(d driver.Driver) bool {
		return slices.Contains((&Agent{cfg: Config{Driver: d}}).capabilities(), capTaskLimits)
	}
	if !has(rt) {
		t.Error("not advertised with a runtime that enforces task limits")
	}
	if has(struct{ driver.Driver }{rt}) {
		t.Error("advertised with a runtime without task cgroups")
	}
	rt.DisableTaskLimits("cgroup v1")
	if has(rt) {
		t.Error("advertised with a runtime that says it does not enforce them")
	}
}

// A task's containers are created with its limits, and its cgroup is
// removed after its last container, by the agent that cleans the task up
// even when another one ran it.
func TestTaskCgroupRemovedAfterTheContainers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskCleanupWait = 10 * time.Minute
		h.rt.SetProgram("short", fakedriver.Program{ExitAfter: time.Minute})
		h.rt.SetProgram("long", fakedriver.Program{})
		ta := h.start()
		task := app(7, "short", "long")
		task.Definition.ContainerDefinitions[1].Essential = ptr(false)
		task.Definition.Cpu, task.Definition.Memory = ptr("512"), ptr("256")
		task.Overrides = &shape.TaskOverride{Memory: ptr("128")}
		id := taskID(task.TaskArn)
		want := driver.TaskLimits{TaskID: id, CPUUnits: 512, MemoryMiB: 128}
		h.srv.run(task)
		time.Sleep(10 * time.Second)
		ta.settle()
		cs := h.containersOf(task.TaskArn)
		if len(cs) != 2 {
			t.Fatalf("%d containers", len(cs))
		}
		for _, c := range cs {
			if c.Task == nil || *c.Task != want {
				t.Errorf("container %s: task limits %+v, want %+v", c.Handle.Name, c.Task, want)
			}
		}
		if got, ok := h.rt.TaskCgroups()[id]; !ok || got != want {
			t.Fatalf("task cgroup %+v %v", got, ok)
		}
		time.Sleep(2 * time.Minute) // the essential container exits; the task stops
		ta.settle()
		if h.srv.last(task.TaskArn) != "STOPPED" {
			t.Fatalf("task %s", h.srv.last(task.TaskArn))
		}
		if n := h.calls(fakedriver.OpRemoveTaskCgroup); n != 0 {
			t.Fatalf("%d task cgroup removals before the clean-up", n)
		}
		ta.stop()
		ta = h.start()
		time.Sleep(11 * time.Minute)
		synctest.Wait()
		if len(h.rt.Containers()) != 0 || len(h.rt.TaskCgroups()) != 0 {
			t.Fatalf("left: containers %+v, task cgroups %+v", h.rt.Containers(), h.rt.TaskCgroups())
		}
		calls := h.rt.Calls(fakedriver.OpRemove, fakedriver.OpRemoveTaskCgroup)
		if n := len(calls); n != 3 || calls[2].Op != fakedriver.OpRemoveTaskCgroup || calls[2].ID != id {
			t.Fatalf("calls %+v, want two removes then the task cgroup's", calls)
		}
		if rs := h.records(); len(rs) != 0 {
			t.Fatalf("records left: %q", rs)
		}
	})
}

// At start, the agent removes the containers of a task it has no record
// of (a crash right after their creation), then the task's cgroup.
func TestStrayTaskCgroupRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.rt.SetProgram("long", fakedriver.Program{})
		arn := app(9, "").TaskArn
		limits := &driver.TaskLimits{TaskID: taskID(arn), MemoryMiB: 64}
		_, err := h.rt.Create(t.Context(), driver.Spec{Name: "stray", Image: "long", Task: limits, Labels: map[string]string{
			driver.LabelManaged: "true", driver.LabelTaskARN: arn, labelAgent: h.cfg.InstanceID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.rt.TaskCgroups()) != 1 {
			t.Fatal("no task cgroup")
		}
		h.start()
		if len(h.rt.Containers()) != 0 || len(h.rt.TaskCgroups()) != 0 {
			t.Fatalf("left: containers %+v, task cgroups %+v", h.rt.Containers(), h.rt.TaskCgroups())
		}
	})
}
