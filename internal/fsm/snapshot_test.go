package fsm_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

// TestGoldenSnapshots restores every checked-in snapshot (one per snapshot
// version: v1 written by the release before the wire schema, each later
// one the state of the golden story when it was current) and compares
// what it holds, persisted in the current format, with its golden dump. A
// change of the snapshot encoding fails here; a new version adds a
// snapshot and a dump and keeps the old.
func TestGoldenSnapshots(t *testing.T) {
	current := filepath.Join("testdata", "snapshots", fmt.Sprintf("v%d.snapshot", wire.SnapshotVersion))
	if *update {
		m := newMachine()
		for _, c := range story() {
			b, _ := wire.Encode(c)
			m.apply(b)
		}
		var b bytes.Buffer
		if err := fsm.Persist(m.m.Snapshot(), &b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(current, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	paths, _ := filepath.Glob(filepath.Join("testdata", "snapshots", "*.snapshot"))
	if len(paths) < wire.SnapshotVersion {
		t.Fatalf("%d snapshots in testdata/snapshots, want one per version (1 to %d)", len(paths), wire.SnapshotVersion)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			store, err := fsm.ReadSnapshot(f)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			var b bytes.Buffer
			if err := fsm.Persist(store.Snapshot(), &b); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".snapshot") + ".dump"
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Fatalf("restoring %s gives another state than %s", path, golden)
			}
		})
	}
	// The current version's snapshot is its own dump: persisting what it
	// restores changes no byte.
	a, _ := os.ReadFile(current)
	b, _ := os.ReadFile(strings.TrimSuffix(current, ".snapshot") + ".dump")
	if !bytes.Equal(a, b) {
		t.Fatal("the current snapshot does not persist back to itself")
	}
}

// A table a snapshot version did not have is refused in that version: the
// service revisions came with version 3.
func TestSnapshotRefusesTablesOfLaterVersions(t *testing.T) {
	rec := `{"t":"servicerevisions","r":{"cluster":"c","service":"s","id":"ecs-svc/1","shape":{}}}` + "\n"
	if _, err := fsm.ReadSnapshot(strings.NewReader(`{"format":"berth-state","version":2}` + "\n" + rec)); err == nil ||
		!strings.Contains(err.Error(), `unknown table "servicerevisions" in a version 2 snapshot`) {
		t.Errorf("a version 2 snapshot with service revisions: got %v, want it refused", err)
	}
	store, err := fsm.ReadSnapshot(strings.NewReader(`{"format":"berth-state","version":3}` + "\n" + rec))
	if err != nil {
		t.Fatalf("a version 3 snapshot with service revisions: %v", err)
	}
	if store.Snapshot().ServiceRevision("c", "s", "ecs-svc/1") == nil {
		t.Error("the service revision was not restored")
	}
}

// The ELBv2 tables came with version 4.
func TestSnapshotRefusesELBTablesBeforeVersion4(t *testing.T) {
	rec := `{"t":"elbtargetgroups","r":{"arn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0000000000000001","id":"0000000000000001","name":"a","protocol":"HTTP","port":80,"vpcId":"vpc-1","targetType":"ip","ipAddressType":"ipv4","healthCheck":{"HealthCheckEnabled":true,"HealthCheckProtocol":"HTTP","HealthCheckPort":"traffic-port","HealthCheckIntervalSeconds":30,"HealthCheckTimeoutSeconds":5,"HealthyThresholdCount":5,"UnhealthyThresholdCount":2},"createdAt":"2026-01-02T03:04:05Z"}}` + "\n"
	if _, err := fsm.ReadSnapshot(strings.NewReader(`{"format":"berth-state","version":3}` + "\n" + rec)); err == nil ||
		!strings.Contains(err.Error(), `unknown table "elbtargetgroups" in a version 3 snapshot`) {
		t.Errorf("a version 3 snapshot with a target group: got %v, want it refused", err)
	}
	store, err := fsm.ReadSnapshot(strings.NewReader(`{"format":"berth-state","version":4}` + "\n" + rec))
	if err != nil {
		t.Fatalf("a version 4 snapshot with a target group: %v", err)
	}
	if store.Snapshot().TargetGroupByName("a") == nil {
		t.Error("the target group was not restored")
	}
}
