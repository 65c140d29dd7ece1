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

// TypeIssueSTSCredentials is STS's command (99).
const TypeIssueSTSCredentials Type = 99

// TableSTSCredentials holds STS's temporary credentials (snapshot table,
// since version 7).
const TableSTSCredentials = "stscredentials"

// STSCredential is an issued temporary credential: a snapshot record and
// the payload of IssueSTSCredentials. The secret access key is sealed by
// the proposing server (package seal, associated data the access key ID);
// the session token is kept only as its SHA-256: neither is ever in the
// clear in the log or a snapshot.
type STSCredential struct {
	AccessKeyID  string    `json:"accessKeyId"`
	SealedSecret []byte    `json:"sealedSecret"`
	TokenHash    []byte    `json:"tokenHash"`
	Expiration   time.Time `json:"expiration"`
	// Principal is the assumed-role ARN, UserID ROLEID:SESSION, RoleARN
	// the role's ARN.
	Principal string `json:"principal"`
	UserID    string `json:"userId"`
	RoleARN   string `json:"roleArn"`
	// Policy is the session policy (stored, not enforced) and Tags the
	// session tags.
	Policy string   `json:"policy,omitempty"`
	Tags   []IAMTag `json:"tags,omitempty"`
}

// IssueSTSCredentials stores a temporary credential and drops every
// credential expired as of the command's time.
type IssueSTSCredentials struct {
	Meta
	Credential STSCredential `json:"credential"`
}

func (IssueSTSCredentials) Type() Type     { return TypeIssueSTSCredentials }
func (IssueSTSCredentials) Version() uint8 { return 1 }
