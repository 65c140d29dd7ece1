package state

import (
	"fmt"
	"sync"

	"github.com/hashicorp/go-memdb"

	"berth.dev/berth/internal/shape"
)

// Store is the in-memory state. The zero value is not usable; call New.
type Store struct {
	db      *memdb.MemDB
	abandon chan struct{}
	once    sync.Once
}

// New returns an empty Store.
func New() *Store {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		panic(fmt.Sprintf("state: invalid schema: %v", err)) // a programming error, caught by every test
	}
	// The record WatchSD watches exists from the start: a watch on a
	// missing key would fire on every change of the meta table.
	tx := db.Txn(true)
	if err := tx.Insert(TableMeta, &meta{Key: sdMetaKey}); err != nil {
		panic(fmt.Sprintf("state: %v", err))
	}
	tx.Commit()
	return &Store{db: db, abandon: make(chan struct{})}
}

// Snapshot returns a consistent read-only view of the current state.
func (s *Store) Snapshot() *Snapshot { return &Snapshot{txn: s.db.Txn(false), abandon: s.abandon} }

// Txn starts the (single) write transaction. Call Commit or Abort.
func (s *Store) Txn() *Txn {
	t := s.db.Txn(true)
	return &Txn{Snapshot: Snapshot{txn: t, abandon: s.abandon}, w: t}
}

// Abandon marks the store replaced (a snapshot was restored into a new
// one): it closes the channel every Snapshot's Abandoned returns, so
// watchers of this store, whose watch channels will never fire again, look
// at the new store instead. It is safe to call more than once.
func (s *Store) Abandon() { s.once.Do(func() { close(s.abandon) }) }

// Snapshot is a read-only, point-in-time view. Safe for concurrent use.
type Snapshot struct {
	txn     *memdb.Txn
	abandon chan struct{}
}

// Abandoned returns a channel closed when the store this view was taken
// from is replaced. Everyone who waits on a Watch channel must also wait
// on it: an abandoned store's watch channels never fire again.
func (s *Snapshot) Abandoned() <-chan struct{} { return s.abandon }

// Txn is a write transaction. Reads through it see its own writes.
type Txn struct {
	Snapshot
	w *memdb.Txn
}

// Commit makes the transaction's writes visible to new snapshots.
func (t *Txn) Commit() { t.w.Commit() }

// Abort discards the transaction's writes.
func (t *Txn) Abort() { t.w.Abort() }

// Put inserts or replaces a record in table.
func (t *Txn) Put(table string, rec any) error {
	if err := t.w.Insert(table, rec); err != nil {
		return fmt.Errorf("put %s: %w", table, err)
	}
	return t.touchSD(table)
}

// Delete removes a record from table.
func (t *Txn) Delete(table string, rec any) error {
	if err := t.w.Delete(table, rec); err != nil {
		return fmt.Errorf("delete %s: %w", table, err)
	}
	return t.touchSD(table)
}

func first[T any](txn *memdb.Txn, table, index string, args ...any) T {
	var zero T
	raw, err := txn.First(table, index, args...)
	if err != nil || raw == nil {
		return zero
	}
	return raw.(T)
}

// each calls fn for every record the iterator yields until fn returns false.
func each[T any](it memdb.ResultIterator, err error, fn func(T) bool) {
	if err != nil {
		return
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if !fn(raw.(T)) {
			return
		}
	}
}

// watch passes the records of table whose index matches arg to fn and
// returns a channel closed when any of them, or the set, changes (at once
// if the index cannot be read).
func watch[T any](s *Snapshot, table, index, arg string, fn func(T) bool) <-chan struct{} {
	it, err := s.txn.Get(table, index, arg)
	if err != nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	each(it, nil, fn)
	return it.WatchCh()
}

// Cluster returns the cluster named name (ACTIVE or INACTIVE), or nil.
func (s *Snapshot) Cluster(name string) *shape.Cluster {
	return first[*shape.Cluster](s.txn, TableClusters, "id", name)
}

// Clusters calls fn for each cluster with a name greater than after, in name order.
func (s *Snapshot) Clusters(after string, fn func(*shape.Cluster) bool) {
	it, err := s.txn.LowerBound(TableClusters, "id", after)
	each(it, err, func(c *shape.Cluster) bool {
		if after != "" && deref(c.ClusterName) == after {
			return true
		}
		return fn(c)
	})
}

// TaskDefinition returns one revision, or nil.
func (s *Snapshot) TaskDefinition(family string, revision int32) *TaskDefinition {
	return first[*TaskDefinition](s.txn, TableTaskDefinitions, "id", TaskDefinitionKey(family, revision))
}

