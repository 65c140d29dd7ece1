package state

import (
	"fmt"
	"time"

	"github.com/hashicorp/go-memdb"

	"berth.dev/berth/internal/elb"
)

// ELBv2 tables.
const (
	TableLoadBalancers = "elbloadbalancers"
	TableListeners     = "elblisteners"
	TableRules         = "elbrules"
	TableTargetGroups  = "elbtargetgroups"
	TableTargets       = "elbtargets"
)

// LoadBalancer is an ELBv2 application or network load balancer.
type LoadBalancer struct {
	ARN            string
	ID             string
	Name           string
	Type           string
	Scheme         string
	IPAddressType  string
	Subnets        []string
	SecurityGroups []string
	// Address is the load balancer's IPv4 address from the server's pool.
	Address   string
	DNSName   string
	CreatedAt time.Time
	// State is provisioning until a data-plane node serves it, then active.
	State string
	// Attributes holds the attributes set (others take their defaults).
	Attributes map[string]string
	Tags       []elb.Tag
}

// Listener is a port of a load balancer.
type Listener struct {
	ARN             string
	ID              string
	LoadBalancerARN string
	Port            int
	Protocol        string
	SSLPolicy       string
	// Certificates are certificate ARNs, the default first.
	Certificates []string
	ALPNPolicy   []string
	Attributes   map[string]string
	Tags         []elb.Tag
}

// Rule is a listener rule; every listener has one default rule (Priority 0).
type Rule struct {
	ARN         string
	ID          string
	ListenerARN string
	Priority    int
	IsDefault   bool
	Conditions  []elb.RuleCondition
	Actions     []elb.Action
	Tags        []elb.Tag
}

// TargetGroup is an ELBv2 target group.
type TargetGroup struct {
	ARN             string
	ID              string
	Name            string
	Protocol        string
	ProtocolVersion string
	Port            int
	VpcID           string
	TargetType      string
	IPAddressType   string
	HealthCheck     elb.HealthCheck
	Attributes      map[string]string
	Tags            []elb.Tag
	CreatedAt       time.Time
}

// Target is a target registration of a target group.
type Target struct {
	TargetGroupARN   string
	ID               string
	Port             int
	AvailabilityZone string
	RegisteredAt     time.Time
	// DrainUntil is when a deregistered target's deregistration delay
	// ends (zero while registered).
	DrainUntil time.Time
}

// TargetKey orders a target group's targets by ID, then numerically by port.
func TargetKey(id string, port int) string { return fmt.Sprintf("%s:%05d", id, port) }

func (t *Target) key() string { return TargetKey(t.ID, t.Port) }

func elbSchema(tables map[string]*memdb.TableSchema) {
	tables[TableLoadBalancers] = &memdb.TableSchema{Name: TableLoadBalancers, Indexes: map[string]*memdb.IndexSchema{
		"id":   {Name: "id", Unique: true, Indexer: keyIndex[*LoadBalancer](func(l *LoadBalancer) string { return l.ARN })},
		"name": {Name: "name", Unique: true, Indexer: keyIndex[*LoadBalancer](func(l *LoadBalancer) string { return l.Name })},
	}}
	tables[TableListeners] = &memdb.TableSchema{Name: TableListeners, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*Listener](func(l *Listener) string { return l.ARN })},
		"lb": {Name: "lb", Unique: true, Indexer: compoundIndex[*Listener](func(l *Listener) (string, string) { return l.LoadBalancerARN, l.ARN })},
	}}
	tables[TableRules] = &memdb.TableSchema{Name: TableRules, Indexes: map[string]*memdb.IndexSchema{
		"id":       {Name: "id", Unique: true, Indexer: keyIndex[*Rule](func(r *Rule) string { return r.ARN })},
		"listener": {Name: "listener", Unique: true, Indexer: compoundIndex[*Rule](func(r *Rule) (string, string) { return r.ListenerARN, r.ARN })},
	}}
	tables[TableTargetGroups] = &memdb.TableSchema{Name: TableTargetGroups, Indexes: map[string]*memdb.IndexSchema{
		"id":   {Name: "id", Unique: true, Indexer: keyIndex[*TargetGroup](func(t *TargetGroup) string { return t.ARN })},
		"name": {Name: "name", Unique: true, Indexer: keyIndex[*TargetGroup](func(t *TargetGroup) string { return t.Name })},
	}}
	tables[TableTargets] = &memdb.TableSchema{Name: TableTargets, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: compoundIndex[*Target](func(t *Target) (string, string) { return t.TargetGroupARN, t.key() })},
	}}
}

