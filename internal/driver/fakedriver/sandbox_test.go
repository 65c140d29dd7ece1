package fakedriver

import (
	"errors"
	"testing"

	"berth.dev/berth/internal/driver"
)

func TestSandboxes(t *testing.T) {
	r := New()
	ctx := t.Context()
	sb, err := r.CreateSandbox(ctx, driver.SandboxSpec{Name: "task-1", Labels: map[string]string{driver.LabelTaskARN: "arn:t1"}})
	if err != nil {
		t.Fatal(err)
	}
	if sb.ID == "" || sb.NetNSPath == "" || sb.Labels[driver.LabelSandbox] != "true" || sb.Labels[driver.LabelTaskARN] != "arn:t1" {
		t.Fatalf("sandbox %+v", sb)
	}
	if _, err := r.CreateSandbox(ctx, driver.SandboxSpec{Name: "task-1"}); !errors.Is(err, driver.ErrCannotCreate) {
		t.Errorf("second sandbox of one name: %v", err)
	}

	s := spec("app", "img")
	s.NetworkMode, s.Sandbox = driver.NetworkAWSVPC, sb.ID
	s.Ports = []driver.PortMapping{{ContainerPort: 8080}}
	h, err := r.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Start(ctx, h)
	if err != nil || len(st.Bindings) != 0 {
		t.Errorf("start in a sandbox: %+v %v; want no bindings", st, err)
	}
	for name, bad := range map[string]func(*driver.Spec){
		"unknown sandbox": func(s *driver.Spec) { s.Sandbox = "nope" },
		"no sandbox":      func(s *driver.Spec) { s.Sandbox = "" },
		"sandbox, bridge": func(s *driver.Spec) { s.NetworkMode = "bridge" },
		"hostname":        func(s *driver.Spec) { s.Hostname = "h" },
		"published port":  func(s *driver.Spec) { s.Ports = []driver.PortMapping{{ContainerPort: 80, HostPort: 8080}} },
	} {
		s := spec("bad-"+name, "img")
		s.NetworkMode, s.Sandbox = driver.NetworkAWSVPC, sb.ID
		bad(&s)
		if _, err := r.Create(ctx, s); !errors.Is(err, driver.ErrCannotCreate) {
			t.Errorf("%s: %v", name, err)
		}
	}

	list, err := r.ListSandboxes(ctx)
	if err != nil || len(list) != 1 || list[0].ID != sb.ID {
		t.Fatalf("list: %+v %v", list, err)
	}
	for range 2 { // idempotent
		if err := r.RemoveSandbox(ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := r.ListSandboxes(ctx); len(list) != 0 {
		t.Errorf("after remove: %+v", list)
	}
	if n := len(r.Calls(OpCreateSandbox, OpRemoveSandbox, OpListSandboxes)); n != 6 {
		t.Errorf("%d sandbox calls recorded, want 6", n)
	}
}
