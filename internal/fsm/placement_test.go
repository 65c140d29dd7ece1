package fsm

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"berth.dev/berth/internal/scheduler"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func sptr(s string) *string { return &s }

// placementState holds a cluster of n instances (some DRAINING, some
// INACTIVE, some with custom attributes and ports) with tasks on them,
// some of which hold no resources (desired STOPPED).
func placementState(t testing.TB, st *state.Store, n int) {
	t.Helper()
	txn := st.Txn()
	for i := range n {
		id := fmt.Sprintf("inst-%04d", i)
		status := []string{"ACTIVE", "ACTIVE", "DRAINING", "INACTIVE"}[i%4]
		putInstance(t, txn, id, status, fmt.Sprintf("us-east-1%c", 'a'+i%3), 0)
		for k := range i % 3 {
			desired := "RUNNING"
			if k == 1 {
				desired = "STOPPED"
			}
			if err := txn.Put(state.TableTasks, &state.Task{ID: fmt.Sprintf("%s-t%d", id, k), Cluster: "c", InstanceID: id,
				Reserved: state.Reservation{CPU: 128, Memory: 256, TCPPorts: []int{8000 + k}},
				Shape:    &shape.Task{Group: sptr(fmt.Sprintf("family:f%d", k)), DesiredStatus: sptr(desired)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	txn.Commit()
}

func putInstance(t testing.TB, txn *state.Txn, id, status, az string, version int64) {
	t.Helper()
	ci := &shape.ContainerInstance{
		ContainerInstanceArn: sptr("arn:aws:ecs:us-east-1:000000000000:container-instance/c/" + id),
		Status:               sptr(status), AgentConnected: status != "INACTIVE", Version: version,
		Attributes: []shape.Attribute{{Name: sptr("ecs.availability-zone"), Value: sptr(az)}, {Name: sptr("stack"), Value: sptr("blue")}},
		RegisteredResources: []shape.Resource{
			{Name: sptr("CPU"), IntegerValue: 2048}, {Name: sptr("MEMORY"), IntegerValue: 4096},
			{Name: sptr("PORTS"), StringSetValue: []string{"22", "51678"}},
		},
	}
	if err := txn.Put(state.TableInstances, &state.ContainerInstance{ID: id, Cluster: "c", Shape: ci}); err != nil {
		t.Fatal(err)
	}
}

// fresh is what SchedulerInstance makes of every instance InstanceViews
// should return.
func fresh(snap *state.Snapshot) []*scheduler.Instance {
	var out []*scheduler.Instance
	snap.Instances("c", "", func(ci *state.ContainerInstance) bool {
		if deref(ci.Shape.Status) != "INACTIVE" {
			inst := SchedulerInstance(snap, ci)
			if len(inst.GroupCounts) == 0 {
				inst.GroupCounts = nil // the views leave it nil without tasks
			}
			out = append(out, inst)
		}
		return true
	})
	return out
}

func TestInstanceViewsMatchSchedulerInstance(t *testing.T) {
	st := state.New()
	placementState(t, st, 40)
	var v InstanceViews
	snap := st.Snapshot()
	first := v.Cluster(snap, "c")
	if want := fresh(snap); !reflect.DeepEqual(first, want) {
		t.Fatalf("first call:\n got %+v\nwant %+v", first, want)
	}
	// What a caller does to its instances stays with it.
	first[0].Used.CPU, first[0].Tasks = 99999, 42

	// An instance changes (its record is replaced), one goes INACTIVE, a
	// task starts: the next call shows all three.
	txn := st.Txn()
	putInstance(t, txn, "inst-0000", "DRAINING", "us-east-1c", 1)
	putInstance(t, txn, "inst-0001", "INACTIVE", "us-east-1b", 1)
	if err := txn.Put(state.TableTasks, &state.Task{ID: "new", Cluster: "c", InstanceID: "inst-0004",
		Reserved: state.Reservation{CPU: 512, Memory: 64}, Shape: &shape.Task{Group: sptr("service:web"), DesiredStatus: sptr("RUNNING")}}); err != nil {
		t.Fatal(err)
	}
	txn.Commit()
	snap = st.Snapshot()
	second := v.Cluster(snap, "c")
	if want := fresh(snap); !reflect.DeepEqual(second, want) {
		t.Fatalf("after changes:\n got %+v\nwant %+v", second, want)
	}
	if second[0].ID != "inst-0000" || second[0].Status != "DRAINING" || second[0].Attributes["ecs.availability-zone"] != "us-east-1c" {
		t.Errorf("the replaced record's view is stale: %+v", second[0])
	}
	for _, in := range second {
		if in.ID == "inst-0001" {
			t.Error("a deregistered instance is in the view")
		}
		if in.ID == "inst-0004" && (in.GroupCounts["service:web"] != 1 || in.Used.CPU != 512+128) {
			t.Errorf("inst-0004 does not show the new task: %+v", in)
		}
	}
}

// Placing against the views gives the plan placing against fresh
// instances gives, for the same random source.
func TestInstanceViewsPlaceLikeFresh(t *testing.T) {
	st := state.New()
	placementState(t, st, 200)
	var v InstanceViews
	snap := st.Snapshot()
	req := scheduler.Request{Count: 10, Task: scheduler.Task{CPU: 256, Memory: 512, TCPPorts: []int{8001}}, Group: "family:f1",
		Strategies: []scheduler.Strategy{{Type: "spread", Field: "attribute:ecs.availability-zone"}, {Type: "binpack", Field: "memory"}}}
	for round := range 3 {
		got := scheduler.Place(v.Cluster(snap, "c"), req, rand.New(rand.NewPCG(7, uint64(round))))
		want := scheduler.Place(fresh(snap), req, rand.New(rand.NewPCG(7, uint64(round))))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: plan %+v, want %+v", round, got, want)
		}
	}
}

// BenchmarkInstanceViews is the scheduler's view of a cluster of 10,000
// instances (12 attributes each) with 10,000 tasks: kept between calls,
// and built afresh from every record as before.
func BenchmarkInstanceViews(b *testing.B) {
	st := state.New()
	txn := st.Txn()
	for i := range 10000 {
		id := fmt.Sprintf("inst-%05d", i)
		attrs := []shape.Attribute{{Name: sptr("ecs.availability-zone"), Value: sptr(fmt.Sprintf("us-east-1%c", 'a'+i%3))}}
		for k := range 11 {
			attrs = append(attrs, shape.Attribute{Name: sptr(fmt.Sprintf("ecs.capability.c%d", k)), Value: sptr("")})
		}
		_ = txn.Put(state.TableInstances, &state.ContainerInstance{ID: id, Cluster: "c", Shape: &shape.ContainerInstance{
			Status: sptr("ACTIVE"), AgentConnected: true, Attributes: attrs,
			RegisteredResources: []shape.Resource{{Name: sptr("CPU"), IntegerValue: 4096}, {Name: sptr("MEMORY"), IntegerValue: 15000}},
		}})
		_ = txn.Put(state.TableTasks, &state.Task{ID: fmt.Sprintf("t-%05d", i), Cluster: "c", InstanceID: id,
			Reserved: state.Reservation{CPU: 256, Memory: 512}, Shape: &shape.Task{Group: sptr("family:x"), DesiredStatus: sptr("RUNNING")}})
	}
	txn.Commit()
	snap := st.Snapshot()
	b.Run("kept", func(b *testing.B) {
		var v InstanceViews
		for b.Loop() {
			v.Cluster(snap, "c")
		}
	})
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			fresh(snap)
		}
	})
}
