package state

import (
	"time"

	"github.com/hashicorp/go-memdb"
)

// Cloud Map (servicediscovery) tables.
const (
	TableSDNamespaces = "sdnamespaces" // by ID; indexes "arn", "name"
	TableSDServices   = "sdservices"   // by ID; indexes "arn", "ns" (NamespaceID, Name)
	TableSDInstances  = "sdinstances"  // key ServiceID+"/"+ID; index "task" on TaskARN (allow missing)
	TableSDOperations = "sdoperations" // by ID
)

// SDNamespace is a Cloud Map namespace. Type is DNS_PRIVATE, DNS_PUBLIC or
// HTTP; HTTPName is the namespace's HTTP name (its name unless set).
type SDNamespace struct {
	ID, ARN, Name, Type, Description, HTTPName, HostedZoneID, CreatorRequestID string
	// SOATTL is the SOA record's TTL of a DNS namespace (nil: the default).
	SOATTL    *int64
	CreatedAt time.Time
	Tags      []SDTag
}

// SDService is a Cloud Map service. Type is HTTP, DNS_HTTP or DNS (the
// API's ServiceType); Revision is the service's InstancesRevision, bumped
// whenever an instance is registered (or re-registered) or deregistered,
// not on health changes.
type SDService struct {
	ID, ARN, Name, NamespaceID, Description, Type, CreatorRequestID string
	DNS                                                             *SDDNSConfig
	HealthCheck                                                     *SDHealthCheck
	CustomHealth                                                    *SDCustomHealth
	Attributes                                                      map[string]string
	Revision                                                        int64
	CreatedAt                                                       time.Time
	Tags                                                            []SDTag
}

// SDDNSConfig is a service's DnsConfig.
type SDDNSConfig struct {
	RoutingPolicy string // MULTIVALUE or WEIGHTED
	Records       []SDDNSRecord
}

// SDDNSRecord is one DnsRecord: Type A, AAAA, SRV or CNAME.
type SDDNSRecord struct {
	Type string
	TTL  int64
}

// SDHealthCheck is a Route 53 health check (public DNS namespaces only;
// berth never stores one, the type is kept for the contract).
type SDHealthCheck struct {
	Type, ResourcePath string
	FailureThreshold   int32
}

// SDCustomHealth is a service's HealthCheckCustomConfig.
type SDCustomHealth struct {
	FailureThreshold int32
}

// SDInstance is an instance registered with a service.
type SDInstance struct {
	ServiceID, ID    string
	Attributes       map[string]string
	CreatorRequestID string
	// CustomHealth is HEALTHY or UNHEALTHY, "" when the service has no
	// custom health check.
	CustomHealth string
	// TaskARN and ECSServiceARN are set when ECS registered the instance
	// for a task.
	TaskARN, ECSServiceARN string
	CreatedAt, UpdatedAt   time.Time
}

// SDInstanceKey is an instance's key in TableSDInstances.
func SDInstanceKey(serviceID, id string) string { return serviceID + "/" + id }

func (i *SDInstance) key() string { return SDInstanceKey(i.ServiceID, i.ID) }

// SDOperation is an asynchronous operation's record. Type is
// CREATE_NAMESPACE, DELETE_NAMESPACE, UPDATE_NAMESPACE, UPDATE_SERVICE,
// REGISTER_INSTANCE or DEREGISTER_INSTANCE; Status SUBMITTED, PENDING,
// SUCCESS or FAIL; Targets maps NAMESPACE, SERVICE and INSTANCE to IDs.
type SDOperation struct {
	ID, Type, Status, ErrorCode, ErrorMessage string
	Targets                                   map[string]string
	CreatedAt, UpdatedAt                      time.Time
}

// SDTag is a Cloud Map tag.
type SDTag struct {
	Key, Value string
}

// sdTables are the tables whose changes WatchSD reports.
var sdTables = map[string]bool{TableSDNamespaces: true, TableSDServices: true, TableSDInstances: true, TableSDOperations: true}

// sdMetaKey is the meta record every write to an SD table touches, so that
// one watch channel covers the four tables.
const sdMetaKey = "sd"

