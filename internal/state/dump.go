package state

import "fmt"

// tables lists every table in the order Dump walks them.
var tables = []string{
	TableClusters, TableFamilies, TableTaskDefinitions, TableInstances, TableTasks,
	TableSettings, TableClientTokens, TableServices, TableServiceDeploys, TableServiceRevs,
	TableLoadBalancers, TableListeners, TableRules, TableTargetGroups, TableTargets,
	TableACMCertificates,
	TableSDNamespaces, TableSDServices, TableSDInstances, TableSDOperations,
	TableSMSecrets, // Secrets Manager
	TableSSMParameters,
	TableIAMRoles, // IAM
	TableSTSCredentials,
	TableIAMPolicies, // IAM managed policies
}

// Tables returns every table name in Dump's order.
func Tables() []string { return append([]string(nil), tables...) }

// Dump calls fn for every record of every table, table by table in a fixed
// order and in key order within a table. Records are the package's record
// types (*shape.Cluster for clusters); fn must not change them.
func (s *Snapshot) Dump(fn func(table string, rec any) error) error {
	for _, t := range tables {
		it, err := s.txn.Get(t, "id_prefix", "")
		if err != nil {
			return fmt.Errorf("dump %s: %w", t, err)
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if err := fn(t, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// Counts returns the number of records per table (for tests and metrics).
func (s *Snapshot) Counts() map[string]int {
	out := map[string]int{}
	for _, t := range tables {
		it, err := s.txn.Get(t, "id_prefix", "")
		if err != nil {
			continue
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			out[t]++
		}
	}
	return out
}
