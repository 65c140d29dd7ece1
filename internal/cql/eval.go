package cql

import (
	"cmp"
	"slices"
	"strconv"
)

// match evaluates a negative operator as the negation of its positive form,
// so a missing attribute (false for every positive operator) satisfies
// !=, !in, !~ and !exists.
func (c *cmpNode) match(in Instance) bool {
	o, negated := c.op.positive()
	return c.eval(in, o) != negated
}

// eval evaluates the comparison for a positive operator o.
func (c *cmpNode) eval(in Instance, o op) bool {
	switch c.subj.kind {
	case subjAgentConnected:
		v := in.AgentConnected()
		if o == opMatches {
			return c.re.MatchString(strconv.FormatBool(v))
		}
		return slices.Contains(c.bools, v)
	case subjAgentVersion:
		v, ok := parseVersion(in.AgentVersion())
		if !ok {
			return false // an unknown version is treated like a missing attribute
		}
		return ordered(compareVersions(v, c.vers[0]), o)
	case subjEC2InstanceID:
		return c.matchString(in.EC2InstanceID(), o)
	case subjRegisteredAt:
		return ordered(in.RegisteredAt().Compare(c.times[0]), o)
	case subjRunningTasksCount:
		return ordered(cmp.Compare(int64(in.RunningTasksCount()), c.ints[0]), o)
	case subjTaskGroup:
		// True when some task's group satisfies the operator.
		for _, g := range in.TaskGroups() {
			if g != "" && (o == opExists || c.matchString(g, o)) {
				return true
			}
		}
		return false
	case subjAttribute:
		v, ok := in.Attribute(c.subj.name)
		if !ok {
			return false
		}
		switch o {
		case opExists:
			return true
		case opGt, opGe, opLt, opLe:
			return ordered(compareAttr(v, c.args[0]), o)
		}
		return c.matchString(v, o)
	}
	return false
}

// matchString evaluates ==, in and =~ against a string value.
func (c *cmpNode) matchString(v string, o op) bool {
	switch o {
	case opMatches:
		return c.re.MatchString(v)
	case opEq, opIn:
		return slices.Contains(c.args, v)
	}
	return false
}

// ordered turns a three-way comparison into the result of o.
func ordered(r int, o op) bool {
	switch o {
	case opEq:
		return r == 0
	case opGt:
		return r > 0
	case opGe:
		return r >= 0
	case opLt:
		return r < 0
	case opLe:
		return r <= 0
	}
	return false
}