func sdSchema(tables map[string]*memdb.TableSchema) {
	tables[TableSDNamespaces] = &memdb.TableSchema{Name: TableSDNamespaces, Indexes: map[string]*memdb.IndexSchema{
		"id":   {Name: "id", Unique: true, Indexer: keyIndex[*SDNamespace](func(n *SDNamespace) string { return n.ID })},
		"arn":  {Name: "arn", Unique: true, Indexer: keyIndex[*SDNamespace](func(n *SDNamespace) string { return n.ARN })},
		"name": {Name: "name", Indexer: keyIndex[*SDNamespace](func(n *SDNamespace) string { return n.Name }), AllowMissing: true},
	}}
	tables[TableSDServices] = &memdb.TableSchema{Name: TableSDServices, Indexes: map[string]*memdb.IndexSchema{
		"id":  {Name: "id", Unique: true, Indexer: keyIndex[*SDService](func(s *SDService) string { return s.ID })},
		"arn": {Name: "arn", Unique: true, Indexer: keyIndex[*SDService](func(s *SDService) string { return s.ARN })},
		"ns":  {Name: "ns", Unique: true, Indexer: compoundIndex[*SDService](func(s *SDService) (string, string) { return s.NamespaceID, s.Name })},
	}}
	tables[TableSDInstances] = &memdb.TableSchema{Name: TableSDInstances, Indexes: map[string]*memdb.IndexSchema{
		"id":   {Name: "id", Unique: true, Indexer: keyIndex[*SDInstance]((*SDInstance).key)},
		"task": {Name: "task", AllowMissing: true, Indexer: keyIndex[*SDInstance](func(i *SDInstance) string { return i.TaskARN })},
	}}
	tables[TableSDOperations] = &memdb.TableSchema{Name: TableSDOperations, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*SDOperation](func(o *SDOperation) string { return o.ID })},
	}}
}

// SDNamespace returns the namespace of that ID, or nil.
func (s *Snapshot) SDNamespace(id string) *SDNamespace {
	return first[*SDNamespace](s.txn, TableSDNamespaces, "id", id)
}

// SDNamespaceByARN returns the namespace of that ARN, or nil.
func (s *Snapshot) SDNamespaceByARN(arn string) *SDNamespace {
	return first[*SDNamespace](s.txn, TableSDNamespaces, "arn", arn)
}

// SDNamespacesByName calls fn for every namespace of that name (names are
// unique per type, not across types), in ID order.
func (s *Snapshot) SDNamespacesByName(name string, fn func(*SDNamespace) bool) {
	it, err := s.txn.Get(TableSDNamespaces, "name", name)
	each(it, err, fn)
}

// SDNamespaces calls fn for every namespace whose ID sorts after after
// ("" for all), in ID order, until fn returns false.
func (s *Snapshot) SDNamespaces(after string, fn func(*SDNamespace) bool) {
	it, err := s.txn.LowerBound(TableSDNamespaces, "id", after)
	each(it, err, func(n *SDNamespace) bool {
		if after != "" && n.ID <= after {
			return true
		}
		return fn(n)
	})
}

// SDService returns the service of that ID, or nil.
func (s *Snapshot) SDService(id string) *SDService {
	return first[*SDService](s.txn, TableSDServices, "id", id)
}

// SDServiceByARN returns the service of that ARN, or nil.
func (s *Snapshot) SDServiceByARN(arn string) *SDService {
	return first[*SDService](s.txn, TableSDServices, "arn", arn)
}

// SDServiceByName returns the service of that name in a namespace, or nil.
func (s *Snapshot) SDServiceByName(namespaceID, name string) *SDService {
	return first[*SDService](s.txn, TableSDServices, "ns", namespaceID, name)
}

// SDServices calls fn for every service whose ID sorts after after ("" for
// all), in ID order, until fn returns false.
func (s *Snapshot) SDServices(after string, fn func(*SDService) bool) {
	it, err := s.txn.LowerBound(TableSDServices, "id", after)
	each(it, err, func(v *SDService) bool {
		if after != "" && v.ID <= after {
			return true
		}
		return fn(v)
	})
}

