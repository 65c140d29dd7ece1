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

// TableSTSCredentials holds STS's temporary credentials, by access key ID.
const TableSTSCredentials = "stscredentials"

// STSCredential is an issued temporary credential; its secret is sealed
// and its session token kept as a SHA-256 hash.
type STSCredential struct {
	AccessKeyID  string
	SealedSecret []byte
	TokenHash    []byte
	Expiration   time.Time
	Principal    string
	UserID       string
	RoleARN      string
	Policy       string
	Tags         []IAMTag
}

func stsSchema(tables map[string]*memdb.TableSchema) {
	tables[TableSTSCredentials] = &memdb.TableSchema{Name: TableSTSCredentials, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*STSCredential](func(c *STSCredential) string { return c.AccessKeyID })},
	}}
}

// STSCredential returns the credential of that access key ID, or nil.
func (s *Snapshot) STSCredential(accessKeyID string) *STSCredential {
	return first[*STSCredential](s.txn, TableSTSCredentials, "id", accessKeyID)
}

// STSCredentials calls fn for every credential in key order until fn
// returns false.
func (s *Snapshot) STSCredentials(fn func(*STSCredential) bool) {
	it, err := s.txn.LowerBound(TableSTSCredentials, "id", "")
	each(it, err, fn)
}
