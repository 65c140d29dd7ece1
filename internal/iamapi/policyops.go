package iamapi

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/iamshape"
	"berth.dev/berth/internal/state"
)

// CreatePolicy creates a customer managed policy (version v1, the default).
func (a *API) CreatePolicy(ctx context.Context, call *Call, in *iamshape.CreatePolicyRequest) (*iamshape.CreatePolicyResponse, error) {
	name, err := checkName(in.PolicyName, "policyName", 128)
	if err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path, "path")
	if err != nil {
		return nil, err
	}
	doc, err := managedDocument(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if len(tags) > MaxTags {
		return nil, Error(CodeLimitExceeded, "Cannot exceed quota for TagsPerPolicy: %d", MaxTags)
	}
	if a.cfg.State.Snapshot().IAMPolicy(name) != nil {
		return nil, apierr.Newf(CodeEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	now := call.Now.UTC()
	p := wire.IAMPolicy{Name: name, ID: "ANPA" + RandomUpper(17), ARN: a.PolicyARN(path, name), Path: path, Description: desc,
		CreatedAt: now, UpdatedAt: now, DefaultVersion: "v1", NextVersion: 2,
		Versions: []wire.IAMPolicyVersion{{ID: "v1", Document: doc, CreatedAt: now}}, Tags: tags}
	res, err := a.cfg.Proposer.Apply(ctx, wire.CreateIAMPolicy{Meta: call.meta(), Policy: p})
	if err != nil {
		return nil, err
	}
	m := &managed{arn: p.ARN, local: res.(*state.IAMPolicy)}
	out := m.shape(a.cfg.State.Snapshot(), true)
	out.Description = nil // CreatePolicy's answer leaves the description out, as IAM's does
	return &iamshape.CreatePolicyResponse{Policy: &out}, nil
}

// GetPolicy returns a managed policy (its tags, not its document).
func (a *API) GetPolicy(ctx context.Context, call *Call, in *iamshape.GetPolicyRequest) (*iamshape.GetPolicyResponse, error) {
	snap := a.cfg.State.Snapshot()
	m, err := a.findPolicy(snap, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	out := m.shape(snap, true)
	return &iamshape.GetPolicyResponse{Policy: &out}, nil
}

// DeletePolicy deletes a customer managed policy that is attached to no
// role and has no versions besides its default.
func (a *API) DeletePolicy(ctx context.Context, call *Call, in *iamshape.DeletePolicyRequest) (*iamshape.DeletePolicyResponse, error) {
	p, err := a.localPolicy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if _, err := a.cfg.Proposer.Apply(ctx, wire.DeleteIAMPolicy{Meta: call.meta(), ARN: p.ARN}); err != nil {
		return nil, err
	}
	return &iamshape.DeletePolicyResponse{}, nil
}

// ListPolicies lists managed policies by scope, path prefix and
// attachment, in name order.
func (a *API) ListPolicies(ctx context.Context, call *Call, in *iamshape.ListPoliciesRequest) (*iamshape.ListPoliciesResponse, error) {
	scope := string(in.Scope)
	if scope == "" {
		scope = "All"
	}
	if scope != "All" && scope != "AWS" && scope != "Local" {
		return nil, validation(scope, "scope", "must satisfy enum value set: [All, AWS, Local]")
	}
	if u := string(in.PolicyUsageFilter); u != "" && u != "PermissionsPolicy" && u != "PermissionsBoundary" {
		return nil, validation(u, "policyUsageFilter", "must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]")
	}
	prefix := "/"
	if in.PathPrefix != nil {
		if len(*in.PathPrefix) < 1 || len(*in.PathPrefix) > 512 || !strings.HasPrefix(*in.PathPrefix, "/") {
			return nil, validation(*in.PathPrefix, "pathPrefix", `must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
		}
		prefix = *in.PathPrefix
	}
	snap := a.cfg.State.Snapshot()
	var all []*managed
	if scope != "Local" {
		for _, p := range awsPolicies {
			all = append(all, &managed{arn: a.awsPolicyARN(p), aws: &p})
		}
	}
	if scope != "AWS" {
		snap.IAMPolicies(func(p *state.IAMPolicy) bool {
			all = append(all, &managed{arn: p.ARN, local: p})
			return true
		})
	}
	key := func(m *managed) string { return strings.ToLower(policyName(m.arn)) + "\x00" + m.arn }
	var chosen []*managed
	for _, m := range all {
		path := m.shape(snap, false).Path
		if !strings.HasPrefix(*path, prefix) || (in.OnlyAttached && len(attachments(snap, m.arn)) == 0) {
			continue
		}
		if in.PolicyUsageFilter == "PermissionsBoundary" {
			continue // no role of berth uses a managed policy as its boundary through this API's records
		}
		chosen = append(chosen, m)
	}
	slices.SortFunc(chosen, func(x, y *managed) int { return strings.Compare(key(x), key(y)) })
	got, truncated, marker, err := page(chosen, key, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamshape.ListPoliciesResponse{Policies: []iamshape.Policy{}, IsTruncated: truncated, Marker: marker}
	for _, m := range got {
		out.Policies = append(out.Policies, m.shape(snap, false))
	}
	return out, nil
}

// CreatePolicyVersion adds a version to a customer managed policy (at
// most five), making it the default if asked.
func (a *API) CreatePolicyVersion(ctx context.Context, call *Call, in *iamshape.CreatePolicyVersionRequest) (*iamshape.CreatePolicyVersionResponse, error) {
	doc, err := managedDocument(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	var created wire.IAMPolicyVersion
	p, err := a.updatePolicy(ctx, call, in.PolicyArn, func(p *wire.IAMPolicy) error {
		if len(p.Versions) >= MaxPolicyVersions {
			return Error(CodeLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxPolicyVersions)
		}
		created = wire.IAMPolicyVersion{ID: fmt.Sprintf("v%d", p.NextVersion), Document: doc, CreatedAt: call.Now.UTC()}
		p.Versions = append(p.Versions, created)
		p.NextVersion++
		p.UpdatedAt = created.CreatedAt
		if in.SetAsDefault {
			p.DefaultVersion = created.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := versionShape(state.IAMPolicyVersion{ID: created.ID, CreatedAt: created.CreatedAt}, p.DefaultVersion == created.ID, false)
	return &iamshape.CreatePolicyVersionResponse{PolicyVersion: &out}, nil
}

// GetPolicyVersion returns one version of a managed policy, its document
// URL-encoded.
func (a *API) GetPolicyVersion(ctx context.Context, call *Call, in *iamshape.GetPolicyVersionRequest) (*iamshape.GetPolicyVersionResponse, error) {
	id, err := checkVersionID(in.VersionId)
	if err != nil {
		return nil, err
	}
	m, err := a.findPolicy(a.cfg.State.Snapshot(), in.PolicyArn)
	if err != nil {
		return nil, err
	}
	for _, v := range m.versions() {
		if v.ID == id {
			out := versionShape(v, v.ID == m.defaultVersion(), true)
			return &iamshape.GetPolicyVersionResponse{PolicyVersion: &out}, nil
		}
	}
	return nil, noSuchVersion(m.arn, id)
}

func noSuchVersion(arn, id string) error {
	return apierr.Newf(CodeNoSuchEntity, "Policy %s version %s does not exist or is not attachable.", arn, id)
}

// ListPolicyVersions lists a managed policy's versions, newest first
// (without their documents).
func (a *API) ListPolicyVersions(ctx context.Context, call *Call, in *iamshape.ListPolicyVersionsRequest) (*iamshape.ListPolicyVersionsResponse, error) {
	m, err := a.findPolicy(a.cfg.State.Snapshot(), in.PolicyArn)
	if err != nil {
		return nil, err
	}
	vs := slices.Clone(m.versions())
	slices.Reverse(vs)
	// Keys sort as the newest-first order does: the inverted creation
	// order, zero-padded.
	order := map[string]string{}
	for i, v := range vs {
		order[v.ID] = fmt.Sprintf("%04d", i)
	}
	got, truncated, marker, err := page(vs, func(v state.IAMPolicyVersion) string { return order[v.ID] }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamshape.ListPolicyVersionsResponse{Versions: []iamshape.PolicyVersion{}, IsTruncated: truncated, Marker: marker}
	for _, v := range got {
		out.Versions = append(out.Versions, versionShape(v, v.ID == m.defaultVersion(), false))
	}
	return out, nil
}

// DeletePolicyVersion deletes a version that is not the default.
func (a *API) DeletePolicyVersion(ctx context.Context, call *Call, in *iamshape.DeletePolicyVersionRequest) (*iamshape.DeletePolicyVersionResponse, error) {
	id, err := checkVersionID(in.VersionId)
	if err != nil {
		return nil, err
	}
	_, err = a.updatePolicy(ctx, call, in.PolicyArn, func(p *wire.IAMPolicy) error {
		i := slices.IndexFunc(p.Versions, func(v wire.IAMPolicyVersion) bool { return v.ID == id })
		if i < 0 {
			return noSuchVersion(p.ARN, id)
		}
		if p.DefaultVersion == id {
			return apierr.Newf(CodeDeleteConflict, "Cannot delete the default version of a policy.")
		}
		p.Versions = slices.Delete(p.Versions, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.DeletePolicyVersionResponse{}, nil
}

// SetDefaultPolicyVersion makes a version the one in effect.
func (a *API) SetDefaultPolicyVersion(ctx context.Context, call *Call, in *iamshape.SetDefaultPolicyVersionRequest) (*iamshape.SetDefaultPolicyVersionResponse, error) {
	id, err := checkVersionID(in.VersionId)
	if err != nil {
		return nil, err
	}
	_, err = a.updatePolicy(ctx, call, in.PolicyArn, func(p *wire.IAMPolicy) error {
		if !slices.ContainsFunc(p.Versions, func(v wire.IAMPolicyVersion) bool { return v.ID == id }) {
			return noSuchVersion(p.ARN, id)
		}
		p.DefaultVersion = id
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.SetDefaultPolicyVersionResponse{}, nil
}
