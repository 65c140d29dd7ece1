package state

import (
	"time"

	"github.com/hashicorp/go-memdb"
)

// TableACMCertificates holds ACM certificates, by ARN.
const TableACMCertificates = "acmcertificates"

// Certificate is an imported ACM certificate. Its private key is kept
// sealed (package seal, associated data the ARN): only the ACM API opens
// it, for the load balancers that use the certificate.
type Certificate struct {
	ARN string
	// CertificatePEM is the leaf, ChainPEM the chain (may be empty).
	CertificatePEM string
	ChainPEM       string
	SealedKey      []byte
	NotAfter       time.Time
	CreatedAt      time.Time
	ImportedAt     time.Time
	Tags           []CertificateTag
}

// CertificateTag is an ACM tag; Value is optional.
type CertificateTag struct {
	Key   string
	Value *string
}

func acmSchema(tables map[string]*memdb.TableSchema) {
	tables[TableACMCertificates] = &memdb.TableSchema{Name: TableACMCertificates, Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: keyIndex[*Certificate](func(c *Certificate) string { return c.ARN })},
	}}
}

// Certificate returns the certificate of that ARN, or nil.
func (s *Snapshot) Certificate(arn string) *Certificate {
	return first[*Certificate](s.txn, TableACMCertificates, "id", arn)
}

// Certificates calls fn for every certificate whose ARN sorts after after
// ("" for all), in ARN order, until fn returns false.
func (s *Snapshot) Certificates(after string, fn func(*Certificate) bool) {
	it, err := s.txn.LowerBound(TableACMCertificates, "id", after)
	each(it, err, func(c *Certificate) bool {
		if after != "" && c.ARN == after {
			return true
		}
		return fn(c)
	})
}

// WatchCertificates returns a channel closed when any certificate is
// imported, re-imported, tagged or deleted.
func (s *Snapshot) WatchCertificates() <-chan struct{} {
	it, err := s.txn.Get(TableACMCertificates, "id_prefix", "")
	if err != nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return it.WatchCh()
}
