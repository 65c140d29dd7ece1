package state

import (
	"time"

	"github.com/hashicorp/go-memdb"
)

// TableSMSecrets holds Secrets Manager secrets, by ARN (and by name).
const TableSMSecrets = "smsecrets"

// Secret is a Secrets Manager secret with its versions. Each version's
// value is kept sealed (package seal, associated data the secret's ARN,
// a NUL byte and the version ID): only the Secrets Manager API opens it.
type Secret struct {
	ARN         string
	Name        string
	Description *string
	// KmsKeyID is stored and answered as given; berth seals with its own
	// state key, not with KMS.
	KmsKeyID  *string
	Tags      []SecretTag
	CreatedAt time.Time
	// ChangedAt is the last change of the secret or its versions.
	ChangedAt time.Time
	// DeletedAt and DeleteAfter are set while the secret is scheduled for
	// deletion (DeleteSecret with a recovery window).
	DeletedAt   *time.Time
	DeleteAfter *time.Time
	// Versions in creation order.
	Versions []SecretVersion
	// ResourcePolicy is the resource policy as given ("" when none);
	// stored, not enforced.
	ResourcePolicy string
}

// SecretTag is a Secrets Manager tag.
type SecretTag struct {
	Key   string
	Value string
}

// SecretVersion is one version of a secret's value.
type SecretVersion struct {
	ID string
	// Sealed is the sealed value; Binary tells SecretBinary from
	// SecretString.
	Sealed    []byte
	Binary    bool
	Stages    []string
	CreatedAt time.Time
}

// Deleted reports whether the secret is scheduled for deletion.
func (s *Secret) Deleted() bool { return s.DeletedAt != nil }

// Version returns the version of that ID, or nil.
func (s *Secret) Version(id string) *SecretVersion {
	for i := range s.Versions {
		if s.Versions[i].ID == id {
			return &s.Versions[i]
		}
	}
	return nil
}

// Staged returns the version that carries a staging label, or nil.
func (s *Secret) Staged(stage string) *SecretVersion {
	for i := range s.Versions {
		for _, st := range s.Versions[i].Stages {
			if st == stage {
				return &s.Versions[i]
			}
		}
	}
	return nil
}

func secretsSchema(tables map[string]*memdb.TableSchema) {
	tables[TableSMSecrets] = &memdb.TableSchema{Name: TableSMSecrets, Indexes: map[string]*memdb.IndexSchema{
		"id":   {Name: "id", Unique: true, Indexer: keyIndex[*Secret](func(s *Secret) string { return s.ARN })},
		"name": {Name: "name", Unique: true, Indexer: keyIndex[*Secret](func(s *Secret) string { return s.Name })},
	}}
}

// Secret returns the secret of that ARN, or nil.
func (s *Snapshot) Secret(arn string) *Secret {
	return first[*Secret](s.txn, TableSMSecrets, "id", arn)
}

// SecretByName returns the secret of that name, or nil.
func (s *Snapshot) SecretByName(name string) *Secret {
	return first[*Secret](s.txn, TableSMSecrets, "name", name)
}

// Secrets calls fn for every secret in ARN order until fn returns false.
func (s *Snapshot) Secrets(fn func(*Secret) bool) {
	it, err := s.txn.Get(TableSMSecrets, "id_prefix", "")
	each(it, err, fn)
}
