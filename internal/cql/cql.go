package cql

import (
	"fmt"
	"time"
)

// MaxLength is the longest expression Parse accepts, in characters. It is
// ECS's limit for memberOf expressions and ListContainerInstances filters.
const MaxLength = 2000

// Instance is what an expression is evaluated against: a container instance.
type Instance interface {
	// Attribute returns the value of the attribute NAME for attribute:NAME,
	// including the built-in ecs.* attributes, and whether it is set.
	Attribute(name string) (value string, ok bool)
	// AgentConnected reports whether the agent's session is up.
	AgentConnected() bool
	// AgentVersion is the agent's version, such as "1.80.0".
	AgentVersion() string
	// EC2InstanceID is the instance ID, such as "i-abcd1234".
	EC2InstanceID() string
	// RegisteredAt is when the container instance registered.
	RegisteredAt() time.Time
	// RunningTasksCount counts tasks whose desired status is RUNNING.
	RunningTasksCount() int
	// TaskGroups returns the group of every task on the instance whose
	// desired status is RUNNING, duplicates allowed.
	TaskGroups() []string
}

// Expr is a parsed, validated expression. It is immutable and safe for
// concurrent use. Only Parse creates one.
type Expr struct {
	root node
}

// SyntaxError reports why Parse rejected an expression.
type SyntaxError struct {
	// Pos is the 1-based character (not byte) position in the expression
	// where the problem was found; one past the last character when the
	// expression ended too early.
	Pos int
	// Msg is a user-facing description of the problem.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("position %d: %s", e.Pos, e.Msg)
}

// Match reports whether the instance satisfies the expression.
func (e *Expr) Match(in Instance) bool {
	return e.root.match(in)
}

// String returns the canonical form of the expression: symbol operators
// (==, !=, >, >=, <, <=, =~, !~, in, !in, exists, !exists), the words and,
// or and not, canonical subject spelling, single spaces, the fewest
// parentheses that keep the structure, and values quoted only when they
// must be. Parse(e.String()) yields an equal expression, unless the
// canonical form outgrows MaxLength.
func (e *Expr) String() string {
	var p printer
	p.node(e.root, precOr)
	return p.b.String()
}

// node is an element of the expression tree.
type node interface {
	match(in Instance) bool
}

// orNode is true when any child is. It has at least two children, none of
// them an orNode.
type orNode []node

// andNode is true when every child is. It has at least two children, none
// of them an andNode.
type andNode []node

// notNode negates its child.
type notNode struct{ x node }

func (n orNode) match(in Instance) bool {
	for _, x := range n {
		if x.match(in) {
			return true
		}
	}
	return false
}

func (n andNode) match(in Instance) bool {
	for _, x := range n {
		if !x.match(in) {
			return false
		}
	}
	return true
}

func (n notNode) match(in Instance) bool { return !n.x.match(in) }
