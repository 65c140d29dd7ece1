package contract

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// The provider's internal/service/iam: role.go (with inline_policy and
// managed_policy_arns), role_policy.go, role_policy_attachment.go.

// roleConfig is an aws_iam_role's arguments.
type roleConfig struct {
	name, path, assumeRolePolicy, description string
	maxSessionDuration                        int32
	tags                                      map[string]string
	inline                                    map[string]string // name -> document
	managed                                   []string
}

func iamTags(m map[string]string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for k, v := range m {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// retryInvalidPrincipal is the provider's retry of a trust policy naming
// a principal IAM does not know yet.
func retryInvalidPrincipal(err error) bool {
	return isCode(err, "MalformedPolicyDocument") && errContains(err, "Invalid principal in policy")
}

// createRole mirrors resourceRoleCreate.
func (p *cfgProvider) createRole(c context.Context, cfg roleConfig) error {
	in := &iam.CreateRoleInput{AssumeRolePolicyDocument: aws.String(cfg.assumeRolePolicy), Path: aws.String(cfg.path),
		RoleName: aws.String(cfg.name), Tags: iamTags(cfg.tags)}
	if cfg.description != "" {
		in.Description = aws.String(cfg.description)
	}
	if cfg.maxSessionDuration != 0 {
		in.MaxSessionDuration = aws.Int32(cfg.maxSessionDuration)
	}
	if _, err := retryValue(c, propagationTimeout, func() (*iam.CreateRoleOutput, error) { return p.iam.CreateRole(c, in) }, retryInvalidPrincipal); err != nil {
		return fmt.Errorf("creating IAM Role (%s): %w", cfg.name, err)
	}
	for name, doc := range cfg.inline {
		if _, err := p.iam.PutRolePolicy(c, &iam.PutRolePolicyInput{RoleName: aws.String(cfg.name), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			return fmt.Errorf("creating inline policy (%s): %w", name, err)
		}
	}
	for _, arn := range cfg.managed {
		if err := p.attachPolicyToRole(c, cfg.name, arn); err != nil {
			return fmt.Errorf("attaching managed policy (%s): %w", arn, err)
		}
	}
	return nil
}

// attachPolicyToRole mirrors attachPolicyToRole: AttachRolePolicy,
// retried on ConcurrentModification.
func (p *cfgProvider) attachPolicyToRole(c context.Context, role, arn string) error {
	_, err := retryValue(c, propagationTimeout, func() (*iam.AttachRolePolicyOutput, error) {
		return p.iam.AttachRolePolicy(c, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)})
	}, func(err error) bool { return isCode(err, "ConcurrentModification") })
	return err
}

// findRole mirrors findRoleByName: GetRole; NoSuchEntity is errNotFound.
func (p *cfgProvider) findRole(c context.Context, name string) (*iamtypes.Role, error) {
	out, err := p.iam.GetRole(c, &iam.GetRoleInput{RoleName: aws.String(name)})
	if isCode(err, "NoSuchEntity") {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return out.Role, nil
}

// readRole mirrors resourceRoleRead with inline_policy and
// managed_policy_arns configured; policies read back equivalent to the
// configured ones are set as configured (verify.PolicyToSet).
func (p *cfgProvider) readRole(c context.Context, cfg roleConfig) (map[string]any, error) {
	r, err := p.findRole(c, cfg.name)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading IAM Role (%s): %w", cfg.name, err)
	}
	trust, err := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument))
	if err != nil {
		return nil, err
	}
	if policiesEquivalent(cfg.assumeRolePolicy, trust) == nil {
		trust = cfg.assumeRolePolicy
	}
	st := map[string]any{"arn": aws.ToString(r.Arn), "assume_role_policy": trust, "description": aws.ToString(r.Description),
		"max_session_duration": aws.ToInt32(r.MaxSessionDuration), "name": aws.ToString(r.RoleName), "path": aws.ToString(r.Path),
		"permissions_boundary": "", "unique_id": aws.ToString(r.RoleId), "create_date_set": r.CreateDate != nil}
	if r.PermissionsBoundary != nil {
		st["permissions_boundary"] = aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn)
	}
	tags := map[string]string{}
	for _, t := range r.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	st["tags"] = tags
	inline := map[string]string{}
	pages := iam.NewListRolePoliciesPaginator(p.iam, &iam.ListRolePoliciesInput{RoleName: aws.String(cfg.name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(c)
		if err != nil {
			return nil, err
		}
		for _, name := range page.PolicyNames {
			doc, err := p.findRolePolicy(c, cfg.name, name)
			if err != nil {
				return nil, err
			}
			if policiesEquivalent(cfg.inline[name], doc) == nil {
				doc = cfg.inline[name]
			}
			inline[name] = doc
		}
	}
	st["inline_policy"] = inline
	managed, err := p.attachedPolicies(c, cfg.name)
	if err != nil {
		return nil, err
	}
	slices.Sort(managed)
	st["managed_policy_arns"] = managed
	return st, nil
}

// attachedPolicies mirrors readRolePolicyAttachments (NoSuchEntity is
// no policies).
func (p *cfgProvider) attachedPolicies(c context.Context, role string) ([]string, error) {
	out := []string{}
	pages := iam.NewListAttachedRolePoliciesPaginator(p.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(c)
		if isCode(err, "NoSuchEntity") {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, a := range page.AttachedPolicies {
			out = append(out, aws.ToString(a.PolicyArn))
		}
	}
	return out, nil
}

// findRolePolicy mirrors findRolePolicyByTwoPartKey: GetRolePolicy, its
// document URL-decoded; NoSuchEntity is errNotFound.
func (p *cfgProvider) findRolePolicy(c context.Context, role, name string) (string, error) {
	out, err := p.iam.GetRolePolicy(c, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if isCode(err, "NoSuchEntity") {
		return "", errNotFound
	}
	if err != nil {
		return "", err
	}
	return url.QueryUnescape(aws.ToString(out.PolicyDocument))
}

// updateRole mirrors resourceRoleUpdate for the trust policy,
// description, session duration, inline and managed policies and tags.
func (p *cfgProvider) updateRole(c context.Context, old, cfg roleConfig) error {
	name := aws.String(cfg.name)
	if old.assumeRolePolicy != cfg.assumeRolePolicy {
		if _, err := retryValue(c, propagationTimeout, func() (*iam.UpdateAssumeRolePolicyOutput, error) {
			return p.iam.UpdateAssumeRolePolicy(c, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(cfg.assumeRolePolicy)})
		}, retryInvalidPrincipal); err != nil {
			return fmt.Errorf("updating IAM Role (%s) assume role policy: %w", cfg.name, err)
		}
	}
	if old.description != cfg.description {
		if _, err := p.iam.UpdateRoleDescription(c, &iam.UpdateRoleDescriptionInput{RoleName: name, Description: aws.String(cfg.description)}); err != nil {
			return fmt.Errorf("updating IAM Role (%s) description: %w", cfg.name, err)
		}
	}
	if old.maxSessionDuration != cfg.maxSessionDuration {
		if _, err := p.iam.UpdateRole(c, &iam.UpdateRoleInput{RoleName: name, MaxSessionDuration: aws.Int32(cfg.maxSessionDuration)}); err != nil {
			return fmt.Errorf("updating IAM Role (%s) MaxSessionDuration: %w", cfg.name, err)
		}
	}
	for pn := range old.inline {
		if _, ok := cfg.inline[pn]; !ok {
			if _, err := p.iam.DeleteRolePolicy(c, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(pn)}); err != nil && !isCode(err, "NoSuchEntity") {
				return err
			}
		}
	}
	for pn, doc := range cfg.inline {
		if old.inline[pn] != doc {
			if _, err := p.iam.PutRolePolicy(c, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(pn), PolicyDocument: aws.String(doc)}); err != nil {
				return err
			}
		}
	}
	for _, arn := range old.managed {
		if !slices.Contains(cfg.managed, arn) {
			if _, err := p.iam.DetachRolePolicy(c, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(arn)}); err != nil && !isCode(err, "NoSuchEntity") {
				return err
			}
		}
	}
	for _, arn := range cfg.managed {
		if !slices.Contains(old.managed, arn) {
			if err := p.attachPolicyToRole(c, cfg.name, arn); err != nil {
				return err
			}
		}
	}
	removed, changed := tagChanges(old.tags, cfg.tags)
	if len(removed) > 0 {
		if _, err := p.iam.UntagRole(c, &iam.UntagRoleInput{RoleName: name, TagKeys: removed}); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		if _, err := p.iam.TagRole(c, &iam.TagRoleInput{RoleName: name, Tags: iamTags(changed)}); err != nil {
			return err
		}
	}
	return nil
}

