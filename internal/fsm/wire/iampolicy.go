package wire

import "time"

// IAM managed policy command types (100-102).
const (
	TypeCreateIAMPolicy Type = 100
	TypeUpdateIAMPolicy Type = 101
	TypeDeleteIAMPolicy Type = 102
)

// TableIAMPolicies holds the account's customer managed IAM policies
// (snapshot table, since version 8).
const TableIAMPolicies = "iampolicies"

// IAMPolicyVersion is one version of a managed policy's document (as
// given).
type IAMPolicyVersion struct {
	ID        string    `json:"id"`
	Document  string    `json:"document"`
	CreatedAt time.Time `json:"createdAt"`
}

// IAMPolicy is a customer managed policy: a snapshot record and the
// payload of the policy commands. Versions are oldest first; NextVersion
// is the number of the next version ID (v1, v2, ...), never reused.
type IAMPolicy struct {
	Name           string             `json:"name"`
	ID             string             `json:"id"`
	ARN            string             `json:"arn"`
	Path           string             `json:"path"`
	Description    string             `json:"description,omitempty"`
	CreatedAt      time.Time          `json:"createdAt"`
	UpdatedAt      time.Time          `json:"updatedAt"`
	DefaultVersion string             `json:"defaultVersion"`
	NextVersion    int                `json:"nextVersion"`
	Versions       []IAMPolicyVersion `json:"versions"`
	Tags           []IAMTag           `json:"tags,omitempty"`
	Revision       uint64             `json:"revision"`
}

// CreateIAMPolicy creates a managed policy; one of the same name in any
// case is IAM's EntityAlreadyExists.
type CreateIAMPolicy struct {
	Meta
	Policy IAMPolicy `json:"policy"`
}

func (CreateIAMPolicy) Type() Type     { return TypeCreateIAMPolicy }
func (CreateIAMPolicy) Version() uint8 { return 1 }

// UpdateIAMPolicy replaces a policy's record with Policy, computed by the
// proposing server from the policy at revision Base: a policy changed
// since is a conflict the proposer retries, a policy gone (or another of
// the same name) is NoSuchEntity.
type UpdateIAMPolicy struct {
	Meta
	Base   uint64    `json:"base"`
	Policy IAMPolicy `json:"policy"`
}

func (UpdateIAMPolicy) Type() Type     { return TypeUpdateIAMPolicy }
func (UpdateIAMPolicy) Version() uint8 { return 1 }

// DeleteIAMPolicy deletes the managed policy of that ARN; one attached to
// a role, or with versions besides the default, is IAM's DeleteConflict.
type DeleteIAMPolicy struct {
	Meta
	ARN string `json:"arn"`
}

func (DeleteIAMPolicy) Type() Type     { return TypeDeleteIAMPolicy }
func (DeleteIAMPolicy) Version() uint8 { return 1 }
