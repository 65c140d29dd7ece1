package fakedriver

import (
	"errors"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestTaskCgroups(t *testing.T) {
	r := New()
	ctx := t.Context()
	if ok, _ := r.TaskLimits(); !ok {
		t.Fatal("task limits not enforced by default")
	}
	limits := driver.TaskLimits{TaskID: "t1", CPUUnits: 512, MemoryMiB: 64}
	s := spec("app", "img")
	s.Task = &limits
	h, err := r.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	s.Task.MemoryMiB = 1 // the runtime keeps its own copy
	if got := r.Containers()[0].Task; got == nil || *got != (driver.TaskLimits{TaskID: "t1", CPUUnits: 512, MemoryMiB: 64}) {
		t.Fatalf("container's task limits %+v", got)
	}
	if got := r.TaskCgroups()["t1"]; got.MemoryMiB != 64 {
		t.Fatalf("task cgroups %+v", r.TaskCgroups())
	}
	if _, err := r.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveTaskCgroup(ctx, "t1"); err == nil {
		t.Fatal("task cgroup removed with a container of the task running")
	}
	if err := r.Stop(ctx, h, time.Second); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := r.RemoveTaskCgroup(ctx, "t1"); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.TaskCgroups()) != 0 {
		t.Fatalf("left: %+v", r.TaskCgroups())
	}
	if calls := r.Calls(OpRemoveTaskCgroup); len(calls) != 3 || calls[0].ID != "t1" {
		t.Fatalf("calls %+v", calls)
	}

	bad := spec("bad", "img")
	bad.Task = &driver.TaskLimits{TaskID: "../x"}
	if _, err := r.Create(ctx, bad); !errors.Is(err, driver.ErrCannotCreate) {
		t.Fatalf("bad task ID: %v", err)
	}

	r.DisableTaskLimits("no cgroups here")
	if ok, reason := r.TaskLimits(); ok || reason != "no cgroups here" {
		t.Fatalf("disabled: %v %q", ok, reason)
	}
	s = spec("other", "img")
	s.Task = &driver.TaskLimits{TaskID: "t2", MemoryMiB: 8}
	if _, err := r.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if len(r.TaskCgroups()) != 0 || r.Containers()[1].Task == nil {
		t.Fatalf("disabled: cgroups %+v, container %+v", r.TaskCgroups(), r.Containers()[1])
	}
}
