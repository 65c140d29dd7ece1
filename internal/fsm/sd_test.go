package fsm_test

import (
	"fmt"
	"strings"
	"testing"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

func (m *machine) run(t *testing.T, c wire.Command) string {
	t.Helper()
	b, err := wire.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return m.apply(b)
}

func sdop(n int) wire.SDOp { return wire.SDOp{OperationID: fmt.Sprintf("%032d-%08d", n, n)} }

func TestSDNamespaceRules(t *testing.T) {
	m := newMachine()
	create := func(n int, id, name, typ, creator string) string {
		return m.run(t, wire.CreateSDNamespace{Meta: at(n), SDOp: sdop(n), ID: id, ARN: "arn:" + id, Name: name, NamespaceType: typ, Vpc: "vpc-1", CreatorRequestID: creator})
	}
	if got := create(1, "ns-1", "a.local", "DNS_PRIVATE", "r1"); !strings.HasPrefix(got, "ok") {
		t.Fatal(got)
	}
	// Idempotent retry: a SUCCESS operation for the existing namespace.
	create(2, "ns-2", "a.local", "DNS_PRIVATE", "r1")
	op := m.m.Snapshot().SDOperation(sdop(2).OperationID)
	if op == nil || op.Status != "SUCCESS" || op.Targets["NAMESPACE"] != "ns-1" || m.m.Snapshot().SDNamespace("ns-2") != nil {
		t.Fatalf("retry %+v", op)
	}
	// Another private namespace of that name (any case): a FAIL operation.
	create(3, "ns-3", "A.Local.", "DNS_PRIVATE", "r3")
	op = m.m.Snapshot().SDOperation(sdop(3).OperationID)
	if op == nil || op.Status != "FAIL" || op.ErrorCode != "CANNOT_CREATE_HOSTED_ZONE" || !strings.Contains(op.ErrorMessage, "ConflictingDomainExists") {
		t.Fatalf("conflict %+v", op)
	}
	// An HTTP namespace of a taken name: NamespaceAlreadyExists with members.
	b, _ := wire.Encode(wire.CreateSDNamespace{Meta: at(4), SDOp: sdop(4), ID: "ns-4", ARN: "arn:ns-4", Name: "a.local", NamespaceType: "HTTP"})
	m.index++
	r := m.m.Apply(m.index, b)
	c, ok := r.Err.(*fsm.SDConflict)
	if !ok || c.NamespaceID != "ns-1" || c.CreatorRequestID != "r1" || c.Err.Code != "NamespaceAlreadyExists" {
		t.Fatalf("conflict %v", r.Err)
	}
	for i := 0; i < fsm.SDMaxNamespaces-1; i++ {
		if got := create(10+i, fmt.Sprintf("ns-x%d", i), fmt.Sprintf("n%d", i), "HTTP", ""); !strings.HasPrefix(got, "ok") {
			t.Fatal(got)
		}
	}
	if got := create(100, "ns-y", "last", "HTTP", ""); got != "error: ResourceLimitExceeded: The namespace limit of 50 has been reached." {
		t.Fatal(got)
	}
}

func TestSDServiceAndInstanceRules(t *testing.T) {
	m := newMachine()
	m.run(t, wire.CreateSDNamespace{Meta: at(1), SDOp: sdop(1), ID: "ns-1", ARN: "arn:ns-1", Name: "a.local", NamespaceType: "DNS_PRIVATE"})
	dns := &wire.SDDNSConfig{RoutingPolicy: "MULTIVALUE", Records: []wire.SDDNSRecord{{Type: "A", TTL: 1}}}
	if got := m.run(t, wire.CreateSDService{Meta: at(2), ID: "srv-1", ARN: "arn:srv-1", Name: "Web", NamespaceID: "ns-1", DNS: dns, CreatorRequestID: "c"}); !strings.HasPrefix(got, "ok") {
		t.Fatal(got)
	}
	if got := m.run(t, wire.CreateSDService{Meta: at(3), ID: "srv-2", ARN: "arn:srv-2", Name: "web", NamespaceID: "ns-1", DNS: dns}); !strings.HasPrefix(got, "error: ServiceAlreadyExists") {
		t.Fatal(got)
	}
	if got := m.run(t, wire.UpdateSDInstanceHealth{Meta: at(4), ServiceID: "srv-1", ID: "i", Status: "HEALTHY"}); !strings.HasPrefix(got, "error: InstanceNotFound") {
		t.Fatal(got)
	}
	m.run(t, wire.RegisterSDInstance{Meta: at(5), SDOp: sdop(5), ServiceID: "srv-1", ID: "i", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}, TaskARN: "arn:task/1"})
	if got := m.run(t, wire.UpdateSDInstanceHealth{Meta: at(6), ServiceID: "srv-1", ID: "i", Status: "HEALTHY"}); !strings.HasPrefix(got, "error: CustomHealthNotFound") {
		t.Fatal(got)
	}
	// Re-registering is an upsert that bumps the revision again.
	m.run(t, wire.RegisterSDInstance{Meta: at(7), SDOp: sdop(7), ServiceID: "srv-1", ID: "i", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2"}})
	snap := m.m.Snapshot()
	in := snap.SDInstance("srv-1", "i")
	if s := snap.SDService("srv-1"); s.Revision != 2 || in.Attributes["AWS_INSTANCE_IPV4"] != "10.0.0.2" || in.CreatedAt != at(5).Now || in.TaskARN != "" {
		t.Fatalf("service %+v instance %+v", s, in)
	}
	n := 0
	snap.SDInstancesByTask("arn:task/1", func(*state.SDInstance) bool { n++; return true })
	if n != 0 {
		t.Fatal("the task index kept a replaced registration")
	}
}

func TestSDOperationsAreCapped(t *testing.T) {
	m := newMachine()
	m.run(t, wire.CreateSDNamespace{Meta: at(1), SDOp: sdop(0), ID: "ns-1", ARN: "arn:ns-1", Name: "a", NamespaceType: "HTTP"})
	for i := 1; i <= fsm.SDMaxOperations+5; i++ {
		m.run(t, wire.UpdateSDNamespace{Meta: at(1 + i), SDOp: sdop(i), ID: "ns-1"})
	}
	snap := m.m.Snapshot()
	count := 0
	snap.SDOperations("", func(*state.SDOperation) bool { count++; return true })
	if count != fsm.SDMaxOperations || snap.SDOperation(sdop(5).OperationID) != nil || snap.SDOperation(sdop(6).OperationID) == nil {
		t.Fatalf("%d operations kept", count)
	}
}

func TestSDWatch(t *testing.T) {
	m := newMachine()
	ch := m.m.Snapshot().WatchSD()
	m.run(t, wire.CreateCluster{Meta: at(1), Name: "prod"})
	select {
	case <-ch:
		t.Fatal("WatchSD fired for a cluster")
	default:
	}
	m.run(t, wire.CreateSDNamespace{Meta: at(2), SDOp: sdop(1), ID: "ns-1", ARN: "arn:ns-1", Name: "a", NamespaceType: "HTTP"})
	select {
	case <-ch:
	default:
		t.Fatal("WatchSD did not fire")
	}
	// Paging after an ID.
	m.run(t, wire.CreateSDNamespace{Meta: at(3), SDOp: sdop(2), ID: "ns-2", ARN: "arn:ns-2", Name: "b", NamespaceType: "HTTP"})
	var ids []string
	m.m.Snapshot().SDNamespaces("ns-1", func(n *state.SDNamespace) bool { ids = append(ids, n.ID); return true })
	if strings.Join(ids, ",") != "ns-2" {
		t.Fatal(ids)
	}
}

// The control plane's registrations (no operation ID) record no operation.
func TestSDRegisterWithoutOperation(t *testing.T) {
	m := newMachine()
	m.run(t, wire.CreateSDNamespace{Meta: at(1), SDOp: sdop(1), ID: "ns-1", ARN: "arn:ns-1", Name: "a", NamespaceType: "HTTP"})
	m.run(t, wire.CreateSDService{Meta: at(2), ID: "srv-1", ARN: "arn:srv-1", Name: "web", NamespaceID: "ns-1", CustomHealth: p(int32(1))})
	got := m.run(t, wire.RegisterSDInstance{Meta: at(3), ServiceID: "srv-1", ID: "task1", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"},
		TaskARN: "arn:aws:ecs:us-east-1:123456789012:task/prod/task1", ECSServiceARN: "arn:aws:ecs:us-east-1:123456789012:service/prod/web"})
	if !strings.HasPrefix(got, "ok") {
		t.Fatal(got)
	}
	snap := m.m.Snapshot()
	count := 0
	snap.SDOperations("", func(*state.SDOperation) bool { count++; return true })
	if count != 1 {
		t.Fatalf("%d operations", count)
	}
	var found []*state.SDInstance
	snap.SDInstancesByTask("arn:aws:ecs:us-east-1:123456789012:task/prod/task1", func(i *state.SDInstance) bool { found = append(found, i); return true })
	if len(found) != 1 || found[0].CustomHealth != "UNHEALTHY" || found[0].ECSServiceARN == "" {
		t.Fatalf("%+v", found)
	}
}