// SDNamespaceServices calls fn for every service of a namespace, in name
// order, until fn returns false.
func (s *Snapshot) SDNamespaceServices(namespaceID string, fn func(*SDService) bool) {
	it, err := s.txn.Get(TableSDServices, "ns_prefix", namespaceID)
	each(it, err, fn)
}

// SDInstance returns an instance of a service, or nil.
func (s *Snapshot) SDInstance(serviceID, id string) *SDInstance {
	return first[*SDInstance](s.txn, TableSDInstances, "id", SDInstanceKey(serviceID, id))
}

// SDInstances calls fn for every instance of a service whose ID sorts
// after after ("" for all), in ID order, until fn returns false.
func (s *Snapshot) SDInstances(serviceID, after string, fn func(*SDInstance) bool) {
	prefix := serviceID + "/"
	it, err := s.txn.LowerBound(TableSDInstances, "id", prefix+after)
	each(it, err, func(i *SDInstance) bool {
		if i.ServiceID != serviceID {
			return false
		}
		if after != "" && i.ID <= after {
			return true
		}
		return fn(i)
	})
}

// SDInstancesByTask calls fn for every instance registered for a task
// (by TaskARN), in key order, until fn returns false.
func (s *Snapshot) SDInstancesByTask(taskARN string, fn func(*SDInstance) bool) {
	if taskARN == "" {
		return
	}
	it, err := s.txn.Get(TableSDInstances, "task", taskARN)
	each(it, err, fn)
}

// SDOperation returns the operation of that ID, or nil.
func (s *Snapshot) SDOperation(id string) *SDOperation {
	return first[*SDOperation](s.txn, TableSDOperations, "id", id)
}

// SDOperations calls fn for every operation whose ID sorts after after
// ("" for all), in ID order, until fn returns false.
func (s *Snapshot) SDOperations(after string, fn func(*SDOperation) bool) {
	it, err := s.txn.LowerBound(TableSDOperations, "id", after)
	each(it, err, func(o *SDOperation) bool {
		if after != "" && o.ID <= after {
			return true
		}
		return fn(o)
	})
}

// WatchSD returns a channel closed when any namespace, service, instance
// or operation changes (callers also select on Abandoned).
func (s *Snapshot) WatchSD() <-chan struct{} {
	it, err := s.txn.Get(TableMeta, "id", sdMetaKey)
	if err != nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return it.WatchCh()
}

// touchSD marks a change of an SD table for WatchSD.
func (t *Txn) touchSD(table string) error {
	if !sdTables[table] {
		return nil
	}
	old := first[*meta](t.txn, TableMeta, "id", sdMetaKey)
	n := uint64(1)
	if old != nil {
		n = old.Index + 1
	}
	if err := t.w.Insert(TableMeta, &meta{Key: sdMetaKey, Index: n}); err != nil {
		return err
	}
	return nil
}

// PutSDNamespace inserts or replaces a namespace.
func (t *Txn) PutSDNamespace(n *SDNamespace) error { return t.Put(TableSDNamespaces, n) }

// DeleteSDNamespace removes a namespace.
func (t *Txn) DeleteSDNamespace(n *SDNamespace) error { return t.Delete(TableSDNamespaces, n) }

// PutSDService inserts or replaces a service.
func (t *Txn) PutSDService(v *SDService) error { return t.Put(TableSDServices, v) }

// DeleteSDService removes a service.
func (t *Txn) DeleteSDService(v *SDService) error { return t.Delete(TableSDServices, v) }

// PutSDInstance inserts or replaces an instance.
func (t *Txn) PutSDInstance(i *SDInstance) error { return t.Put(TableSDInstances, i) }

// DeleteSDInstance removes an instance.
func (t *Txn) DeleteSDInstance(i *SDInstance) error { return t.Delete(TableSDInstances, i) }

// PutSDOperation inserts or replaces an operation.
func (t *Txn) PutSDOperation(o *SDOperation) error { return t.Put(TableSDOperations, o) }

// DeleteSDOperation removes an operation.
func (t *Txn) DeleteSDOperation(o *SDOperation) error { return t.Delete(TableSDOperations, o) }