// TaskDefinitions calls fn for each revision whose family starts with
// prefix, ordered by family then revision (descending when reverse), strictly
// after the key after ("" for the start; keys come from TaskDefinitionKey).
func (s *Snapshot) TaskDefinitions(prefix, after string, reverse bool, fn func(*TaskDefinition) bool) {
	var it memdb.ResultIterator
	var err error
	switch {
	case reverse && after != "":
		it, err = s.txn.ReverseLowerBound(TableTaskDefinitions, "id", after)
	case reverse:
		it, err = s.txn.GetReverse(TableTaskDefinitions, "id_prefix", prefix)
	case after != "":
		it, err = s.txn.LowerBound(TableTaskDefinitions, "id", after)
	default:
		it, err = s.txn.Get(TableTaskDefinitions, "id_prefix", prefix)
	}
	each(it, err, func(td *TaskDefinition) bool {
		k := td.key()
		if k == after {
			return true
		}
		if len(td.Family) < len(prefix) || td.Family[:len(prefix)] != prefix {
			// Lower bounds run past the prefix: stop once outside it.
			if reverse {
				return k > prefix
			}
			return k < prefix
		}
		return fn(td)
	})
}

// Revisions calls fn for each revision of family in ascending order.
func (s *Snapshot) Revisions(family string, fn func(*TaskDefinition) bool) {
	it, err := s.txn.Get(TableTaskDefinitions, "id_prefix", family+":")
	each(it, err, fn)
}

// LatestActive returns the highest ACTIVE revision of family, or nil.
func (s *Snapshot) LatestActive(family string) *TaskDefinition {
	it, err := s.txn.GetReverse(TableTaskDefinitions, "id_prefix", family+":")
	var found *TaskDefinition
	each(it, err, func(td *TaskDefinition) bool {
		if td.Def.Status == shape.TaskDefinitionStatusActive {
			found = td
			return false
		}
		return true
	})
	return found
}

// Family returns a family's counter record, or nil.
func (s *Snapshot) Family(name string) *Family {
	return first[*Family](s.txn, TableFamilies, "id", name)
}

// Families calls fn for each family whose name starts with prefix and is
// greater than after, in name order.
func (s *Snapshot) Families(prefix, after string, fn func(*Family) bool) {
	var it memdb.ResultIterator
	var err error
	if after != "" && after >= prefix {
		it, err = s.txn.LowerBound(TableFamilies, "id", after)
	} else {
		it, err = s.txn.Get(TableFamilies, "id_prefix", prefix)
	}
	each(it, err, func(f *Family) bool {
		if f.Name == after {
			return true
		}
		if len(f.Name) < len(prefix) || f.Name[:len(prefix)] != prefix {
			return false
		}
		return fn(f)
	})
}

// Instance returns a container instance by ID, or nil.
func (s *Snapshot) Instance(id string) *ContainerInstance {
	return first[*ContainerInstance](s.txn, TableInstances, "id", id)
}

// Instances calls fn for each container instance of cluster with an ID
// greater than after, in ID order.
// AllInstances calls fn for every container instance of every cluster, in
// ID order, until fn returns false.
func (s *Snapshot) AllInstances(fn func(*ContainerInstance) bool) {
	it, err := s.txn.Get(TableInstances, "id_prefix", "")
	each(it, err, fn)
}

func (s *Snapshot) Instances(cluster, after string, fn func(*ContainerInstance) bool) {
	var it memdb.ResultIterator
	var err error
	if after != "" {
		it, err = s.txn.LowerBound(TableInstances, "cluster", cluster, after)
	} else {
		it, err = s.txn.Get(TableInstances, "cluster_prefix", cluster)
	}
	each(it, err, func(ci *ContainerInstance) bool {
		if ci.Cluster != cluster {
			return false
		}
		if ci.ID == after {
			return true
		}
		return fn(ci)
	})
}

// Task returns a task by ID, or nil.
func (s *Snapshot) Task(id string) *Task {
	return first[*Task](s.txn, TableTasks, "id", id)
}

// Tasks calls fn for each task of cluster with an ID greater than after.
func (s *Snapshot) Tasks(cluster, after string, fn func(*Task) bool) {
	var it memdb.ResultIterator
	var err error
	if after != "" {
		it, err = s.txn.LowerBound(TableTasks, "cluster", cluster, after)
	} else {
		it, err = s.txn.Get(TableTasks, "cluster_prefix", cluster)
	}
	each(it, err, func(t *Task) bool {
		if t.Cluster != cluster {
			return false
		}
		if t.ID == after {
			return true
		}
		return fn(t)
	})
}

// Setting returns a principal's explicit setting, or nil.
func (s *Snapshot) Setting(principal, name string) *AccountSetting {
	return first[*AccountSetting](s.txn, TableSettings, "id", principal+"\x00"+name)
}

// Settings calls fn for every explicit setting, ordered by principal and name.
func (s *Snapshot) Settings(fn func(*AccountSetting) bool) {
	it, err := s.txn.Get(TableSettings, "id_prefix", "")
	each(it, err, fn)
}

