package scheduler

import (
	"slices"
	"sync"

	"berth.dev/berth/internal/cql"
)

// Cluster is a prepared, read-only view of a cluster's container instances:
// the instances in ID order with their free resources in compact arrays, plus columns (attribute values, group counts, memberOf
// results) computed the first time a request needs them and kept for the
// next ones. Build one per state snapshot and place every request of that
// snapshot against it; Place does exactly that for a single request.
//
// A Cluster never changes what it shows: placing tasks does not consume its
// resources (commit the plan, take a new snapshot, build a new Cluster). It
// is safe for concurrent use. It keeps pointers to the instances, which must
// not change while the Cluster is in use.
type Cluster struct {
	inst []*Instance // in ID order
	// Per instance, by index in inst: free CPU, memory, GPUs and task addresses
	// (registered minus used), eligibility, and whether it is deregistered
	// (status INACTIVE: not in the cluster for RunTask). Ports are read
	// from the instances, only for tasks with static ports.
	cpu, mem []int64
	gpu, eni []int32
	st       []state
	dereg    []bool

	registered int // ACTIVE or DRAINING instances

	mu      sync.Mutex // guards the column caches below
	attrs   map[string]*attrColumn
	groups  map[string][]int32
	members map[string][]bool
	spreads map[[2]string][]int64
}

// state is an instance's eligibility before resources are looked at.
type state uint8

const (
	eligible  state = iota // ACTIVE, agent connected
	agentDown              // ACTIVE, agent disconnected
	draining               // DRAINING
	unusable               // any other status
)

var stateReason = [...]string{eligible: "", agentDown: ReasonAgent, draining: ReasonDraining, unusable: ReasonInactive}

func stateOf(in *Instance) state {
	switch in.Status {
	case StatusActive:
		if !in.Connected {
			return agentDown
		}
		return eligible
	case StatusDraining:
		return draining
	}
	return unusable
}

// attrColumn is one attribute's value on every instance: value[i] indexes
// values, or is len(values) (missing) when instance i lacks the attribute.
type attrColumn struct {
	value   []int32
	values  []string
	missing int32
}

// NewCluster prepares the instances for placement. They may come in any
// order (the view sorts a copy unless they are sorted by ID already); IDs
// must be unique.
func NewCluster(instances []*Instance) *Cluster {
	sorted := instances
	if !slices.IsSortedFunc(instances, cmpID) {
		sorted = slices.Clone(instances)
		slices.SortStableFunc(sorted, cmpID)
	}
	n := len(sorted)
	c := &Cluster{
		inst: sorted,
		cpu:  make([]int64, n), mem: make([]int64, n), gpu: make([]int32, n), eni: make([]int32, n),
		st: make([]state, n), dereg: make([]bool, n),
	}
	for i, in := range sorted {
		c.cpu[i] = in.Registered.CPU - in.Used.CPU
		c.mem[i] = in.Registered.Memory - in.Used.Memory
		c.gpu[i] = int32(in.Registered.GPUs - in.Used.GPUs)
		c.eni[i] = int32(in.Registered.ENIs - in.Used.ENIs)
		c.st[i] = stateOf(in)
		c.dereg[i] = in.Status == StatusInactive
		if in.Status == StatusActive || in.Status == StatusDraining {
			c.registered++
		}
	}
	return c
}

// Registered counts the instances that are ACTIVE or DRAINING, ECS's
// registeredContainerInstancesCount. RunTask callers answer
// InvalidParameterException with NoContainerInstancesMessage when it is 0.
func (c *Cluster) Registered() int { return c.registered }

// attrColumn returns the column of attribute name, building it once.
func (c *Cluster) attrColumn(name string) *attrColumn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if col, ok := c.attrs[name]; ok {
		return col
	}
	col := &attrColumn{value: make([]int32, len(c.inst))}
	var index map[string]int32
	for i, in := range c.inst {
		v, ok := in.Attributes[name]
		if !ok {
			col.value[i] = -1 // replaced by missing below
			continue
		}
		// Few distinct values (zones, instance types): a scan beats
		// hashing. Switch to a map when there are many.
		vi := int32(-1)
		if index != nil {
			if x, seen := index[v]; seen {
				vi = x
			}
		} else {
			for j, s := range col.values {
				if s == v {
					vi = int32(j)
					break
				}
			}
		}
		if vi < 0 {
			vi = int32(len(col.values))
			col.values = append(col.values, v)
			if index != nil {
				index[v] = vi
			} else if len(col.values) > 16 {
				index = make(map[string]int32, 64)
				for j, s := range col.values {
					index[s] = int32(j)
				}
			}
		}
		col.value[i] = vi
	}
	col.missing = int32(len(col.values))
	for i, v := range col.value {
		if v < 0 {
			col.value[i] = col.missing
		}
	}
	if c.attrs == nil {
		c.attrs = map[string]*attrColumn{}
	}
	c.attrs[name] = col
	return col
}

// groupColumn returns each instance's number of tasks of group, building
// it once.
func (c *Cluster) groupColumn(group string) []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if col, ok := c.groups[group]; ok {
		return col
	}
	col := make([]int32, len(c.inst))
	for i, in := range c.inst {
		if len(in.GroupCounts) > 0 {
			col[i] = int32(in.GroupCounts[group])
		}
	}
	if c.groups == nil {
		c.groups = map[string][]int32{}
	}
	c.groups[group] = col
	return col
}

// spreadCounts returns, for each value of attribute name (missing last),
// the number of group's tasks on the instances with that value, computed
// once. Callers must not modify it.
func (c *Cluster) spreadCounts(name, group string, col *attrColumn, groups []int32) []int64 {
	key := [2]string{name, group}
	c.mu.Lock()
	defer c.mu.Unlock()
	if counts, ok := c.spreads[key]; ok {
		return counts
	}
	counts := make([]int64, len(col.values)+1)
	if groups != nil {
		for i, v := range col.value {
			counts[v] += int64(groups[i])
		}
	}
	if c.spreads == nil {
		c.spreads = map[[2]string][]int64{}
	}
	c.spreads[key] = counts
	return counts
}

// memberColumn returns whether each instance, as the view shows it, matches
// the expression, evaluating it once per canonical expression.
func (c *Cluster) memberColumn(e *cql.Expr) []bool {
	key := e.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if col, ok := c.members[key]; ok {
		return col
	}
	col := make([]bool, len(c.inst))
	var v memberView
	for i, in := range c.inst {
		v = memberView{in: in}
		col[i] = e.Match(&v)
	}
	if c.members == nil {
		c.members = map[string][]bool{}
	}
	c.members[key] = col
	return col
}
