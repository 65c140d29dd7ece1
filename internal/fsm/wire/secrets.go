package wire

import "time"

// Secrets Manager command types (80-89 are Secrets Manager's).
const (
	TypeCreateSecret             Type = 80
	TypePutSecretValue           Type = 81
	TypeUpdateSecret             Type = 82
	TypeDeleteSecret             Type = 83
	TypeRestoreSecret            Type = 84
	TypeUpdateSecretVersionStage Type = 85
	TypeTagSecret                Type = 86
	TypeUntagSecret              Type = 87
)

// SMTag is a Secrets Manager tag.
type SMTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SMVersion is a secret version. Sealed is the value sealed by the
// proposing server (package seal, associated data the secret's ARN, a NUL
// byte and the version ID): the log never holds a secret value in the
// clear.
type SMVersion struct {
	ID        string    `json:"id"`
	Sealed    []byte    `json:"sealed"`
	Binary    bool      `json:"binary,omitempty"`
	Stages    []string  `json:"stages,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreateSecret creates a secret, with its first version (AWSCURRENT) when
// Version is set. A secret of the same name whose deletion date has passed
// is purged first.
type CreateSecret struct {
	Meta
	ARN         string     `json:"arn"`
	Name        string     `json:"name"`
	Description *string    `json:"description,omitempty"`
	KmsKeyID    *string    `json:"kmsKeyId,omitempty"`
	Tags        []SMTag    `json:"tags,omitempty"`
	NewVersion  *SMVersion `json:"version,omitempty"`
}

func (CreateSecret) Type() Type     { return TypeCreateSecret }
func (CreateSecret) Version() uint8 { return 1 }

// PutSecretValue adds a version. Its stages (AWSCURRENT when none) move
// off the versions that had them; moving AWSCURRENT labels the version
// that had it AWSPREVIOUS.
type PutSecretValue struct {
	Meta
	ARN        string    `json:"arn"`
	NewVersion SMVersion `json:"version"`
}

func (PutSecretValue) Type() Type     { return TypePutSecretValue }
func (PutSecretValue) Version() uint8 { return 1 }

// UpdateSecret changes a secret's description or KMS key ID, and adds a
// version (AWSCURRENT) when Version is set.
type UpdateSecret struct {
	Meta
	ARN         string     `json:"arn"`
	Description *string    `json:"description,omitempty"`
	KmsKeyID    *string    `json:"kmsKeyId,omitempty"`
	NewVersion  *SMVersion `json:"version,omitempty"`
}

func (UpdateSecret) Type() Type     { return TypeUpdateSecret }
func (UpdateSecret) Version() uint8 { return 1 }

// DeleteSecret schedules a secret's deletion at DeleteAfter, or (Force)
// deletes it at once.
type DeleteSecret struct {
	Meta
	ARN         string    `json:"arn"`
	Force       bool      `json:"force,omitempty"`
	DeleteAfter time.Time `json:"deleteAfter,omitzero"`
}

func (DeleteSecret) Type() Type     { return TypeDeleteSecret }
func (DeleteSecret) Version() uint8 { return 1 }

// RestoreSecret cancels a secret's scheduled deletion.
type RestoreSecret struct {
	Meta
	ARN string `json:"arn"`
}

func (RestoreSecret) Type() Type     { return TypeRestoreSecret }
func (RestoreSecret) Version() uint8 { return 1 }

// UpdateSecretVersionStage moves a staging label to MoveTo (from
// RemoveFrom, which must hold it when another version does), or removes
// it from RemoveFrom when MoveTo is empty. Moving AWSCURRENT labels the
// version that had it AWSPREVIOUS.
type UpdateSecretVersionStage struct {
	Meta
	ARN        string `json:"arn"`
	Stage      string `json:"stage"`
	MoveTo     string `json:"moveTo,omitempty"`
	RemoveFrom string `json:"removeFrom,omitempty"`
}

func (UpdateSecretVersionStage) Type() Type     { return TypeUpdateSecretVersionStage }
func (UpdateSecretVersionStage) Version() uint8 { return 1 }

// TagSecret adds or overwrites a secret's tags by key.
type TagSecret struct {
	Meta
	ARN  string  `json:"arn"`
	Tags []SMTag `json:"tags"`
}

func (TagSecret) Type() Type     { return TypeTagSecret }
func (TagSecret) Version() uint8 { return 1 }

// UntagSecret removes a secret's tags by key.
type UntagSecret struct {
	Meta
	ARN  string   `json:"arn"`
	Keys []string `json:"keys"`
}

func (UntagSecret) Type() Type     { return TypeUntagSecret }
func (UntagSecret) Version() uint8 { return 1 }

// TableSMSecrets holds Secrets Manager secrets (snapshot table, since
// version 6).
const TableSMSecrets = "smsecrets"

// SMSecret is a secret's snapshot record; its values stay sealed.
type SMSecret struct {
	ARN         string      `json:"arn"`
	Name        string      `json:"name"`
	Description *string     `json:"description,omitempty"`
	KmsKeyID    *string     `json:"kmsKeyId,omitempty"`
	Tags        []SMTag     `json:"tags,omitempty"`
	CreatedAt   time.Time   `json:"createdAt"`
	ChangedAt   time.Time   `json:"changedAt"`
	DeletedAt   *time.Time  `json:"deletedAt,omitempty"`
	DeleteAfter *time.Time  `json:"deleteAfter,omitempty"`
	Versions    []SMVersion `json:"versions,omitempty"`
	// ResourcePolicy is the secret's resource policy as given (since
	// snapshot version 8; stored, not enforced).
	ResourcePolicy string `json:"resourcePolicy,omitempty"`
}

// TypePutSecretResourcePolicy is Secrets Manager's resource policy
// command (103).
const TypePutSecretResourcePolicy Type = 103

// PutSecretResourcePolicy sets a live secret's resource policy; an empty
// Policy deletes it.
type PutSecretResourcePolicy struct {
	Meta
	ARN    string `json:"arn"`
	Policy string `json:"policy,omitempty"`
}

func (PutSecretResourcePolicy) Type() Type     { return TypePutSecretResourcePolicy }
func (PutSecretResourcePolicy) Version() uint8 { return 1 }
