package state

import (
	"time"

	"github.com/hashicorp/go-memdb"
)

// TableIAMPolicies holds the account's customer managed IAM policies, by
// lower-cased name (IAM policy names are unique in an account regardless
// of case and path).
const TableIAMPolicies = "iampolicies"

// IAMPolicy is a customer managed policy with its versions (at most five,
// oldest first) and tags. DefaultVersion names the version in effect;
// NextVersion is the number of the next version created (IAM never reuses
// a version ID). Revision counts its changes, as a role's does.
type IAMPolicy struct {
	Name           string
	ID             string
	ARN            string
	Path           string
	Description    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DefaultVersion string
	NextVersion    int
	Versions       []IAMPolicyVersion
	Tags           []IAMTag
	Revision       uint64
}

// IAMPolicyVersion is one version of a managed policy's document.
type IAMPolicyVersion struct {
	ID        string
	Document  string
	CreatedAt time.Time
}

// Version returns the policy's version of that ID, or nil.
func (p *IAMPolicy) Version(id string) *IAMPolicyVersion {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

func iamPolicySchema(tables map[string]*memdb.TableSchema) {
	tables[TableIAMPolicies] = &memdb.TableSchema{Name: TableIAMPolicies, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*IAMPolicy](func(p *IAMPolicy) string { return IAMRoleKey(p.Name) })},
	}}
}

// IAMPolicy returns the managed policy of that name (any case), or nil.
func (s *Snapshot) IAMPolicy(name string) *IAMPolicy {
	return first[*IAMPolicy](s.txn, TableIAMPolicies, "id", IAMRoleKey(name))
}

// IAMPolicies calls fn for every managed policy in key order until fn
// returns false.
func (s *Snapshot) IAMPolicies(fn func(*IAMPolicy) bool) {
	it, err := s.txn.LowerBound(TableIAMPolicies, "id", "")
	each(it, err, fn)
}