// LoadBalancer returns a load balancer by ARN, or nil.
func (s *Snapshot) LoadBalancer(arn string) *LoadBalancer {
	return first[*LoadBalancer](s.txn, TableLoadBalancers, "id", arn)
}

// LoadBalancerByName returns a load balancer by name, or nil.
func (s *Snapshot) LoadBalancerByName(name string) *LoadBalancer {
	return first[*LoadBalancer](s.txn, TableLoadBalancers, "name", name)
}

// LoadBalancers calls fn for each load balancer in ARN order.
func (s *Snapshot) LoadBalancers(fn func(*LoadBalancer) bool) {
	it, err := s.txn.Get(TableLoadBalancers, "id_prefix", "")
	each(it, err, fn)
}

// WatchELB returns channels one of which closes when any ELB record
// changes (a caller selects on them and on Abandoned).
func (s *Snapshot) WatchELB() []<-chan struct{} {
	var out []<-chan struct{}
	for _, t := range []string{TableLoadBalancers, TableListeners, TableRules, TableTargetGroups, TableTargets} {
		it, err := s.txn.Get(t, "id_prefix", "")
		if err != nil {
			ch := make(chan struct{})
			close(ch)
			return []<-chan struct{}{ch}
		}
		out = append(out, it.WatchCh())
	}
	return out
}

// Listener returns a listener by ARN, or nil.
func (s *Snapshot) Listener(arn string) *Listener {
	return first[*Listener](s.txn, TableListeners, "id", arn)
}

// Listeners calls fn for each listener of a load balancer in ARN order.
func (s *Snapshot) Listeners(lbARN string, fn func(*Listener) bool) {
	it, err := s.txn.Get(TableListeners, "lb_prefix", lbARN)
	each(it, err, fn)
}

// AllListeners calls fn for every listener in ARN order.
func (s *Snapshot) AllListeners(fn func(*Listener) bool) {
	it, err := s.txn.Get(TableListeners, "id_prefix", "")
	each(it, err, fn)
}

// Rule returns a rule by ARN, or nil.
func (s *Snapshot) Rule(arn string) *Rule { return first[*Rule](s.txn, TableRules, "id", arn) }

// Rules calls fn for each rule of a listener in ARN order.
func (s *Snapshot) Rules(listenerARN string, fn func(*Rule) bool) {
	it, err := s.txn.Get(TableRules, "listener_prefix", listenerARN)
	each(it, err, fn)
}

// AllRules calls fn for every rule in ARN order.
func (s *Snapshot) AllRules(fn func(*Rule) bool) {
	it, err := s.txn.Get(TableRules, "id_prefix", "")
	each(it, err, fn)
}

// TargetGroup returns a target group by ARN, or nil.
func (s *Snapshot) TargetGroup(arn string) *TargetGroup {
	return first[*TargetGroup](s.txn, TableTargetGroups, "id", arn)
}

// TargetGroupByName returns a target group by name, or nil.
func (s *Snapshot) TargetGroupByName(name string) *TargetGroup {
	return first[*TargetGroup](s.txn, TableTargetGroups, "name", name)
}

// TargetGroups calls fn for each target group in ARN order.
func (s *Snapshot) TargetGroups(fn func(*TargetGroup) bool) {
	it, err := s.txn.Get(TableTargetGroups, "id_prefix", "")
	each(it, err, fn)
}

// Target returns one registration, or nil.
func (s *Snapshot) Target(tgARN, id string, port int) *Target {
	return first[*Target](s.txn, TableTargets, "id", tgARN, TargetKey(id, port))
}

// Targets calls fn for each registration of a target group, by ID then port.
func (s *Snapshot) Targets(tgARN string, fn func(*Target) bool) {
	it, err := s.txn.Get(TableTargets, "id_prefix", tgARN)
	each(it, err, fn)
}

// TargetGroupLoadBalancers returns the ARNs of the load balancers whose
// listeners' rules forward to the target group (at most one), sorted.
func (s *Snapshot) TargetGroupLoadBalancers(tgARN string) []string {
	seen := map[string]bool{}
	var out []string
	s.AllRules(func(r *Rule) bool {
		for _, a := range r.Actions {
			for _, t := range a.TargetGroups() {
				if t == tgARN {
					lb := elb.LoadBalancerOfListener(r.ListenerARN)
					if !seen[lb] {
						seen[lb] = true
						out = append(out, lb)
					}
				}
			}
		}
		return true
	})
	return out
}
