package fsm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// Persist writes snap to w in the current snapshot format (package wire):
// a header line, then one line per record.
func Persist(snap *state.Snapshot, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(wire.SnapshotHeader{Format: wire.SnapshotFormat, Version: wire.SnapshotVersion, Index: snap.Index()}); err != nil {
		return fmt.Errorf("persist header: %w", err)
	}
	err := snap.Dump(func(table string, rec any) error {
		wt, wr, err := recordToWire(table, rec)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(wr)
		if err != nil {
			return fmt.Errorf("persist %s: %w", table, err)
		}
		return enc.Encode(wire.SnapshotRecord{Table: wt, Record: raw})
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// Restore replaces the whole state with the snapshot read from r (any
// version this server knows) and wakes every watcher of the old state.
func (m *Machine) Restore(r io.Reader) error {
	store, err := ReadSnapshot(r)
	if err != nil {
		return err
	}
	old := m.store.Swap(store)
	old.Abandon()
	return nil
}

// CheckSnapshot reads a snapshot's header and reports whether this server
// reads its format and version.
func CheckSnapshot(r io.Reader) error {
	_, err := readHeader(json.NewDecoder(bufio.NewReader(r)))
	return err
}

func readHeader(dec *json.Decoder) (wire.SnapshotHeader, error) {
	var h wire.SnapshotHeader
	if err := dec.Decode(&h); err != nil {
		return h, fmt.Errorf("restore: snapshot header: %w", err)
	}
	if h.Format != wire.SnapshotFormat || h.Version < 1 || h.Version > wire.SnapshotVersion {
		return h, fmt.Errorf("restore: unsupported snapshot format %q version %d (this server reads %q versions 1 to %d): it was written by another program or a newer berth",
			h.Format, h.Version, wire.SnapshotFormat, wire.SnapshotVersion)
	}
	return h, nil
}

// ReadSnapshot reads a snapshot into a new store.
func ReadSnapshot(r io.Reader) (*state.Store, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	h, err := readHeader(dec)
	if err != nil {
		return nil, err
	}
	store := state.New()
	tx := store.Txn()
	for n := 1; ; n++ {
		var rec wire.SnapshotRecord
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tx.Abort()
			return nil, fmt.Errorf("restore: record %d: %w", n, err)
		}
		table, value, err := recordFromWire(h.Version, rec)
		if err == nil {
			err = tx.Put(table, value)
		}
		if err != nil {
			tx.Abort()
			return nil, fmt.Errorf("restore: record %d: %w", n, err)
		}
	}
	if h.Index > 0 {
		if err := tx.SetIndex(h.Index); err != nil {
			tx.Abort()
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	tx.Commit()
	return store, nil
}

// recordToWire converts a state record to its snapshot table and record.
func recordToWire(table string, rec any) (string, any, error) {
	switch r := rec.(type) {
	case *shape.Cluster:
		return wire.TableClusters, r, nil
	case *state.Family:
		return wire.TableFamilies, wire.Family(*r), nil
	case *state.TaskDefinition:
		return wire.TableTaskDefinitions, wire.TaskDefinition(*r), nil
	case *state.ContainerInstance:
		return wire.TableInstances, wire.ContainerInstance(*r), nil
	case *state.Task:
		return wire.TableTasks, wire.Task{ID: r.ID, Cluster: r.Cluster, InstanceID: r.InstanceID, Shape: r.Shape,
			Reserved: wire.Reservation(r.Reserved), Family: r.Family, Revision: r.Revision, Health: r.Health,
			Targets: taskTargetsToWire(r.Targets), DrainUntil: r.DrainUntil}, nil
	case *state.AccountSetting:
		return wire.TableSettings, wire.AccountSetting(*r), nil
	case *state.ClientToken:
		return wire.TableClientTokens, wire.ClientToken(*r), nil
	case *state.Service:
		out := wire.Service{Cluster: r.Cluster, Name: r.Name, Shape: r.Shape, Generation: r.Generation,
			Deployments: DeploymentsToWire(r.Deployments), LastCompleted: OptionalDeploymentToWire(r.LastCompleted),
			ClientToken: r.ClientToken, InactiveAt: r.InactiveAt}
		for _, e := range r.Events {
			out.Events = append(out.Events, wire.Event(e))
		}
		return wire.TableServices, out, nil
	case *state.ServiceDeployment:
		return wire.TableServiceDeploys, wire.ServiceDeployment(*r), nil
	case *state.ServiceRevision:
		return wire.TableServiceRevs, wire.ServiceRevision(*r), nil
	case *state.LoadBalancer:
		return wire.TableLoadBalancers, wire.LoadBalancer(*r), nil
	case *state.Listener:
		return wire.TableListeners, wire.Listener(*r), nil
	case *state.Rule:
		return wire.TableRules, wire.Rule(*r), nil
	case *state.TargetGroup:
		return wire.TableTargetGroups, wire.TargetGroup(*r), nil
	case *state.Target:
		return wire.TableTargets, wire.Target(*r), nil
	case *state.Certificate:
		return wire.TableACMCertificates, certificateToWire(r), nil
	case *state.Secret: // Secrets Manager, since version 6
		return wire.TableSMSecrets, secretToWire(r), nil
	case *state.SDNamespace:
		return wire.TableSDNamespaces, sdNamespaceToWire(r), nil
	case *state.SDService:
		return wire.TableSDServices, sdServiceToWire(r), nil
	case *state.SDInstance:
		return wire.TableSDInstances, wire.SDInstanceRecord(*r), nil
	case *state.SDOperation:
		return wire.TableSDOperations, wire.SDOperationRecord(*r), nil
	// SSM Parameter Store (snapshot version 6)
	case *state.Parameter:
		return wire.TableSSMParameters, parameterToWire(r), nil
	case *state.IAMRole: // IAM, since version 7
		return wire.TableIAMRoles, IAMRoleToWire(r), nil
	case *state.STSCredential: // STS, since version 7
		return wire.TableSTSCredentials, stsCredentialToWire(r), nil
	case *state.IAMPolicy: // IAM managed policies, since version 8
		return wire.TableIAMPolicies, IAMPolicyToWire(r), nil
	}
	return "", nil, fmt.Errorf("persist: table %s has a record of unknown type %T", table, rec)
}

// recordFromWire decodes one snapshot record of a snapshot of version v
// into its state table and record.
func recordFromWire(v int, rec wire.SnapshotRecord) (string, any, error) {
	switch rec.Table {
	case wire.TableClusters:
		var r shape.Cluster
		return state.TableClusters, &r, decodeRecord(rec, &r)
	case wire.TableFamilies:
		var r wire.Family
		err := decodeRecord(rec, &r)
		out := state.Family(r)
		return state.TableFamilies, &out, err
	case wire.TableTaskDefinitions:
		var r wire.TaskDefinition
		err := decodeRecord(rec, &r)
		out := state.TaskDefinition(r)
		return state.TableTaskDefinitions, &out, err
	case wire.TableInstances:
		var r wire.ContainerInstance
		err := decodeRecord(rec, &r)
		out := state.ContainerInstance(r)
		return state.TableInstances, &out, err
	case wire.TableTasks:
		var r wire.Task
		err := decodeRecord(rec, &r)
		return state.TableTasks, &state.Task{ID: r.ID, Cluster: r.Cluster, InstanceID: r.InstanceID, Shape: r.Shape,
			Reserved: state.Reservation(r.Reserved), Family: r.Family, Revision: r.Revision, Health: r.Health,
			Targets: taskTargetsFromWire(r.Targets), DrainUntil: r.DrainUntil}, err
	case wire.TableSettings:
		var r wire.AccountSetting
		err := decodeRecord(rec, &r)
		out := state.AccountSetting(r)
		return state.TableSettings, &out, err
	case wire.TableClientTokens:
		var r wire.ClientToken
		err := decodeRecord(rec, &r)
		out := state.ClientToken(r)
		return state.TableClientTokens, &out, err
	case wire.TableServices:
		var r wire.Service
		var err error
		if v == 1 {
			var old wire.ServiceV1
			err = decodeRecord(rec, &old)
			r = old.Upgrade()
		} else {
			err = decodeRecord(rec, &r)
		}
		out := &state.Service{Cluster: r.Cluster, Name: r.Name, Shape: r.Shape, Generation: r.Generation,
			Deployments: deploymentsFromWire(r.Deployments), LastCompleted: optionalDeploymentFromWire(r.LastCompleted),
			ClientToken: r.ClientToken, InactiveAt: r.InactiveAt}
		for _, e := range r.Events {
			out.Events = append(out.Events, state.Event(e))
		}
		return state.TableServices, out, err
	case wire.TableServiceDeploys:
		var r wire.ServiceDeployment
		err := decodeRecord(rec, &r)
		out := state.ServiceDeployment(r)
		return state.TableServiceDeploys, &out, err
	case wire.TableServiceRevs:
		if v < 3 {
			break // a table of later versions
		}
		var r wire.ServiceRevision
		err := decodeRecord(rec, &r)
		out := state.ServiceRevision(r)
		return state.TableServiceRevs, &out, err
	case wire.TableLoadBalancers, wire.TableListeners, wire.TableRules, wire.TableTargetGroups, wire.TableTargets:
		if v < 4 {
			break // tables of later versions
		}
		return elbRecordFromWire(rec)
	case wire.TableACMCertificates:
		// A table added after version 3; older snapshots have none.
		var r wire.ACMCertificate
		err := decodeRecord(rec, &r)
		return state.TableACMCertificates, certificateFromWire(r), err
	case wire.TableSDNamespaces, wire.TableSDServices, wire.TableSDInstances, wire.TableSDOperations:
		if v < 5 {
			break // tables of later versions
		}
		return sdRecordFromWire(rec)
	case wire.TableSMSecrets:
		// Secrets Manager, since version 6.
		if v < 6 {
			break
		}
		var r wire.SMSecret
		err := decodeRecord(rec, &r)
		return state.TableSMSecrets, secretFromWire(r), err
	// SSM Parameter Store (snapshot version 6)
	case wire.TableSSMParameters:
		if v < 6 {
			break // a table of later versions
		}
		var r wire.SSMParameter
		err := decodeRecord(rec, &r)
		return state.TableSSMParameters, parameterFromWire(r), err
	case wire.TableIAMRoles:
		if v < 7 {
			break // a table of later versions
		}
		var r wire.IAMRole
		err := decodeRecord(rec, &r)
		return state.TableIAMRoles, iamRoleFromWire(r), err
	case wire.TableSTSCredentials:
		if v < 7 {
			break // a table of later versions
		}
		var r wire.STSCredential
		err := decodeRecord(rec, &r)
		return state.TableSTSCredentials, stsCredentialFromWire(r), err
	case wire.TableIAMPolicies:
		if v < 8 {
			break // a table of later versions
		}
		var r wire.IAMPolicy
		err := decodeRecord(rec, &r)
		return state.TableIAMPolicies, iamPolicyFromWire(r), err
	}
	return "", nil, fmt.Errorf("unknown table %q in a version %d snapshot", rec.Table, v)
}

func decodeRecord(rec wire.SnapshotRecord, v any) error {
	if err := decodeStrict(rec.Record, v); err != nil {
		return fmt.Errorf("%s: %w", rec.Table, err)
	}
	return nil
}

func elbRecordFromWire(rec wire.SnapshotRecord) (string, any, error) {
	switch rec.Table {
	case wire.TableLoadBalancers:
		var r wire.LoadBalancer
		err := decodeRecord(rec, &r)
		out := state.LoadBalancer(r)
		return state.TableLoadBalancers, &out, err
	case wire.TableListeners:
		var r wire.Listener
		err := decodeRecord(rec, &r)
		out := state.Listener(r)
		return state.TableListeners, &out, err
	case wire.TableRules:
		var r wire.Rule
		err := decodeRecord(rec, &r)
		out := state.Rule(r)
		return state.TableRules, &out, err
	case wire.TableTargetGroups:
		var r wire.TargetGroup
		err := decodeRecord(rec, &r)
		out := state.TargetGroup(r)
		return state.TableTargetGroups, &out, err
	}
	var r wire.Target
	err := decodeRecord(rec, &r)
	out := state.Target(r)
	return state.TableTargets, &out, err
}

func taskTargetsToWire(in []state.TaskTarget) []wire.TaskTarget {
	if in == nil {
		return nil
	}
	out := make([]wire.TaskTarget, len(in))
	for i, t := range in {
		out[i] = wire.TaskTarget(t)
	}
	return out
}

func taskTargetsFromWire(in []wire.TaskTarget) []state.TaskTarget {
	if in == nil {
		return nil
	}
	out := make([]state.TaskTarget, len(in))
	for i, t := range in {
		out[i] = state.TaskTarget(t)
	}
	return out
}
