package wire

import "time"

// IAM command types (96-99 are IAM's).
const (
	TypeCreateIAMRole Type = 96
	TypeUpdateIAMRole Type = 97
	TypeDeleteIAMRole Type = 98
)

// TableIAMRoles holds IAM roles (snapshot table, since version 7).
const TableIAMRoles = "iamroles"

// IAMTag is a tag of an IAM resource.
type IAMTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// IAMInlinePolicy is a role's inline policy document (as given).
type IAMInlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// IAMRole is a role: a snapshot record and the payload of the role
// commands. Roles hold no secrets.
type IAMRole struct {
	Name                string            `json:"name"`
	ID                  string            `json:"id"`
	ARN                 string            `json:"arn"`
	Path                string            `json:"path"`
	AssumeRolePolicy    string            `json:"assumeRolePolicy"`
	Description         string            `json:"description,omitempty"`
	MaxSessionDuration  int32             `json:"maxSessionDuration"`
	PermissionsBoundary string            `json:"permissionsBoundary,omitempty"`
	CreatedAt           time.Time         `json:"createdAt"`
	Tags                []IAMTag          `json:"tags,omitempty"`
	Inline              []IAMInlinePolicy `json:"inline,omitempty"`
	Attached            []string          `json:"attached,omitempty"`
	Revision            uint64            `json:"revision"`
}

// CreateIAMRole creates a role; a role of the same name in any case is
// IAM's EntityAlreadyExists.
type CreateIAMRole struct {
	Meta
	Role IAMRole `json:"role"`
}

func (CreateIAMRole) Type() Type     { return TypeCreateIAMRole }
func (CreateIAMRole) Version() uint8 { return 1 }

// UpdateIAMRole replaces a role's record with Role, computed by the
// proposing server from the role at revision Base: a role changed since
// is a conflict the proposer retries, a role gone is NoSuchEntity.
type UpdateIAMRole struct {
	Meta
	Base uint64  `json:"base"`
	Role IAMRole `json:"role"`
}

func (UpdateIAMRole) Type() Type     { return TypeUpdateIAMRole }
func (UpdateIAMRole) Version() uint8 { return 1 }

// DeleteIAMRole deletes a role; one that still has inline or attached
// policies is IAM's DeleteConflict.
type DeleteIAMRole struct {
	Meta
	Name string `json:"name"`
}

func (DeleteIAMRole) Type() Type     { return TypeDeleteIAMRole }
func (DeleteIAMRole) Version() uint8 { return 1 }
