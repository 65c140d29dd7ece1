package fsm

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// IAM's codes for the rules the appliers keep.
const (
	IAMNoSuchEntity        = "NoSuchEntity"
	IAMEntityAlreadyExists = "EntityAlreadyExists"
	IAMDeleteConflict      = "DeleteConflict"
	// IAMRevisionConflict is no IAM code: an update computed from an
	// older revision of the role, which the proposer retries.
	IAMRevisionConflict = "BerthRevisionConflict"
)

// ErrIAMRoleNotFound is IAM's answer for a role it does not hold.
func ErrIAMRoleNotFound(name string) *apierr.Error {
	return apierr.Newf(IAMNoSuchEntity, "The role with name %s cannot be found.", name)
}

func applyCreateIAMRole(m *Machine, tx *state.Txn, c *wire.CreateIAMRole) (any, error) {
	if tx.IAMRole(c.Role.Name) != nil {
		return nil, apierr.Newf(IAMEntityAlreadyExists, "Role with name %s already exists.", c.Role.Name)
	}
	if err := checkAttachable(tx, nil, c.Role.Attached); err != nil {
		return nil, err
	}
	r := iamRoleFromWire(c.Role)
	r.Revision = 1
	if err := tx.Put(state.TableIAMRoles, r); err != nil {
		return nil, err
	}
	return r, nil
}

func applyUpdateIAMRole(m *Machine, tx *state.Txn, c *wire.UpdateIAMRole) (any, error) {
	old := tx.IAMRole(c.Role.Name)
	if old == nil || old.ID != c.Role.ID {
		return nil, ErrIAMRoleNotFound(c.Role.Name)
	}
	if old.Revision != c.Base {
		return nil, apierr.Newf(IAMRevisionConflict, "The role %s changed concurrently.", c.Role.Name)
	}
	if err := checkAttachable(tx, old.Attached, c.Role.Attached); err != nil {
		return nil, err
	}
	r := iamRoleFromWire(c.Role)
	r.Name, r.ARN, r.CreatedAt = old.Name, old.ARN, old.CreatedAt
	r.Revision = old.Revision + 1
	if err := tx.Put(state.TableIAMRoles, r); err != nil {
		return nil, err
	}
	return r, nil
}

func applyDeleteIAMRole(m *Machine, tx *state.Txn, c *wire.DeleteIAMRole) (any, error) {
	old := tx.IAMRole(c.Name)
	if old == nil {
		return nil, ErrIAMRoleNotFound(c.Name)
	}
	if len(old.Inline) > 0 || len(old.Attached) > 0 {
		return nil, apierr.Newf(IAMDeleteConflict, "Cannot delete entity, must delete policies first.")
	}
	return nil, tx.Delete(state.TableIAMRoles, old)
}

// IAMRoleToWire is a role as the role commands carry it.
func IAMRoleToWire(r *state.IAMRole) wire.IAMRole {
	out := wire.IAMRole{Name: r.Name, ID: r.ID, ARN: r.ARN, Path: r.Path, AssumeRolePolicy: r.AssumeRolePolicy,
		Description: r.Description, MaxSessionDuration: r.MaxSessionDuration, PermissionsBoundary: r.PermissionsBoundary,
		CreatedAt: r.CreatedAt, Attached: append([]string(nil), r.Attached...), Revision: r.Revision}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, wire.IAMTag{Key: t.Key, Value: t.Value})
	}
	for _, p := range r.Inline {
		out.Inline = append(out.Inline, wire.IAMInlinePolicy{Name: p.Name, Document: p.Document})
	}
	return out
}

func iamRoleFromWire(r wire.IAMRole) *state.IAMRole {
	out := &state.IAMRole{Name: r.Name, ID: r.ID, ARN: r.ARN, Path: r.Path, AssumeRolePolicy: r.AssumeRolePolicy,
		Description: r.Description, MaxSessionDuration: r.MaxSessionDuration, PermissionsBoundary: r.PermissionsBoundary,
		CreatedAt: r.CreatedAt, Attached: append([]string(nil), r.Attached...), Revision: r.Revision}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, state.IAMTag{Key: t.Key, Value: t.Value})
	}
	for _, p := range r.Inline {
		out.Inline = append(out.Inline, state.IAMInlinePolicy{Name: p.Name, Document: p.Document})
	}
	return out
}

func applyIssueSTSCredentials(m *Machine, tx *state.Txn, c *wire.IssueSTSCredentials) (any, error) {
	var expired []*state.STSCredential
	tx.STSCredentials(func(x *state.STSCredential) bool {
		if !c.Now.Before(x.Expiration) {
			expired = append(expired, x)
		}
		return true
	})
	for _, x := range expired {
		if err := tx.Delete(state.TableSTSCredentials, x); err != nil {
			return nil, err
		}
	}
	if c.Credential.AccessKeyID == "" || len(c.Credential.SealedSecret) == 0 || len(c.Credential.TokenHash) == 0 {
		return nil, apierr.Newf(apierr.Server, "a temporary credential needs its key, sealed secret and token hash")
	}
	if tx.STSCredential(c.Credential.AccessKeyID) != nil {
		return nil, apierr.Newf(apierr.Server, "the access key %s was issued before", c.Credential.AccessKeyID)
	}
	r := stsCredentialFromWire(c.Credential)
	return r, tx.Put(state.TableSTSCredentials, r)
}

func stsCredentialToWire(r *state.STSCredential) wire.STSCredential {
	out := wire.STSCredential{AccessKeyID: r.AccessKeyID, SealedSecret: r.SealedSecret, TokenHash: r.TokenHash, Expiration: r.Expiration,
		Principal: r.Principal, UserID: r.UserID, RoleARN: r.RoleARN, Policy: r.Policy}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, wire.IAMTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func stsCredentialFromWire(r wire.STSCredential) *state.STSCredential {
	out := &state.STSCredential{AccessKeyID: r.AccessKeyID, SealedSecret: r.SealedSecret, TokenHash: r.TokenHash, Expiration: r.Expiration,
		Principal: r.Principal, UserID: r.UserID, RoleARN: r.RoleARN, Policy: r.Policy}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, state.IAMTag{Key: t.Key, Value: t.Value})
	}
	return out
}
