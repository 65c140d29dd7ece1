package wire

import "time"

// ACM command types (50-59 are ACM's).
const (
	TypeImportCertificate     Type = 50
	TypeDeleteCertificate     Type = 51
	TypeAddCertificateTags    Type = 52
	TypeRemoveCertificateTags Type = 53
)

// ACMTag is an ACM tag (its value is optional).
type ACMTag struct {
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

// ImportCertificate imports a certificate under a new ARN, or (Reimport)
// replaces the material of an existing one, keeping its ARN, tags and
// creation time. The private key is sealed by the proposing server
// (package seal, associated data the ARN): the log never holds it in the
// clear, and the applier stores the sealed bytes as they are.
type ImportCertificate struct {
	Meta
	ARN      string `json:"arn"`
	Reimport bool   `json:"reimport,omitempty"`
	// Certificate is the leaf's PEM, Chain the chain's PEM (may be empty).
	Certificate string `json:"certificate"`
	Chain       string `json:"chain,omitempty"`
	SealedKey   []byte `json:"sealedKey"`
	// NotAfter is the leaf's expiry, kept so that housekeeping and
	// renewal reminders need not parse it.
	NotAfter time.Time `json:"notAfter"`
	Tags     []ACMTag  `json:"tags,omitempty"`
}

func (ImportCertificate) Type() Type     { return TypeImportCertificate }
func (ImportCertificate) Version() uint8 { return 1 }

// DeleteCertificate deletes a certificate. The proposing server refuses a
// certificate a listener uses (ACM's ResourceInUseException).
type DeleteCertificate struct {
	Meta
	ARN string `json:"arn"`
}

func (DeleteCertificate) Type() Type     { return TypeDeleteCertificate }
func (DeleteCertificate) Version() uint8 { return 1 }

// AddCertificateTags adds or overwrites a certificate's tags by key.
type AddCertificateTags struct {
	Meta
	ARN  string   `json:"arn"`
	Tags []ACMTag `json:"tags"`
}

func (AddCertificateTags) Type() Type     { return TypeAddCertificateTags }
func (AddCertificateTags) Version() uint8 { return 1 }

// RemoveCertificateTags removes tags: a tag without a value removes its
// key whatever its value, one with a value only when the value matches.
type RemoveCertificateTags struct {
	Meta
	ARN  string   `json:"arn"`
	Tags []ACMTag `json:"tags"`
}

func (RemoveCertificateTags) Type() Type     { return TypeRemoveCertificateTags }
func (RemoveCertificateTags) Version() uint8 { return 1 }

// TableACMCertificates holds ACM certificates (snapshot table).
const TableACMCertificates = "acmcertificates"

// ACMCertificate is a certificate's snapshot record; its key stays sealed.
type ACMCertificate struct {
	ARN         string    `json:"arn"`
	Certificate string    `json:"certificate"`
	Chain       string    `json:"chain,omitempty"`
	SealedKey   []byte    `json:"sealedKey"`
	NotAfter    time.Time `json:"notAfter"`
	CreatedAt   time.Time `json:"createdAt"`
	ImportedAt  time.Time `json:"importedAt"`
	Tags        []ACMTag  `json:"tags,omitempty"`
}
