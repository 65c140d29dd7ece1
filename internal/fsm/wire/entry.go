package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Type identifies a command in the log. Values are stable forever: append,
// never renumber or reuse.
type Type uint8

// Command types.
const (
	TypeCreateCluster                 Type = 1
	TypeUpdateCluster                 Type = 2
	TypePutClusterCapacityProviders   Type = 3
	TypeDeleteCluster                 Type = 4
	TypeRegisterTaskDefinition        Type = 5
	TypeDeregisterTaskDefinition      Type = 6
	TypeDeleteTaskDefinitions         Type = 7
	TypeRegisterContainerInstance     Type = 8
	TypeDeregisterContainerInstance   Type = 9
	TypeUpdateContainerInstancesState Type = 10
	TypePutAttributes                 Type = 11
	TypeDeleteAttributes              Type = 12
	TypeTagResource                   Type = 13
	TypeUntagResource                 Type = 14
	TypePutAccountSetting             Type = 15
	TypeDeleteAccountSetting          Type = 16
	TypeRunTask                       Type = 17
	TypeStopTask                      Type = 18
	TypeTaskStateChange               Type = 19
	TypeContainerStateChange          Type = 20
	TypeTaskHealth                    Type = 21
	TypeInstanceConnection            Type = 22
	TypeResetConnections              Type = 23
	TypeCollectGarbage                Type = 24
	TypeCreateService                 Type = 25
	TypeUpdateService                 Type = 26
	TypeDeleteService                 Type = 27
	TypeServiceRound                  Type = 28
	TypeServicePlacement              Type = 29
)

// typeNames names every command type, for errors, tools and tests.
var typeNames = map[Type]string{
	TypeCreateCluster: "CreateCluster", TypeUpdateCluster: "UpdateCluster",
	TypePutClusterCapacityProviders: "PutClusterCapacityProviders", TypeDeleteCluster: "DeleteCluster",
	TypeRegisterTaskDefinition: "RegisterTaskDefinition", TypeDeregisterTaskDefinition: "DeregisterTaskDefinition",
	TypeDeleteTaskDefinitions: "DeleteTaskDefinitions", TypeRegisterContainerInstance: "RegisterContainerInstance",
	TypeDeregisterContainerInstance: "DeregisterContainerInstance", TypeUpdateContainerInstancesState: "UpdateContainerInstancesState",
	TypePutAttributes: "PutAttributes", TypeDeleteAttributes: "DeleteAttributes",
	TypeTagResource: "TagResource", TypeUntagResource: "UntagResource",
	TypePutAccountSetting: "PutAccountSetting", TypeDeleteAccountSetting: "DeleteAccountSetting",
	TypeRunTask: "RunTask", TypeStopTask: "StopTask", TypeTaskStateChange: "TaskStateChange",
	TypeContainerStateChange: "ContainerStateChange", TypeTaskHealth: "TaskHealth",
	TypeInstanceConnection: "InstanceConnection", TypeResetConnections: "ResetConnections",
	TypeCollectGarbage: "CollectGarbage", TypeCreateService: "CreateService", TypeUpdateService: "UpdateService",
	TypeDeleteService: "DeleteService", TypeServiceRound: "ServiceRound", TypeServicePlacement: "ServicePlacement",
	TypeImportCertificate: "ImportCertificate", TypeDeleteCertificate: "DeleteCertificate",
	TypeAddCertificateTags: "AddCertificateTags", TypeRemoveCertificateTags: "RemoveCertificateTags",
	TypeCreateSDNamespace: "CreateSDNamespace", TypeUpdateSDNamespace: "UpdateSDNamespace", TypeDeleteSDNamespace: "DeleteSDNamespace",
	TypeCreateSDService: "CreateSDService", TypeUpdateSDService: "UpdateSDService", TypeDeleteSDService: "DeleteSDService",
	TypeUpdateSDServiceAttributes: "UpdateSDServiceAttributes", TypeDeleteSDServiceAttributes: "DeleteSDServiceAttributes",
	TypeRegisterSDInstance: "RegisterSDInstance", TypeDeregisterSDInstance: "DeregisterSDInstance",
	TypeUpdateSDInstanceHealth: "UpdateSDInstanceHealth", TypeTagSDResource: "TagSDResource", TypeUntagSDResource: "UntagSDResource",
	// Secrets Manager
	TypeCreateSecret: "CreateSecret", TypePutSecretValue: "PutSecretValue", TypeUpdateSecret: "UpdateSecret",
	TypeDeleteSecret: "DeleteSecret", TypeRestoreSecret: "RestoreSecret", TypeUpdateSecretVersionStage: "UpdateSecretVersionStage",
	TypeTagSecret: "TagSecret", TypeUntagSecret: "UntagSecret",
	// SSM Parameter Store
	TypePutParameter: "PutParameter", TypeDeleteParameters: "DeleteParameters",
	TypeLabelParameterVersion: "LabelParameterVersion", TypeUnlabelParameterVersion: "UnlabelParameterVersion",
	TypeAddParameterTags: "AddParameterTags", TypeRemoveParameterTags: "RemoveParameterTags",
	// IAM
	TypeCreateIAMRole: "CreateIAMRole", TypeUpdateIAMRole: "UpdateIAMRole", TypeDeleteIAMRole: "DeleteIAMRole",
	TypeIssueSTSCredentials: "IssueSTSCredentials",
	TypeCreateIAMPolicy:     "CreateIAMPolicy", TypeUpdateIAMPolicy: "UpdateIAMPolicy", TypeDeleteIAMPolicy: "DeleteIAMPolicy",
	TypePutSecretResourcePolicy: "PutSecretResourcePolicy",
}

// Types returns every command type, in numeric order.
func Types() []Type {
	out := make([]Type, 0, len(typeNames))
	for t := Type(1); t < IgnorableFlag; t++ {
		if _, ok := typeNames[t]; ok {
			out = append(out, t)
		}
	}
	return out
}

// String names the type ("RunTask"), or "type N" for an unknown one.
func (t Type) String() string {
	if n, ok := typeNames[t&^IgnorableFlag]; ok {
		return n
	}
	return fmt.Sprintf("type %d", uint8(t&^IgnorableFlag))
}

// IgnorableFlag marks a command type that older servers may skip.
const IgnorableFlag Type = 0x80

// Meta is stamped on every command by the proposing server.
type Meta struct {
	// Now is the command's time; appliers use it instead of a clock.
	Now time.Time `json:"now"`
	// Principal is the ARN of the caller.
	Principal string `json:"principal,omitempty"`
}

// Stamp returns the command's Meta.
func (m Meta) Stamp() Meta { return m }

// Command is a command payload of the current version of its type.
type Command interface {
	Type() Type
	Version() uint8
	Stamp() Meta
}

// Encode returns the log entry for c.
func Encode(c Command) ([]byte, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode command %s: %w", c.Type(), err)
	}
	out := make([]byte, 0, len(payload)+2)
	out = append(out, byte(c.Type()), c.Version())
	return append(out, payload...), nil
}

// ErrShortEntry is returned for a log entry too short to hold a header.
var ErrShortEntry = errors.New("wire: log entry shorter than its header")

// Split returns a log entry's type, version and payload.
func Split(entry []byte) (Type, uint8, []byte, error) {
	if len(entry) < 2 {
		return 0, 0, nil, ErrShortEntry
	}
	return Type(entry[0]), entry[1], entry[2:], nil
}
