package wire

import "time"

// SSM Parameter Store command types (90-99 are SSM's).
const (
	TypePutParameter            Type = 90
	TypeDeleteParameters        Type = 91
	TypeLabelParameterVersion   Type = 92
	TypeUnlabelParameterVersion Type = 93
	TypeAddParameterTags        Type = 94
	TypeRemoveParameterTags     Type = 95
)

// SSMTag is an SSM tag.
type SSMTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SSMParameterVersion is one version of a parameter as the log and
// snapshots hold it. A SecureString's value is in Sealed (package seal,
// associated data the parameter's ARN, "#", the version in decimal); Value
// is then empty.
type SSMParameterVersion struct {
	Version        int64     `json:"version"`
	Type           string    `json:"type"`
	Value          string    `json:"value,omitempty"`
	Sealed         []byte    `json:"sealed,omitempty"`
	Description    string    `json:"description,omitempty"`
	AllowedPattern string    `json:"allowedPattern,omitempty"`
	KeyID          string    `json:"keyId,omitempty"`
	Tier           string    `json:"tier"`
	DataType       string    `json:"dataType"`
	Labels         []string  `json:"labels,omitempty"`
	Modified       time.Time `json:"modified"`
	User           string    `json:"user"`
}

// PutParameter creates a parameter (Version 1) or adds a version to it
// (Overwrite). Version is the version the proposing server computed (the
// sealed value's associated data names it): the applier refuses the
// command when the parameter's next version is another one (a concurrent
// write: SSM's TooManyUpdates).
type PutParameter struct {
	Meta
	Name      string              `json:"name"`
	Overwrite bool                `json:"overwrite,omitempty"`
	Value     SSMParameterVersion `json:"value"`
	Tags      []SSMTag            `json:"tags,omitempty"`
}

func (PutParameter) Type() Type     { return TypePutParameter }
func (PutParameter) Version() uint8 { return 1 }

// DeleteParameters deletes parameters by name; unknown names are reported,
// not refused (the result names the deleted and the unknown).
type DeleteParameters struct {
	Meta
	Names []string `json:"names"`
}

func (DeleteParameters) Type() Type     { return TypeDeleteParameters }
func (DeleteParameters) Version() uint8 { return 1 }

// LabelParameterVersion moves labels to a version (0: the latest).
type LabelParameterVersion struct {
	Meta
	Name             string   `json:"name"`
	ParameterVersion int64    `json:"version,omitempty"`
	Labels           []string `json:"labels"`
}

func (LabelParameterVersion) Type() Type     { return TypeLabelParameterVersion }
func (LabelParameterVersion) Version() uint8 { return 1 }

// UnlabelParameterVersion removes labels from a version.
type UnlabelParameterVersion struct {
	Meta
	Name             string   `json:"name"`
	ParameterVersion int64    `json:"version"`
	Labels           []string `json:"labels"`
}

func (UnlabelParameterVersion) Type() Type     { return TypeUnlabelParameterVersion }
func (UnlabelParameterVersion) Version() uint8 { return 1 }

// AddParameterTags adds or overwrites a parameter's tags by key.
type AddParameterTags struct {
	Meta
	Name string   `json:"name"`
	Tags []SSMTag `json:"tags"`
}

func (AddParameterTags) Type() Type     { return TypeAddParameterTags }
func (AddParameterTags) Version() uint8 { return 1 }

// RemoveParameterTags removes a parameter's tags by key.
type RemoveParameterTags struct {
	Meta
	Name string   `json:"name"`
	Keys []string `json:"keys"`
}

func (RemoveParameterTags) Type() Type     { return TypeRemoveParameterTags }
func (RemoveParameterTags) Version() uint8 { return 1 }

// TableSSMParameters holds SSM parameters (snapshot table, since version 6).
const TableSSMParameters = "ssmparameters"

// SSMParameter is a parameter's snapshot record: every kept version, oldest
// first; SecureString values stay sealed.
type SSMParameter struct {
	Name     string                `json:"name"`
	Versions []SSMParameterVersion `json:"versions"`
	Tags     []SSMTag              `json:"tags,omitempty"`
}