// deleteRole mirrors resourceRoleDelete/deleteRole: instance profiles,
// then (managed_policy_arns, inline_policy set) the attachments and
// inline policies, then DeleteRole retried on DeleteConflict;
// NoSuchEntity is done.
func (p *cfgProvider) deleteRole(c context.Context, name string, hasInline, hasManaged bool) error {
	ips, err := p.iam.ListInstanceProfilesForRole(c, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)})
	if err != nil && !isCode(err, "NoSuchEntity") {
		return fmt.Errorf("unable to detach instance profiles: %w", err)
	}
	if ips != nil && len(ips.InstanceProfiles) > 0 {
		return fmt.Errorf("role %s is in %d instance profiles; berth serves none", name, len(ips.InstanceProfiles))
	}
	if hasManaged {
		arns, err := p.attachedPolicies(c, name)
		if err != nil {
			return err
		}
		for _, arn := range arns {
			if _, err := p.iam.DetachRolePolicy(c, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)}); err != nil && !isCode(err, "NoSuchEntity") {
				return fmt.Errorf("unable to detach policies: %w", err)
			}
		}
	}
	if hasInline {
		var names []string
		out, err := p.iam.ListRolePolicies(c, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return err
		}
		if err == nil {
			names = out.PolicyNames
		}
		for _, pn := range names {
			if _, err := p.iam.DeleteRolePolicy(c, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)}); err != nil && !isCode(err, "NoSuchEntity") {
				return fmt.Errorf("unable to delete inline policies: %w", err)
			}
		}
	}
	_, err = retryValue(c, propagationTimeout, func() (*iam.DeleteRoleOutput, error) {
		return p.iam.DeleteRole(c, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	}, func(err error) bool { return isCode(err, "DeleteConflict") })
	if isCode(err, "NoSuchEntity") {
		return nil
	}
	return err
}
