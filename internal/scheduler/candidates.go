package scheduler

import (
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/cql"
)

// placer holds the state of one placement call against a Cluster: what the
// call placed so far and the columns its request needs. Only placed changes
// while the call runs.
type placer struct {
	c    *Cluster
	req  *Request
	task *Task
	// placed[i] counts the tasks this call put on instance i (it is
	// s.placed, zeroed again when the call releases s).
	placed []int32
	s      *scratch
	// group[i] counts req.Group's tasks on instance i before the call; nil
	// when no rule of the request counts them.
	group []int32
	attrs []attrRule
	cons  []consRule
}

// attrRule is a required attribute resolved against its column: want is
// the index of the required value, -1 for any value, -2 for a value no
// instance has.
type attrRule struct {
	attr Attribute
	col  *attrColumn
	want int32
}

// consRule is a constraint with, for memberOf, the expression's result on
// every instance before the call.
type consRule struct {
	distinct bool // distinctInstance, else memberOf
	expr     *cql.Expr
	member   []bool
}

func newPlacer(c *Cluster, req *Request) *placer {
	s := getScratch(len(c.inst))
	p := &placer{c: c, req: req, task: &req.Task, placed: s.placed, s: s}
	if req.Group != "" && needsGroup(req) {
		p.group = c.groupColumn(req.Group)
	}
	for _, a := range req.RequiredAttributes {
		r := attrRule{attr: a, col: c.attrColumn(a.Name), want: -1}
		if a.Value != nil {
			r.want = -2
			if j := slices.Index(r.col.values, *a.Value); j >= 0 {
				r.want = int32(j)
			}
		}
		p.attrs = append(p.attrs, r)
	}
	for _, k := range req.Constraints {
		r := consRule{distinct: k.Type == ConstraintDistinctInstance, expr: k.Expression}
		if !r.distinct {
			r.member = c.memberColumn(k.Expression)
		}
		p.cons = append(p.cons, r)
	}
	return p
}

// place records one more task of the call on instance i.
func (p *placer) place(i int32) {
	if p.placed[i] == 0 {
		p.s.touched = append(p.s.touched, i)
	}
	p.placed[i]++
}

// reason returns why instance i cannot take one more task of the request
// now, or "" when it can. The order of the checks decides the reported
// reason: status and agent, resources (CPU, memory, TCP ports, UDP ports,
// GPUs), required attributes, then the constraints in request order.
func (p *placer) reason(i int) string {
	if st := p.c.st[i]; st != eligible {
		return stateReason[st]
	}
	if r := p.resourceReason(i); r != "" {
		return r
	}
	return p.ruleReason(i)
}

// ruleReason checks the required attributes, then the constraints.
func (p *placer) ruleReason(i int) string {
	for _, a := range p.attrs {
		v := a.col.value[i]
		if v == a.col.missing || (a.want != -1 && v != a.want) {
			return ReasonAttribute
		}
	}
	return p.constraintReason(i)
}

// attributeDetail names the first required attribute instance i lacks (with
// the value required, when one is): the failure's detail for ATTRIBUTE.
func (p *placer) attributeDetail(i int) string {
	for _, a := range p.attrs {
		v := a.col.value[i]
		if v == a.col.missing || (a.want != -1 && v != a.want) {
			return AttributeDetail(a.attr)
		}
	}
	return ""
}

// memberView is an instance as the cluster query language sees it, with
// the tasks a call placed on it: runningTasksCount and task:group include
// them.
type memberView struct {
	in     *Instance
	placed int
	group  string
}

func (v *memberView) Attribute(name string) (string, bool) {
	s, ok := v.in.Attributes[name]
	return s, ok
}

func (v *memberView) AgentConnected() bool    { return v.in.Connected }
func (v *memberView) AgentVersion() string    { return v.in.AgentVersion }
func (v *memberView) EC2InstanceID() string   { return v.in.EC2InstanceID }
func (v *memberView) RegisteredAt() time.Time { return v.in.RegisteredAt }
func (v *memberView) RunningTasksCount() int  { return v.in.Tasks + v.placed }

// TaskGroups returns each group with tasks on the instance once, sorted.
func (v *memberView) TaskGroups() []string {
	groups := make([]string, 0, len(v.in.GroupCounts)+1)
	for g, n := range v.in.GroupCounts {
		if n > 0 {
			groups = append(groups, g)
		}
	}
	if v.placed > 0 && v.group != "" && !slices.Contains(groups, v.group) {
		groups = append(groups, v.group)
	}
	slices.SortFunc(groups, strings.Compare)
	return groups
}
