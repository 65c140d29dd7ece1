package state

import (
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"
)

// TableSSMParameters holds SSM Parameter Store parameters, by name.
const TableSSMParameters = "ssmparameters"

// Parameter is an SSM parameter with every kept version (at most 100,
// oldest first). SecureString values stay sealed (package seal): only the
// SSM API opens them.
type Parameter struct {
	Name     string
	Versions []ParameterVersion
	Tags     []ParameterTag
}

// ParameterVersion is one version of a parameter.
type ParameterVersion struct {
	Version        int64
	Type           string
	Value          string
	Sealed         []byte
	Description    string
	AllowedPattern string
	KeyID          string
	Tier           string
	DataType       string
	Labels         []string
	Modified       time.Time
	User           string
}

// ParameterTag is an SSM tag.
type ParameterTag struct {
	Key, Value string
}

// Latest returns the parameter's newest version.
func (p *Parameter) Latest() *ParameterVersion { return &p.Versions[len(p.Versions)-1] }

// Find returns the version numbered v, or nil.
func (p *Parameter) Find(v int64) *ParameterVersion {
	for i := range p.Versions {
		if p.Versions[i].Version == v {
			return &p.Versions[i]
		}
	}
	return nil
}

// Labeled returns the version carrying label, or nil.
func (p *Parameter) Labeled(label string) *ParameterVersion {
	for i := range p.Versions {
		for _, l := range p.Versions[i].Labels {
			if l == label {
				return &p.Versions[i]
			}
		}
	}
	return nil
}

// Clone returns a deep copy for a change.
func (p *Parameter) Clone() *Parameter {
	out := &Parameter{Name: p.Name, Tags: append([]ParameterTag(nil), p.Tags...)}
	out.Versions = make([]ParameterVersion, len(p.Versions))
	for i, v := range p.Versions {
		v.Labels = append([]string(nil), v.Labels...)
		out.Versions[i] = v
	}
	return out
}

func ssmSchema(tables map[string]*memdb.TableSchema) {
	tables[TableSSMParameters] = &memdb.TableSchema{Name: TableSSMParameters, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*Parameter](func(p *Parameter) string { return p.Name })},
	}}
}

// Parameter returns the parameter of that name, or nil.
func (s *Snapshot) Parameter(name string) *Parameter {
	return first[*Parameter](s.txn, TableSSMParameters, "id", name)
}

// Parameters calls fn for every parameter whose name begins with prefix,
// in name order, until fn returns false.
func (s *Snapshot) Parameters(prefix string, fn func(*Parameter) bool) {
	it, err := s.txn.LowerBound(TableSSMParameters, "id", prefix)
	each(it, err, func(p *Parameter) bool {
		if !strings.HasPrefix(p.Name, prefix) {
			return false
		}
		return fn(p)
	})
}
