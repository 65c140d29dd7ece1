package state

import (
	"encoding/json"
	"fmt"
	"testing"

	"berth.dev/berth/internal/shape"
)

func ptr[T any](v T) *T { return &v }

// TestDumpLoadEveryTable puts one record in every table, dumps the state and
// loads it into a new store: every record comes back (a table whose index
// hides records from Dump would lose them in raft snapshots).
func TestDumpLoadEveryTable(t *testing.T) {
	s := New()
	tx := s.Txn()
	recs := map[string]any{
		TableClusters:        &shape.Cluster{ClusterName: ptr("c")},
		TableFamilies:        &Family{Name: "f", LastRevision: 1},
		TableTaskDefinitions: &TaskDefinition{Family: "f", Revision: 1, Def: &shape.TaskDefinition{}},
		TableInstances:       &ContainerInstance{ID: "i", Cluster: "c", Shape: &shape.ContainerInstance{}},
		TableTasks:           &Task{ID: "t", Cluster: "c", InstanceID: "i", Shape: &shape.Task{}},
		TableSettings:        &AccountSetting{Principal: "p", Name: "n", Value: "v"},
		TableClientTokens:    &ClientToken{Token: "tok"},
		TableServices:        &Service{Cluster: "c", Name: "s", Shape: &shape.Service{}},
		TableServiceDeploys:  &ServiceDeployment{Cluster: "c", Service: "s", ID: "d", Shape: &shape.ServiceDeployment{}},
	}
	if len(recs) != len(tables) {
		t.Fatalf("got %d records, want one per table (%d): add the new table here", len(recs), len(tables))
	}
	for table, rec := range recs {
		if err := tx.Put(table, rec); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	dumped := map[string]int{}
	restored := New()
	rtx := restored.Txn()
	err := s.Snapshot().Dump(func(table string, rec any) error {
		dumped[table]++
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return rtx.Load(table, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	rtx.Commit()
	for table := range recs {
		if dumped[table] != 1 {
			t.Errorf("table %s: got %d records dumped, want 1", table, dumped[table])
		}
	}
	if got, want := fmt.Sprint(restored.Snapshot().Counts()), fmt.Sprint(s.Snapshot().Counts()); got != want {
		t.Fatalf("got counts %s after load, want %s", got, want)
	}
	if restored.Snapshot().Service("c", "s") == nil {
		t.Fatal("got no service after load")
	}
}
