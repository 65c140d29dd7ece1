package fsm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// appliers is the one table of every command type this server applies:
// how to decode each version it knows, and the rule that applies it. A
// test fails when a wire type has no entry, or an entry lacks a version up
// to its current one.
var appliers = map[wire.Type]applier{
	wire.TypeCreateCluster:                 handle(applyCreateCluster),
	wire.TypeUpdateCluster:                 handle(applyUpdateCluster),
	wire.TypePutClusterCapacityProviders:   handle(applyPutClusterCapacityProviders),
	wire.TypeDeleteCluster:                 handle(applyDeleteCluster),
	wire.TypeRegisterTaskDefinition:        handle(applyRegisterTaskDefinition),
	wire.TypeDeregisterTaskDefinition:      handle(applyDeregisterTaskDefinition),
	wire.TypeDeleteTaskDefinitions:         handle(applyDeleteTaskDefinitions, upgrade(1, wire.DeleteTaskDefinitionsV1.Upgrade)),
	wire.TypeRegisterContainerInstance:     handle(applyRegisterContainerInstance, upgrade(1, wire.RegisterContainerInstanceV1.Upgrade)),
	wire.TypeDeregisterContainerInstance:   handle(applyDeregisterContainerInstance),
	wire.TypeUpdateContainerInstancesState: handle(applyUpdateContainerInstancesState),
	wire.TypePutAttributes:                 handle(applyPutAttributes),
	wire.TypeDeleteAttributes:              handle(applyDeleteAttributes),
	wire.TypeTagResource:                   handle(applyTagResource, upgrade(1, wire.TagResourceV1.Upgrade)),
	wire.TypeUntagResource:                 handle(applyUntagResource, upgrade(1, wire.UntagResourceV1.Upgrade)),
	wire.TypePutAccountSetting:             handle(applyPutAccountSetting),
	wire.TypeDeleteAccountSetting:          handle(applyDeleteAccountSetting),
	wire.TypeRunTask:                       handle(applyRunTask, upgrade(1, wire.RunTaskV1.Upgrade), upgrade(2, wire.RunTaskV2.Upgrade)),
	wire.TypeStopTask:                      handle(applyStopTask),
	wire.TypeTaskStateChange:               handle(applyTaskStateChange, upgrade(1, wire.TaskStateChangeV1.Upgrade)),
	wire.TypeContainerStateChange:          handle(applyContainerStateChange, upgrade(1, wire.ContainerStateChangeV1.Upgrade)),
	wire.TypeTaskHealth:                    handle(applyTaskHealth),
	wire.TypeInstanceConnection:            handle(applyInstanceConnection),
	wire.TypeResetConnections:              handle(applyResetConnections, upgrade(1, wire.ResetConnectionsV1.Upgrade)),
	wire.TypeCollectGarbage:                handle(applyCollectGarbage, upgrade(1, wire.CollectGarbageV1.Upgrade)),
	wire.TypeCreateService:                 handle(applyCreateService, upgrade(1, wire.CreateServiceV1.Upgrade)),
	wire.TypeUpdateService:                 handle(applyUpdateService, upgrade(1, wire.UpdateServiceV1.Upgrade), upgrade(2, wire.UpdateServiceV2.Upgrade), upgrade(3, wire.UpdateServiceV3.Upgrade), upgrade(4, wire.UpdateServiceV4.Upgrade)),
	wire.TypeDeleteService:                 handle(applyDeleteService),
	wire.TypeServiceRound:                  handle(applyServiceRound, upgrade(1, wire.ServiceRoundV1.Upgrade)),
	wire.TypeServicePlacement:              handle(applyServicePlacement, upgrade(1, wire.ServicePlacementV1.Upgrade)),
	wire.TypeCreateLoadBalancer:            handle(applyCreateLoadBalancer),
	wire.TypeDeleteLoadBalancer:            handle(applyDeleteLoadBalancer),
	wire.TypeModifyLoadBalancer:            handle(applyModifyLoadBalancer),
	wire.TypeLoadBalancerActive:            handle(applyLoadBalancerActive),
	wire.TypeCreateTargetGroup:             handle(applyCreateTargetGroup),
	wire.TypeModifyTargetGroup:             handle(applyModifyTargetGroup),
	wire.TypeDeleteTargetGroup:             handle(applyDeleteTargetGroup),
	wire.TypeRegisterTargets:               handle(applyRegisterTargets),
	wire.TypeDeregisterTargets:             handle(applyDeregisterTargets),
	wire.TypeCreateListener:                handle(applyCreateListener),
	wire.TypeModifyListener:                handle(applyModifyListener),
	wire.TypeDeleteListener:                handle(applyDeleteListener),
	wire.TypeCreateRule:                    handle(applyCreateRule),
	wire.TypeModifyRule:                    handle(applyModifyRule),
	wire.TypeSetRulePriorities:             handle(applySetRulePriorities),
	wire.TypeDeleteRule:                    handle(applyDeleteRule),
	wire.TypeAddELBTags:                    handle(applyAddELBTags),
	wire.TypeRemoveELBTags:                 handle(applyRemoveELBTags),
	wire.TypeImportCertificate:             handle(applyImportCertificate),
	wire.TypeDeleteCertificate:             handle(applyDeleteCertificate),
	wire.TypeAddCertificateTags:            handle(applyAddCertificateTags),
	wire.TypeRemoveCertificateTags:         handle(applyRemoveCertificateTags),
	// Secrets Manager
	wire.TypeCreateSecret:             handle(applyCreateSecret),
	wire.TypePutSecretValue:           handle(applyPutSecretValue),
	wire.TypeUpdateSecret:             handle(applyUpdateSecret),
	wire.TypeDeleteSecret:             handle(applyDeleteSecret),
	wire.TypeRestoreSecret:            handle(applyRestoreSecret),
	wire.TypeUpdateSecretVersionStage: handle(applyUpdateSecretVersionStage),
	wire.TypeTagSecret:                handle(applyTagSecret),
	wire.TypeUntagSecret:              handle(applyUntagSecret),
	// SSM Parameter Store
	wire.TypePutParameter:              handle(applyPutParameter),
	wire.TypeDeleteParameters:          handle(applyDeleteParameters),
	wire.TypeLabelParameterVersion:     handle(applyLabelParameterVersion),
	wire.TypeUnlabelParameterVersion:   handle(applyUnlabelParameterVersion),
	wire.TypeAddParameterTags:          handle(applyAddParameterTags),
	wire.TypeRemoveParameterTags:       handle(applyRemoveParameterTags),
	wire.TypeCreateSDNamespace:         handle(applyCreateSDNamespace),
	wire.TypeUpdateSDNamespace:         handle(applyUpdateSDNamespace),
	wire.TypeDeleteSDNamespace:         handle(applyDeleteSDNamespace),
	wire.TypeCreateSDService:           handle(applyCreateSDService),
	wire.TypeUpdateSDService:           handle(applyUpdateSDService),
	wire.TypeDeleteSDService:           handle(applyDeleteSDService),
	wire.TypeUpdateSDServiceAttributes: handle(applyUpdateSDServiceAttributes),
	wire.TypeDeleteSDServiceAttributes: handle(applyDeleteSDServiceAttributes),
	wire.TypeRegisterSDInstance:        handle(applyRegisterSDInstance),
	wire.TypeDeregisterSDInstance:      handle(applyDeregisterSDInstance),
	wire.TypeUpdateSDInstanceHealth:    handle(applyUpdateSDInstanceHealth),
	wire.TypeTagSDResource:             handle(applyTagSDResource),
	wire.TypeUntagSDResource:           handle(applyUntagSDResource),
	// IAM
	wire.TypeCreateIAMRole:           handle(applyCreateIAMRole),
	wire.TypeUpdateIAMRole:           handle(applyUpdateIAMRole),
	wire.TypeDeleteIAMRole:           handle(applyDeleteIAMRole),
	wire.TypeIssueSTSCredentials:     handle(applyIssueSTSCredentials),
	wire.TypeCreateIAMPolicy:         handle(applyCreateIAMPolicy),
	wire.TypeUpdateIAMPolicy:         handle(applyUpdateIAMPolicy),
	wire.TypeDeleteIAMPolicy:         handle(applyDeleteIAMPolicy),
	wire.TypePutSecretResourcePolicy: handle(applyPutSecretResourcePolicy),
}

