package contract

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// The provider's internal/service/iam/policy.go (aws_iam_policy), and
// role_policy.go and role_policy_attachment.go.

// policyConfig is an aws_iam_policy's arguments (path's default is /).
type policyConfig struct {
	name, path, description, policy string
	tags                            map[string]string
}

// createPolicy mirrors resourcePolicyCreate; the ID is the ARN.
func (p *cfgProvider) createPolicy(c context.Context, cfg policyConfig) (string, error) {
	out, err := p.iam.CreatePolicy(c, &iam.CreatePolicyInput{Description: aws.String(cfg.description), Path: aws.String(cfg.path),
		PolicyDocument: aws.String(cfg.policy), PolicyName: aws.String(cfg.name), Tags: iamTags(cfg.tags)})
	if err != nil {
		return "", fmt.Errorf("creating IAM Policy (%s): %w", cfg.name, err)
	}
	return aws.ToString(out.Policy.Arn), nil
}

// readPolicy mirrors resourcePolicyRead: GetPolicy, then GetPolicyVersion
// of its default version (nil: removed from the state).
func (p *cfgProvider) readPolicy(c context.Context, arn, configured string) (map[string]any, error) {
	out, err := p.iam.GetPolicy(c, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if isCode(err, "NoSuchEntity") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading IAM Policy (%s): %w", arn, err)
	}
	pol := out.Policy
	v, err := p.iam.GetPolicyVersion(c, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.DefaultVersionId})
	if isCode(err, "NoSuchEntity") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading IAM Policy (%s): %w", arn, err)
	}
	doc, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		return nil, fmt.Errorf("parsing IAM Policy (%s) document: %w", arn, err)
	}
	if policiesEquivalent(configured, doc) == nil {
		doc = configured
	}
	tags := map[string]string{}
	for _, t := range pol.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return map[string]any{"arn": aws.ToString(pol.Arn), "attachment_count": aws.ToInt32(pol.AttachmentCount),
		"description": aws.ToString(pol.Description), "name": aws.ToString(pol.PolicyName), "path": aws.ToString(pol.Path),
		"policy_id_set": aws.ToString(pol.PolicyId) != "", "policy": doc, "tags": tags}, nil
}

// policyVersions mirrors findPolicyVersionsByARN.
func (p *cfgProvider) policyVersions(c context.Context, arn string) ([]iamtypes.PolicyVersion, error) {
	var out []iamtypes.PolicyVersion
	pages := iam.NewListPolicyVersionsPaginator(p.iam, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(c)
		if isCode(err, "NoSuchEntity") {
			return nil, errNotFound
		}
		if err != nil {
			return nil, err
		}
		out = append(out, page.Versions...)
	}
	return out, nil
}

// updatePolicy mirrors resourcePolicyUpdate for a new document: prune the
// oldest non-default version when there are five, CreatePolicyVersion
// (not default), and SetDefaultPolicyVersion (after the provider's
// sleep, shortened here).
func (p *cfgProvider) updatePolicy(c context.Context, arn, doc string) error {
	versions, err := p.policyVersions(c, arn)
	if err != nil {
		return err
	}
	if len(versions) >= 5 {
		var oldest *iamtypes.PolicyVersion
		for i, v := range versions {
			if !v.IsDefaultVersion && (oldest == nil || v.CreateDate.Before(aws.ToTime(oldest.CreateDate))) {
				oldest = &versions[i]
			}
		}
		if oldest != nil {
			if _, err := p.iam.DeletePolicyVersion(c, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: oldest.VersionId}); err != nil {
				return fmt.Errorf("deleting IAM Policy (%s) version (%s): %w", arn, aws.ToString(oldest.VersionId), err)
			}
		}
	}
	out, err := p.iam.CreatePolicyVersion(c, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: false})
	if err != nil {
		return fmt.Errorf("creating IAM Policy (%s): %w", arn, err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := p.iam.SetDefaultPolicyVersion(c, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: out.PolicyVersion.VersionId}); err != nil {
		return fmt.Errorf("setting Default Policy version for IAM Policy (%s): %w", arn, err)
	}
	return nil
}

// deletePolicy mirrors resourcePolicyDelete: the non-default versions,
// then DeletePolicy; NoSuchEntity is done.
func (p *cfgProvider) deletePolicy(c context.Context, arn string) error {
	versions, err := p.policyVersions(c, arn)
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, v := range versions {
		if v.IsDefaultVersion {
			continue
		}
		if _, err := p.iam.DeletePolicyVersion(c, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: v.VersionId}); err != nil {
			return fmt.Errorf("deleting IAM Policy (%s) version (%s): %w", arn, aws.ToString(v.VersionId), err)
		}
	}
	_, err = p.iam.DeletePolicy(c, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	if isCode(err, "NoSuchEntity") {
		return nil
	}
	return err
}

// updatePolicyTags mirrors the provider's policy tag update (its
// updateTags: UntagPolicy of the removed keys, TagPolicy of the new
// values).
func (p *cfgProvider) updatePolicyTags(c context.Context, arn string, old, cfg map[string]string) error {
	removed, changed := tagChanges(old, cfg)
	if len(removed) > 0 {
		if _, err := p.iam.UntagPolicy(c, &iam.UntagPolicyInput{PolicyArn: aws.String(arn), TagKeys: removed}); err != nil {
			return fmt.Errorf("untagging IAM Policy (%s): %w", arn, err)
		}
	}
	if len(changed) > 0 {
		if _, err := p.iam.TagPolicy(c, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: iamTags(changed)}); err != nil {
			return fmt.Errorf("tagging IAM Policy (%s): %w", arn, err)
		}
	}
	return nil
}

// putRolePolicy mirrors resourceRolePolicyPut (create and update); the
// ID is role:name.
func (p *cfgProvider) putRolePolicy(c context.Context, role, name, doc string) error {
	_, err := p.iam.PutRolePolicy(c, &iam.PutRolePolicyInput{PolicyDocument: aws.String(doc), PolicyName: aws.String(name), RoleName: aws.String(role)})
	if err != nil {
		return fmt.Errorf("putting IAM Role (%s) Policy (%s): %w", role, name, err)
	}
	return nil
}

// readRolePolicy mirrors resourceRolePolicyRead ("" and no error:
// removed from the state).
func (p *cfgProvider) readRolePolicy(c context.Context, role, name, configured string) (string, error) {
	doc, err := p.findRolePolicy(c, role, name)
	if errors.Is(err, errNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if policiesEquivalent(configured, doc) == nil {
		return configured, nil
	}
	return doc, nil
}

// deleteRolePolicy mirrors resourceRolePolicyDelete.
func (p *cfgProvider) deleteRolePolicy(c context.Context, role, name string) error {
	_, err := p.iam.DeleteRolePolicy(c, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if isCode(err, "NoSuchEntity") {
		return nil
	}
	return err
}

// readRolePolicyAttachment mirrors findAttachedRolePolicyByTwoPartKey:
// whether the role lists the policy among its attached ones.
func (p *cfgProvider) readRolePolicyAttachment(c context.Context, role, arn string) (bool, error) {
	arns, err := p.attachedPolicies(c, role)
	if err != nil {
		return false, err
	}
	return slices.Contains(arns, arn), nil
}

// deleteRolePolicyAttachment mirrors resourceRolePolicyAttachmentDelete.
func (p *cfgProvider) deleteRolePolicyAttachment(c context.Context, role, arn string) error {
	_, err := p.iam.DetachRolePolicy(c, &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)})
	if isCode(err, "NoSuchEntity") {
		return nil
	}
	return err
}
