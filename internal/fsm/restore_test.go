package fsm_test

import (
	"bytes"
	"testing"
	"time"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Restore replaces the state and wakes every watcher of the old one, whose
// watch channels would otherwise never fire again.
func TestRestoreWakesWatchers(t *testing.T) {
	m := newMachine()
	for _, c := range story()[:6] {
		b, _ := wire.Encode(c)
		m.apply(b)
	}
	var snap bytes.Buffer
	if err := fsm.Persist(m.m.Snapshot(), &snap); err != nil {
		t.Fatal(err)
	}
	old := m.m.Snapshot()
	servicesCh := old.WatchServices(func(*state.Service) bool { return true })
	abandoned := old.Abandoned()
	select {
	case <-abandoned:
		t.Fatal("abandoned before any restore")
	default:
	}
	if err := m.m.Restore(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	select {
	case <-abandoned:
	case <-time.After(10 * time.Second):
		t.Fatal("the old store's watchers were not woken by Restore")
	}
	select {
	case <-servicesCh:
		t.Fatal("a watch channel of the replaced store fired: the test proves nothing")
	default:
	}
	if now := m.m.Snapshot(); now.Cluster("prod") == nil {
		t.Fatal("the restored state lost the cluster")
	}
}

// Two machines that apply the same entries hold the same state, byte for
// byte.
func TestApplyIsDeterministic(t *testing.T) {
	a, b := newMachine(), newMachine()
	for _, c := range story() {
		e, _ := wire.Encode(c)
		if ra, rb := a.apply(e), b.apply(e); ra != rb {
			t.Fatalf("%s: %s / %s", c.Type(), ra, rb)
		}
	}
	if a.dump(t) != b.dump(t) {
		t.Fatal("two machines that applied the same entries differ")
	}
}
