package fsm

import (
	"slices"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// ErrIAMPolicyNotFound is IAM's answer for a managed policy ARN it does
// not hold (nor attach).
func ErrIAMPolicyNotFound(arn string) *apierr.Error {
	return apierr.Newf(IAMNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
}

// iamPolicyByARN returns the customer managed policy of that ARN, or nil.
func iamPolicyByARN(tx *state.Txn, arn string) *state.IAMPolicy {
	p := tx.IAMPolicy(arn[strings.LastIndex(arn, "/")+1:])
	if p == nil || p.ARN != arn {
		return nil
	}
	return p
}

// isAWSManaged reports whether a policy ARN is one of AWS's managed
// policies (account "aws"), which berth does not store.
func isAWSManaged(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[4] == "aws"
}

// checkAttachable refuses attaching a customer managed policy the state
// does not hold; AWS managed ones are the API's to check.
func checkAttachable(tx *state.Txn, old, attached []string) error {
	for _, a := range attached {
		if !slices.Contains(old, a) && !isAWSManaged(a) && iamPolicyByARN(tx, a) == nil {
			return ErrIAMPolicyNotFound(a)
		}
	}
	return nil
}

func applyCreateIAMPolicy(m *Machine, tx *state.Txn, c *wire.CreateIAMPolicy) (any, error) {
	if tx.IAMPolicy(c.Policy.Name) != nil {
		return nil, apierr.Newf(IAMEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", c.Policy.Name)
	}
	if len(c.Policy.Versions) != 1 || c.Policy.DefaultVersion != c.Policy.Versions[0].ID {
		return nil, apierr.Newf(apierr.Server, "a new policy needs exactly one version, its default")
	}
	p := iamPolicyFromWire(c.Policy)
	p.Revision = 1
	return p, tx.Put(state.TableIAMPolicies, p)
}

func applyUpdateIAMPolicy(m *Machine, tx *state.Txn, c *wire.UpdateIAMPolicy) (any, error) {
	old := iamPolicyByARN(tx, c.Policy.ARN)
	if old == nil || old.ID != c.Policy.ID {
		return nil, apierr.Newf(IAMNoSuchEntity, "Policy %s was not found.", c.Policy.ARN)
	}
	if old.Revision != c.Base {
		return nil, apierr.Newf(IAMRevisionConflict, "The policy %s changed concurrently.", c.Policy.ARN)
	}
	p := iamPolicyFromWire(c.Policy)
	if p.Version(p.DefaultVersion) == nil {
		return nil, apierr.Newf(apierr.Server, "the default version %s of %s is not one of its versions", p.DefaultVersion, p.ARN)
	}
	p.Name, p.ARN, p.Path, p.CreatedAt = old.Name, old.ARN, old.Path, old.CreatedAt
	p.Revision = old.Revision + 1
	return p, tx.Put(state.TableIAMPolicies, p)
}

func applyDeleteIAMPolicy(m *Machine, tx *state.Txn, c *wire.DeleteIAMPolicy) (any, error) {
	old := iamPolicyByARN(tx, c.ARN)
	if old == nil {
		return nil, apierr.Newf(IAMNoSuchEntity, "Policy %s was not found.", c.ARN)
	}
	var attached bool
	tx.IAMRoles(func(r *state.IAMRole) bool {
		attached = slices.Contains(r.Attached, c.ARN)
		return !attached
	})
	if attached {
		return nil, apierr.Newf(IAMDeleteConflict, "Cannot delete a policy attached to entities.")
	}
	if len(old.Versions) > 1 {
		return nil, apierr.Newf(IAMDeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's nondefault versions.")
	}
	return nil, tx.Delete(state.TableIAMPolicies, old)
}

// IAMPolicyToWire is a managed policy as the policy commands carry it.
func IAMPolicyToWire(p *state.IAMPolicy) wire.IAMPolicy {
	out := wire.IAMPolicy{Name: p.Name, ID: p.ID, ARN: p.ARN, Path: p.Path, Description: p.Description, CreatedAt: p.CreatedAt,
		UpdatedAt: p.UpdatedAt, DefaultVersion: p.DefaultVersion, NextVersion: p.NextVersion, Revision: p.Revision}
	for _, v := range p.Versions {
		out.Versions = append(out.Versions, wire.IAMPolicyVersion{ID: v.ID, Document: v.Document, CreatedAt: v.CreatedAt})
	}
	for _, t := range p.Tags {
		out.Tags = append(out.Tags, wire.IAMTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func iamPolicyFromWire(p wire.IAMPolicy) *state.IAMPolicy {
	out := &state.IAMPolicy{Name: p.Name, ID: p.ID, ARN: p.ARN, Path: p.Path, Description: p.Description, CreatedAt: p.CreatedAt,
		UpdatedAt: p.UpdatedAt, DefaultVersion: p.DefaultVersion, NextVersion: p.NextVersion, Revision: p.Revision}
	for _, v := range p.Versions {
		out.Versions = append(out.Versions, state.IAMPolicyVersion{ID: v.ID, Document: v.Document, CreatedAt: v.CreatedAt})
	}
	for _, t := range p.Tags {
		out.Tags = append(out.Tags, state.IAMTag{Key: t.Key, Value: t.Value})
	}
	return out
}
