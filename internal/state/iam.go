package state

import (
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"
)

// TableIAMRoles holds IAM roles, by lower-cased name (IAM role names are
// unique regardless of case).
const TableIAMRoles = "iamroles"

// IAMRole is an IAM role with its inline policies, attached managed
// policy ARNs and tags. Revision counts its changes: updates name the
// revision they were computed from, so concurrent updates do not lose
// each other's changes.
type IAMRole struct {
	Name                string
	ID                  string
	ARN                 string
	Path                string
	AssumeRolePolicy    string
	Description         string
	MaxSessionDuration  int32
	PermissionsBoundary string
	CreatedAt           time.Time
	Tags                []IAMTag
	// Inline are the inline policies in name order; Attached the
	// attached policy ARNs in attachment order.
	Inline   []IAMInlinePolicy
	Attached []string
	Revision uint64
}

// IAMTag is a tag of an IAM resource.
type IAMTag struct{ Key, Value string }

// IAMInlinePolicy is a role's inline policy.
type IAMInlinePolicy struct{ Name, Document string }

// IAMRoleKey is the table key of a role name.
func IAMRoleKey(name string) string { return strings.ToLower(name) }

func iamSchema(tables map[string]*memdb.TableSchema) {
	tables[TableIAMRoles] = &memdb.TableSchema{Name: TableIAMRoles, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*IAMRole](func(r *IAMRole) string { return IAMRoleKey(r.Name) })},
	}}
}

// IAMRole returns the role of that name (any case), or nil.
func (s *Snapshot) IAMRole(name string) *IAMRole {
	return first[*IAMRole](s.txn, TableIAMRoles, "id", IAMRoleKey(name))
}

// IAMRoles calls fn for every role in key order until fn returns false.
func (s *Snapshot) IAMRoles(fn func(*IAMRole) bool) {
	it, err := s.txn.LowerBound(TableIAMRoles, "id", "")
	each(it, err, fn)
}
