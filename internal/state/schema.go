package state

import (
	"errors"
	"fmt"

	"github.com/hashicorp/go-memdb"

	"berth.dev/berth/internal/shape"
)

// Table names.
const (
	TableClusters        = "clusters"
	TableTaskDefinitions = "taskdefs"
	TableFamilies        = "families"
	TableInstances       = "instances"
	TableTasks           = "tasks"
	TableSettings        = "settings"
	TableClientTokens    = "tokens"
	TableServices        = "services"
	TableServiceDeploys  = "servicedeployments"
	TableServiceRevs     = "servicerevisions"
)

// keyIndex indexes a record by a string its function derives. It supports
// exact lookups, prefix lookups (index name + "_prefix") and lower bounds.
type keyIndex[T any] func(T) string

func (f keyIndex[T]) FromObject(obj any) (bool, []byte, error) {
	rec, ok := obj.(T)
	if !ok {
		return false, nil, fmt.Errorf("index: unexpected record type %T", obj)
	}
	k := f(rec)
	if k == "" {
		return false, nil, nil
	}
	return true, append([]byte(k), 0), nil
}

func (f keyIndex[T]) FromArgs(args ...any) ([]byte, error) {
	s, err := oneString(args)
	if err != nil {
		return nil, err
	}
	return append([]byte(s), 0), nil
}

func (f keyIndex[T]) PrefixFromArgs(args ...any) ([]byte, error) {
	return oneStringBytes(args)
}

// compoundIndex indexes by two strings, for "all records of X ordered by key".
type compoundIndex[T any] func(T) (string, string)

func (f compoundIndex[T]) FromObject(obj any) (bool, []byte, error) {
	rec, ok := obj.(T)
	if !ok {
		return false, nil, fmt.Errorf("index: unexpected record type %T", obj)
	}
	a, b := f(rec)
	return true, []byte(a + "\x00" + b + "\x00"), nil
}

func (f compoundIndex[T]) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 2 {
		return nil, errors.New("index: want 2 arguments")
	}
	a, ok1 := args[0].(string)
	b, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, errors.New("index: arguments must be strings")
	}
	return []byte(a + "\x00" + b + "\x00"), nil
}

// PrefixFromArgs with one argument selects every record of that first key;
// with "" it selects every record.
func (f compoundIndex[T]) PrefixFromArgs(args ...any) ([]byte, error) {
	switch len(args) {
	case 1:
		a, ok := args[0].(string)
		if !ok {
			return nil, errors.New("index: argument must be a string")
		}
		if a == "" {
			return []byte{}, nil
		}
		return []byte(a + "\x00"), nil
	case 2:
		a, ok1 := args[0].(string)
		b, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("index: arguments must be strings")
		}
		return []byte(a + "\x00" + b), nil
	}
	return nil, errors.New("index: want 1 or 2 arguments")
}

func oneString(args []any) (string, error) {
	if len(args) != 1 {
		return "", errors.New("index: want 1 argument")
	}
	s, ok := args[0].(string)
	if !ok {
		return "", fmt.Errorf("index: argument must be a string, got %T", args[0])
	}
	return s, nil
}

func oneStringBytes(args []any) ([]byte, error) {
	s, err := oneString(args)
	return []byte(s), err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func schema() *memdb.DBSchema {
	sc := &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		TableClusters: {Name: TableClusters, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: keyIndex[*shape.Cluster](func(c *shape.Cluster) string { return deref(c.ClusterName) })},
		}},
		TableTaskDefinitions: {Name: TableTaskDefinitions, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: keyIndex[*TaskDefinition]((*TaskDefinition).key)},
		}},
		TableFamilies: {Name: TableFamilies, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: keyIndex[*Family](func(f *Family) string { return f.Name })},
		}},
		TableInstances: {Name: TableInstances, Indexes: map[string]*memdb.IndexSchema{
			"id":      {Name: "id", Unique: true, Indexer: keyIndex[*ContainerInstance](func(c *ContainerInstance) string { return c.ID })},
			"cluster": {Name: "cluster", Unique: true, Indexer: compoundIndex[*ContainerInstance](func(c *ContainerInstance) (string, string) { return c.Cluster, c.ID })},
		}},
		TableTasks: {Name: TableTasks, Indexes: map[string]*memdb.IndexSchema{
			"id":       {Name: "id", Unique: true, Indexer: keyIndex[*Task](func(t *Task) string { return t.ID })},
			"cluster":  {Name: "cluster", Unique: true, Indexer: compoundIndex[*Task](func(t *Task) (string, string) { return t.Cluster, t.ID })},
			"instance": {Name: "instance", Unique: true, Indexer: compoundIndex[*Task](func(t *Task) (string, string) { return t.InstanceID, t.ID })},
		}},
		TableServices: {Name: TableServices, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: compoundIndex[*Service]((*Service).key)},
		}},
		TableServiceDeploys: {Name: TableServiceDeploys, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: compoundIndex[*ServiceDeployment](func(d *ServiceDeployment) (string, string) {
				return d.Cluster + "\x00" + d.Service, d.ID
			})},
		}},
		TableServiceRevs: {Name: TableServiceRevs, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: compoundIndex[*ServiceRevision](func(r *ServiceRevision) (string, string) {
				return r.Cluster + "\x00" + r.Service, r.ID
			})},
		}},
		TableClientTokens: {Name: TableClientTokens, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: keyIndex[*ClientToken](func(c *ClientToken) string { return c.Token })},
		}},
		TableSettings: {Name: TableSettings, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: keyIndex[*AccountSetting]((*AccountSetting).key)},
		}},
	}}
	elbSchema(sc.Tables)
	sc.Tables[TableMeta] = &memdb.TableSchema{Name: TableMeta, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*meta](func(m *meta) string { return m.Key })},
	}}
	acmSchema(sc.Tables)
	ssmSchema(sc.Tables)
	sdSchema(sc.Tables)
	secretsSchema(sc.Tables)
	iamSchema(sc.Tables)
	iamPolicySchema(sc.Tables)
	stsSchema(sc.Tables)
	return sc
}