// InstanceTasks calls fn for each task placed on the container instance id,
// in task ID order.
func (s *Snapshot) InstanceTasks(id string, fn func(*Task) bool) {
	it, err := s.txn.Get(TableTasks, "instance_prefix", id)
	each(it, err, fn)
}

// WatchInstanceTasks is InstanceTasks that also returns a channel closed
// when the set of tasks on the instance, or any of them, changes.
func (s *Snapshot) WatchInstanceTasks(id string, fn func(*Task) bool) <-chan struct{} {
	return watch(s, TableTasks, "instance_prefix", id, fn)
}

// WatchInstance returns the instance and a channel closed when it changes.
func (s *Snapshot) WatchInstance(id string) (*ContainerInstance, <-chan struct{}) {
	ch, raw, err := s.txn.FirstWatch(TableInstances, "id", id)
	if err != nil || raw == nil {
		return nil, ch
	}
	return raw.(*ContainerInstance), ch
}

// ClientToken returns a remembered RunTask clientToken, or nil.
func (s *Snapshot) ClientToken(token string) *ClientToken {
	return first[*ClientToken](s.txn, TableClientTokens, "id", token)
}

// ClientTokens calls fn for every remembered clientToken.
func (s *Snapshot) ClientTokens(fn func(*ClientToken) bool) {
	it, err := s.txn.Get(TableClientTokens, "id_prefix", "")
	each(it, err, fn)
}

// Service returns the service name of cluster (any status), or nil.
func (s *Snapshot) Service(cluster, name string) *Service {
	return first[*Service](s.txn, TableServices, "id", cluster, name)
}

// Services calls fn for each service of cluster with a name greater than
// after, in name order.
func (s *Snapshot) Services(cluster, after string, fn func(*Service) bool) {
	var it memdb.ResultIterator
	var err error
	if after != "" {
		it, err = s.txn.LowerBound(TableServices, "id", cluster, after)
	} else {
		it, err = s.txn.Get(TableServices, "id_prefix", cluster)
	}
	each(it, err, func(svc *Service) bool {
		if svc.Cluster != cluster {
			return false
		}
		if svc.Name == after {
			return true
		}
		return fn(svc)
	})
}

// WatchServices calls fn for every service of every cluster and returns a
// channel closed when any service changes.
func (s *Snapshot) WatchServices(fn func(*Service) bool) <-chan struct{} {
	return watch(s, TableServices, "id_prefix", "", fn)
}

// WatchClusterTasks returns a channel closed when any task of cluster
// changes, with the cluster's tasks passed to fn.
func (s *Snapshot) WatchClusterTasks(cluster string, fn func(*Task) bool) <-chan struct{} {
	return watch(s, TableTasks, "cluster_prefix", cluster, fn)
}

// WatchAllInstances returns a channel closed when any container instance of
// any cluster changes, with them all passed to fn.
func (s *Snapshot) WatchAllInstances(fn func(*ContainerInstance) bool) <-chan struct{} {
	return watch(s, TableInstances, "id_prefix", "", fn)
}

// WatchClusterInstances returns a channel closed when any container
// instance of cluster changes, with them passed to fn.
func (s *Snapshot) WatchClusterInstances(cluster string, fn func(*ContainerInstance) bool) <-chan struct{} {
	return watch(s, TableInstances, "cluster_prefix", cluster, fn)
}

// ServiceDeployments calls fn for each deployment record of a service, in
// ID order.
func (s *Snapshot) ServiceDeployments(cluster, service string, fn func(*ServiceDeployment) bool) {
	it, err := s.txn.Get(TableServiceDeploys, "id_prefix", cluster+"\x00"+service)
	each(it, err, fn)
}

// ServiceDeployment returns one deployment record, or nil.
func (s *Snapshot) ServiceDeployment(cluster, service, id string) *ServiceDeployment {
	return first[*ServiceDeployment](s.txn, TableServiceDeploys, "id", cluster+"\x00"+service, id)
}

// ServiceRevision returns the revision of one deployment of a service
// (id is the deployment ID), or nil.
func (s *Snapshot) ServiceRevision(cluster, service, id string) *ServiceRevision {
	return first[*ServiceRevision](s.txn, TableServiceRevs, "id", cluster+"\x00"+service, id)
}

// TableMeta holds the index of the log entry the state was last changed
// by (not part of snapshots or dumps).
const TableMeta = "meta"

type meta struct {
	Key   string
	Index uint64
}

// SetIndex records the index of the log entry the transaction applies.
func (t *Txn) SetIndex(index uint64) error {
	return t.Put(TableMeta, &meta{Key: "index", Index: index})
}

// Index is the index of the log entry the state was last changed by (0
// after a restore until the next entry applies).
func (s *Snapshot) Index() uint64 {
	m := first[*meta](s.txn, TableMeta, "id", "index")
	if m == nil {
		return 0
	}
	return m.Index
}
