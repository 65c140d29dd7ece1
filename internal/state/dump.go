package state

import (
	"encoding/json"
	"fmt"

	"berth.dev/berth/internal/shape"
)

// tables lists every table with a constructor for its record type, in the
// order Dump writes them.
var tables = []struct {
	name string
	zero func() any
}{
	{TableClusters, func() any { return new(shape.Cluster) }},
	{TableFamilies, func() any { return new(Family) }},
	{TableTaskDefinitions, func() any { return new(TaskDefinition) }},
	{TableInstances, func() any { return new(ContainerInstance) }},
	{TableTasks, func() any { return new(Task) }},
	{TableSettings, func() any { return new(AccountSetting) }},
	{TableClientTokens, func() any { return new(ClientToken) }},
	{TableServices, func() any { return new(Service) }},
	{TableServiceDeploys, func() any { return new(ServiceDeployment) }},
}

// Dump calls fn for every record of every table, table by table in a fixed
// order and in key order within a table.
func (s *Snapshot) Dump(fn func(table string, rec any) error) error {
	for _, t := range tables {
		it, err := s.txn.Get(t.name, "id_prefix", "")
		if err != nil {
			return fmt.Errorf("dump %s: %w", t.name, err)
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if err := fn(t.name, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// Load decodes one dumped record of table and inserts it.
func (t *Txn) Load(table string, data json.RawMessage) error {
	for _, tb := range tables {
		if tb.name != table {
			continue
		}
		rec := tb.zero()
		if err := json.Unmarshal(data, rec); err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
		return t.Put(table, rec)
	}
	return fmt.Errorf("load: unknown table %q", table)
}

// Counts returns the number of records per table (for tests and metrics).
func (s *Snapshot) Counts() map[string]int {
	out := map[string]int{}
	for _, t := range tables {
		it, err := s.txn.Get(t.name, "id_prefix", "")
		if err != nil {
			continue
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			out[t.name]++
		}
	}
	return out
}
