package iamapi

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/iamshape"
	"berth.dev/berth/internal/policy"
	"berth.dev/berth/internal/state"
)

// Managed policy limits (IAM's default quotas).
const (
	MaxPolicySize     = 6144 // characters of a managed policy document, white space excluded
	MaxPolicyVersions = 5
)

var versionPattern = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)

// managed is a managed policy berth serves: an AWS managed one from the
// catalog or one of the account's.
type managed struct {
	arn   string
	aws   *awsPolicy
	local *state.IAMPolicy
}

func (a *API) awsPolicyARN(p awsPolicy) string {
	return fmt.Sprintf("arn:%s:iam::aws:policy%s%s", a.cfg.Partition, p.Path, p.Name)
}

// PolicyARN is the ARN of a customer managed policy of that path and name.
func (a *API) PolicyARN(path, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", a.cfg.Partition, a.cfg.Account, path, name)
}

func policyNotFound(arn string) error {
	return apierr.Newf(CodeNoSuchEntity, "Policy %s was not found.", arn)
}

// findPolicy returns the managed policy of that ARN, or NoSuchEntity.
func (a *API) findPolicy(snap *state.Snapshot, v *string) (*managed, error) {
	arn, err := a.checkPolicyARN(v, "policyArn")
	if err != nil {
		return nil, err
	}
	name := policyName(arn)
	if isAWSManagedARN(arn) {
		if p, ok := awsPolicies[name]; ok && a.awsPolicyARN(p) == arn {
			return &managed{arn: arn, aws: &p}, nil
		}
		return nil, policyNotFound(arn)
	}
	if p := snap.IAMPolicy(name); p != nil && p.ARN == arn {
		return &managed{arn: arn, local: p}, nil
	}
	return nil, policyNotFound(arn)
}

func isAWSManagedARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[4] == "aws"
}

// attachments are the roles a policy ARN is attached to, in name order.
func attachments(snap *state.Snapshot, arn string) []*state.IAMRole {
	var out []*state.IAMRole
	snap.IAMRoles(func(r *state.IAMRole) bool {
		if slices.Contains(r.Attached, arn) {
			out = append(out, r)
		}
		return true
	})
	return out
}

func (m *managed) shape(snap *state.Snapshot, full bool) iamshape.Policy {
	out := iamshape.Policy{Arn: ptr(m.arn), AttachmentCount: ptr(int32(len(attachments(snap, m.arn)))), IsAttachable: true,
		PermissionsBoundaryUsageCount: ptr(int32(0))}
	if p := m.aws; p != nil {
		out.PolicyName, out.Path, out.PolicyId = ptr(p.Name), ptr(p.Path), ptr(p.id())
		out.DefaultVersionId = ptr(awsPolicyVersion)
		out.CreateDate, out.UpdateDate = ptr(awsManagedCreated), ptr(awsManagedCreated)
		if full {
			out.Description = ptr(p.Description)
		}
		return out
	}
	p := m.local
	out.PolicyName, out.Path, out.PolicyId = ptr(p.Name), ptr(p.Path), ptr(p.ID)
	out.DefaultVersionId = ptr(p.DefaultVersion)
	out.CreateDate, out.UpdateDate = ptr(p.CreatedAt.UTC()), ptr(p.UpdatedAt.UTC())
	if full {
		if p.Description != "" {
			out.Description = ptr(p.Description)
		}
		for _, t := range p.Tags {
			out.Tags = append(out.Tags, iamshape.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
		}
	}
	return out
}

// versions are a policy's versions, oldest first.
func (m *managed) versions() []state.IAMPolicyVersion {
	if m.aws != nil {
		return []state.IAMPolicyVersion{{ID: awsPolicyVersion, Document: m.aws.Document, CreatedAt: awsManagedCreated}}
	}
	return m.local.Versions
}

func (m *managed) defaultVersion() string {
	if m.aws != nil {
		return awsPolicyVersion
	}
	return m.local.DefaultVersion
}

func versionShape(v state.IAMPolicyVersion, isDefault, withDocument bool) iamshape.PolicyVersion {
	out := iamshape.PolicyVersion{VersionId: ptr(v.ID), IsDefaultVersion: isDefault, CreateDate: ptr(v.CreatedAt.UTC())}
	if withDocument {
		out.Document = ptr(encodeDocument(v.Document))
	}
	return out
}

// managedDocument validates a managed policy document.
func managedDocument(v *string) (string, error) {
	if v == nil {
		return "", validation(nil, "policyDocument", "must not be null")
	}
	n := 0
	for _, r := range *v {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	if n > MaxPolicySize {
		return "", Error(CodeLimitExceeded, "Cannot exceed quota for PolicySize: %d", MaxPolicySize)
	}
	if _, err := policy.Parse(*v, policy.Permission); err != nil {
		return "", err
	}
	return *v, nil
}

func checkVersionID(v *string) (string, error) {
	if v == nil {
		return "", validation(nil, "versionId", "must not be null")
	}
	if !versionPattern.MatchString(*v) {
		return "", validation(*v, "versionId", `must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	}
	return *v, nil
}

// localPolicy returns the customer managed policy of that ARN; AWS
// managed ones cannot be changed.
func (a *API) localPolicy(v *string) (*state.IAMPolicy, error) {
	m, err := a.findPolicy(a.cfg.State.Snapshot(), v)
	if err != nil {
		return nil, err
	}
	if m.aws != nil {
		return nil, Error(CodeInvalidInput, "Policy %s is an AWS managed policy: it cannot be changed.", m.arn)
	}
	return m.local, nil
}

// updatePolicy applies change to the customer managed policy of that ARN
// and commits it, retrying when the policy changed concurrently.
func (a *API) updatePolicy(ctx context.Context, call *Call, arn *string, change func(p *wire.IAMPolicy) error) (*state.IAMPolicy, error) {
	for range maxUpdateRetries {
		old, err := a.localPolicy(arn)
		if err != nil {
			return nil, err
		}
		p := fsm.IAMPolicyToWire(old)
		if err := change(&p); err != nil {
			return nil, err
		}
		res, err := a.cfg.Proposer.Apply(ctx, wire.UpdateIAMPolicy{Meta: call.meta(), Base: old.Revision, Policy: p})
		if e, ok := apierr.As(err); ok && e.Code == fsm.IAMRevisionConflict {
			continue
		}
		if err != nil {
			return nil, err
		}
		return res.(*state.IAMPolicy), nil
	}
	return nil, Error("ServiceFailure", "The policy %s is being changed concurrently; retry.", deref(arn))
}