// applier decodes the known versions of one command type and applies it.
type applier struct {
	current uint8
	decode  map[uint8]func(payload []byte) (wire.Command, error)
	apply   func(m *Machine, tx *state.Txn, c wire.Command) (any, error)
}

// older decodes an old version of command C and upgrades it.
type older[C wire.Command] struct {
	version uint8
	decode  func(payload []byte) (C, error)
}

// upgrade declares version v of a command, decoded as O and converted.
func upgrade[O any, C wire.Command](v uint8, up func(O) C) older[C] {
	return older[C]{version: v, decode: func(payload []byte) (C, error) {
		var o O
		if err := decodeStrict(payload, &o); err != nil {
			var zero C
			return zero, err
		}
		return up(o), nil
	}}
}

// handle builds the applier of command C: its current version decodes into
// C, the versions in old into their own types, upgraded to C.
func handle[C wire.Command](apply func(*Machine, *state.Txn, *C) (any, error), old ...older[C]) applier {
	var zero C
	ap := applier{current: zero.Version(), decode: map[uint8]func([]byte) (wire.Command, error){}}
	ap.decode[zero.Version()] = func(payload []byte) (wire.Command, error) {
		c := new(C)
		if err := decodeStrict(payload, c); err != nil {
			return nil, fmt.Errorf("decode %s version %d: %w", zero.Type(), zero.Version(), err)
		}
		return *c, nil
	}
	for _, o := range old {
		ap.decode[o.version] = func(payload []byte) (wire.Command, error) {
			c, err := o.decode(payload)
			if err != nil {
				return nil, fmt.Errorf("decode %s version %d: %w", zero.Type(), o.version, err)
			}
			return c, nil
		}
	}
	ap.apply = func(m *Machine, tx *state.Txn, c wire.Command) (any, error) {
		cc := c.(C)
		return apply(m, tx, &cc)
	}
	return ap
}

// decodeStrict decodes exactly one JSON value into v and refuses members v
// does not have: a server never drops what a newer one logged.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the payload")
	}
	return nil
}
