package cql

import (
	"fmt"
	"strings"
)

// subjectKind is what a comparison looks at.
type subjectKind uint8

const (
	subjAgentConnected subjectKind = iota
	subjAgentVersion
	subjEC2InstanceID
	subjRegisteredAt
	subjRunningTasksCount
	subjTaskGroup
	subjAttribute
)

// subjectNames are the canonical spellings, indexed by subjectKind.
var subjectNames = [...]string{
	subjAgentConnected:    "agentConnected",
	subjAgentVersion:      "agentVersion",
	subjEC2InstanceID:     "ec2InstanceId",
	subjRegisteredAt:      "registeredAt",
	subjRunningTasksCount: "runningTasksCount",
	subjTaskGroup:         "task:group",
	subjAttribute:         "attribute:",
}

const attributePrefix = "attribute:"

// maxAttributeName is ECS's limit on attribute name length.
const maxAttributeName = 128

type subject struct {
	kind subjectKind
	name string // attribute name, for subjAttribute only
}

func (s subject) String() string {
	if s.kind == subjAttribute {
		return attributePrefix + s.name
	}
	return subjectNames[s.kind]
}

// lookupSubject resolves a subject word. Subject names and the attribute:
// prefix are case-insensitive; attribute names keep their case.
func lookupSubject(w string) (subject, string) {
	if len(w) >= len(attributePrefix) && eqFold(w[:len(attributePrefix)], attributePrefix) {
		name := w[len(attributePrefix):]
		if name == "" {
			return subject{}, "attribute name is missing after attribute:"
		}
		if len(name) > maxAttributeName {
			return subject{}, fmt.Sprintf("attribute name is %d characters long; the limit is %d", len(name), maxAttributeName)
		}
		for i := 0; i < len(name); i++ {
			if !isAttrNameChar(name[i]) {
				return subject{}, fmt.Sprintf("invalid character %q in attribute name %q; names may contain letters, digits, '-', '_', '.', '/' and '\\'", name[i], name)
			}
		}
		return subject{kind: subjAttribute, name: name}, ""
	}
	for k, n := range subjectNames {
		if subjectKind(k) != subjAttribute && eqFold(w, n) {
			return subject{kind: subjectKind(k)}, ""
		}
	}
	return subject{}, fmt.Sprintf("unknown subject %q; valid subjects are agentConnected, agentVersion, ec2InstanceId, registeredAt, runningTasksCount, task:group and attribute:NAME", w)
}

func isAttrNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '/' || c == '\\'
}

// op is a comparison operator.
type op uint8

const (
	opEq op = iota
	opNe
	opGt
	opGe
	opLt
	opLe
	opMatches
	opNotMatches
	opIn
	opNotIn
	opExists
	opNotExists
	numOps
)

// opSymbols are the canonical spellings, indexed by op.
var opSymbols = [numOps]string{
	opEq: "==", opNe: "!=", opGt: ">", opGe: ">=", opLt: "<", opLe: "<=",
	opMatches: "=~", opNotMatches: "!~", opIn: "in", opNotIn: "!in",
	opExists: "exists", opNotExists: "!exists",
}

// opWords are the word forms (matched case-insensitively).
var opWords = map[string]op{
	"equals": opEq, "not_equals": opNe,
	"greater_than": opGt, "greater_than_equal": opGe,
	"less_than": opLt, "less_than_equal": opLe,
	"matches": opMatches, "not_matches": opNotMatches,
	"in": opIn, "not_in": opNotIn,
	"exists": opExists, "not_exists": opNotExists,
}

func (o op) String() string { return opSymbols[o] }

// positive returns the operator o negates, and whether it negates one.
// Every negative operator is exactly the negation of its positive form.
func (o op) positive() (op, bool) {
	switch o {
	case opNe:
		return opEq, true
	case opNotMatches:
		return opMatches, true
	case opNotIn:
		return opIn, true
	case opNotExists:
		return opExists, true
	}
	return o, false
}

func (o op) isList() bool  { return o == opIn || o == opNotIn }
func (o op) isUnary() bool { return o == opExists || o == opNotExists }
func (o op) isRegex() bool { return o == opMatches || o == opNotMatches }

// opSet is a set of operators, one bit per op.
type opSet uint16

func setOf(ops ...op) opSet {
	var s opSet
	for _, o := range ops {
		s |= 1 << o
	}
	return s
}

func (s opSet) has(o op) bool { return s&(1<<o) != 0 }

func (s opSet) String() string {
	var names []string
	for o := range numOps {
		if s.has(o) {
			names = append(names, o.String())
		}
	}
	return strings.Join(names, ", ")
}

var (
	orderOps = setOf(opEq, opNe, opGt, opGe, opLt, opLe)
	setOps   = setOf(opEq, opNe, opIn, opNotIn, opMatches, opNotMatches)
	allOps   = opSet(1<<numOps - 1)
)

// validOps is the subject/operator validity table.
var validOps = [...]opSet{
	subjAgentConnected:    setOps,
	subjAgentVersion:      orderOps,
	subjEC2InstanceID:     setOps,
	subjRegisteredAt:      orderOps,
	subjRunningTasksCount: orderOps,
	subjTaskGroup:         setOps | setOf(opExists, opNotExists),
	subjAttribute:         allOps,
}
