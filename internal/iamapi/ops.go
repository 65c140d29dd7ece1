package iamapi

import (
	"context"
	"slices"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/iamshape"
	"berth.dev/berth/internal/policy"
	"berth.dev/berth/internal/state"
)

func notFound(name string) error { return fsm.ErrIAMRoleNotFound(name) }

// role returns the role of that name, or NoSuchEntity.
func (a *API) role(name string) (*state.IAMRole, error) {
	r := a.cfg.State.Snapshot().IAMRole(name)
	if r == nil {
		return nil, notFound(name)
	}
	return r, nil
}

// Role returns the role of that name, or nil (for STS).
func (a *API) Role(name string) *state.IAMRole { return a.cfg.State.Snapshot().IAMRole(name) }

// trustPolicy validates a trust policy document.
func trustPolicy(v *string) (string, error) {
	if v == nil {
		return "", validation(nil, "assumeRolePolicyDocument", "must not be null")
	}
	if len(*v) > MaxTrustPolicySize {
		return "", Error(CodeLimitExceeded, "Cannot exceed quota for ACLSizePerRole: %d", MaxTrustPolicySize)
	}
	if _, err := policy.Parse(*v, policy.Trust); err != nil {
		return "", err
	}
	return *v, nil
}

// CreateRole creates a role.
func (a *API) CreateRole(ctx context.Context, call *Call, in *iamshape.CreateRoleRequest) (*iamshape.CreateRoleResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path, "path")
	if err != nil {
		return nil, err
	}
	doc, err := trustPolicy(in.AssumeRolePolicyDocument)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, err
	}
	session, err := checkSession(in.MaxSessionDuration)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if len(tags) > MaxTags {
		return nil, Error(CodeLimitExceeded, "Cannot exceed quota for TagsPerRole: %d", MaxTags)
	}
	var boundary string
	if in.PermissionsBoundary != nil {
		if boundary, err = a.checkPolicyARN(in.PermissionsBoundary, "permissionsBoundary"); err != nil {
			return nil, err
		}
	}
	if in.MaxSigninSessionDuration != nil {
		return nil, Error(CodeInvalidInput, "MaxSigninSessionDuration is not supported by berth.")
	}
	if a.cfg.State.Snapshot().IAMRole(name) != nil {
		return nil, apierr.Newf(CodeEntityAlreadyExists, "Role with name %s already exists.", name)
	}
	r := wire.IAMRole{Name: name, ID: a.cfg.NewRoleID(), ARN: a.RoleARN(path, name), Path: path, AssumeRolePolicy: doc,
		Description: desc, MaxSessionDuration: session, PermissionsBoundary: boundary, CreatedAt: call.Now.UTC(), Tags: tags}
	res, err := a.cfg.Proposer.Apply(ctx, wire.CreateIAMRole{Meta: call.meta(), Role: r})
	if err != nil {
		return nil, err
	}
	out := toShape(res.(*state.IAMRole), true)
	out.RoleLastUsed = nil
	return &iamshape.CreateRoleResponse{Role: &out}, nil
}

// GetRole returns a role.
func (a *API) GetRole(ctx context.Context, call *Call, in *iamshape.GetRoleRequest) (*iamshape.GetRoleResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	r, err := a.role(name)
	if err != nil {
		return nil, err
	}
	out := toShape(r, true)
	return &iamshape.GetRoleResponse{Role: &out}, nil
}

// ListRoles lists roles by path prefix, in name order.
func (a *API) ListRoles(ctx context.Context, call *Call, in *iamshape.ListRolesRequest) (*iamshape.ListRolesResponse, error) {
	prefix := "/"
	if in.PathPrefix != nil {
		if len(*in.PathPrefix) < 1 || len(*in.PathPrefix) > 512 || !strings.HasPrefix(*in.PathPrefix, "/") {
			return nil, validation(*in.PathPrefix, "pathPrefix", `must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
		}
		prefix = *in.PathPrefix
	}
	var roles []*state.IAMRole
	a.cfg.State.Snapshot().IAMRoles(func(r *state.IAMRole) bool {
		if strings.HasPrefix(r.Path, prefix) {
			roles = append(roles, r)
		}
		return true
	})
	got, truncated, marker, err := page(roles, func(r *state.IAMRole) string { return state.IAMRoleKey(r.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamshape.ListRolesResponse{Roles: []iamshape.Role{}, IsTruncated: truncated, Marker: marker}
	for _, r := range got {
		out.Roles = append(out.Roles, toShape(r, false))
	}
	return out, nil
}

// DeleteRole deletes a role without policies.
func (a *API) DeleteRole(ctx context.Context, call *Call, in *iamshape.DeleteRoleRequest) (*iamshape.DeleteRoleResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	if _, err := a.role(name); err != nil {
		return nil, err
	}
	if _, err := a.cfg.Proposer.Apply(ctx, wire.DeleteIAMRole{Meta: call.meta(), Name: name}); err != nil {
		return nil, err
	}
	return &iamshape.DeleteRoleResponse{}, nil
}

// update applies change to the role of that name and commits it,
// retrying when the role changed concurrently.
func (a *API) update(ctx context.Context, call *Call, name string, change func(r *wire.IAMRole) error) (*state.IAMRole, error) {
	for range maxUpdateRetries {
		old, err := a.role(name)
		if err != nil {
			return nil, err
		}
		r := fsm.IAMRoleToWire(old)
		if err := change(&r); err != nil {
			return nil, err
		}
		res, err := a.cfg.Proposer.Apply(ctx, wire.UpdateIAMRole{Meta: call.meta(), Base: old.Revision, Role: r})
		if e, ok := apierr.As(err); ok && e.Code == fsm.IAMRevisionConflict {
			continue
		}
		if err != nil {
			return nil, err
		}
		return res.(*state.IAMRole), nil
	}
	return nil, Error("ServiceFailure", "The role %s is being changed concurrently; retry.", name)
}

// UpdateRole changes a role's description and maximum session duration.
func (a *API) UpdateRole(ctx context.Context, call *Call, in *iamshape.UpdateRoleRequest) (*iamshape.UpdateRoleResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, err
	}
	var session int32
	if in.MaxSessionDuration != nil {
		if session, err = checkSession(in.MaxSessionDuration); err != nil {
			return nil, err
		}
	}
	if in.MaxSigninSessionDuration != nil {
		return nil, Error(CodeInvalidInput, "MaxSigninSessionDuration is not supported by berth.")
	}
	_, err = a.update(ctx, call, name, func(r *wire.IAMRole) error {
		if in.Description != nil {
			r.Description = desc
		}
		if session != 0 {
			r.MaxSessionDuration = session
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.UpdateRoleResponse{}, nil
}

// UpdateRoleDescription changes a role's description.
func (a *API) UpdateRoleDescription(ctx context.Context, call *Call, in *iamshape.UpdateRoleDescriptionRequest) (*iamshape.UpdateRoleDescriptionResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	if in.Description == nil {
		return nil, validation(nil, "description", "must not be null")
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, err
	}
	r, err := a.update(ctx, call, name, func(r *wire.IAMRole) error { r.Description = desc; return nil })
	if err != nil {
		return nil, err
	}
	out := toShape(r, true)
	return &iamshape.UpdateRoleDescriptionResponse{Role: &out}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (a *API) UpdateAssumeRolePolicy(ctx context.Context, call *Call, in *iamshape.UpdateAssumeRolePolicyRequest) (*iamshape.UpdateAssumeRolePolicyResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	if in.PolicyDocument == nil {
		return nil, validation(nil, "policyDocument", "must not be null")
	}
	doc, err := trustPolicy(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	if _, err := a.update(ctx, call, name, func(r *wire.IAMRole) error { r.AssumeRolePolicy = doc; return nil }); err != nil {
		return nil, err
	}
	return &iamshape.UpdateAssumeRolePolicyResponse{}, nil
}

// PutRolePolicy adds or replaces an inline policy.
func (a *API) PutRolePolicy(ctx context.Context, call *Call, in *iamshape.PutRolePolicyRequest) (*iamshape.PutRolePolicyResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	pname, err := checkName(in.PolicyName, "policyName", 128)
	if err != nil {
		return nil, err
	}
	if in.PolicyDocument == nil {
		return nil, validation(nil, "policyDocument", "must not be null")
	}
	if _, err := policy.Parse(*in.PolicyDocument, policy.Permission); err != nil {
		return nil, err
	}
	doc := *in.PolicyDocument
	_, err = a.update(ctx, call, name, func(r *wire.IAMRole) error {
		size := len(doc)
		i := slices.IndexFunc(r.Inline, func(p wire.IAMInlinePolicy) bool { return p.Name == pname })
		for j, p := range r.Inline {
			if j != i {
				size += len(p.Document)
			}
		}
		if size > MaxInlineSize {
			return Error(CodeLimitExceeded, "Maximum policy size of %d bytes exceeded for role %s", MaxInlineSize, r.Name)
		}
		if i >= 0 {
			r.Inline[i].Document = doc
			return nil
		}
		r.Inline = append(r.Inline, wire.IAMInlinePolicy{Name: pname, Document: doc})
		slices.SortFunc(r.Inline, func(x, y wire.IAMInlinePolicy) int { return strings.Compare(x.Name, y.Name) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.PutRolePolicyResponse{}, nil
}

func noSuchPolicy(role, pname string) error {
	return apierr.Newf(CodeNoSuchEntity, "The role policy with name %s cannot be found.", pname)
}

// GetRolePolicy returns an inline policy, its document URL-encoded.
func (a *API) GetRolePolicy(ctx context.Context, call *Call, in *iamshape.GetRolePolicyRequest) (*iamshape.GetRolePolicyResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	pname, err := checkName(in.PolicyName, "policyName", 128)
	if err != nil {
		return nil, err
	}
	r, err := a.role(name)
	if err != nil {
		return nil, err
	}
	for _, p := range r.Inline {
		if p.Name == pname {
			return &iamshape.GetRolePolicyResponse{RoleName: ptr(r.Name), PolicyName: ptr(p.Name), PolicyDocument: ptr(encodeDocument(p.Document))}, nil
		}
	}
	return nil, noSuchPolicy(name, pname)
}

// DeleteRolePolicy deletes an inline policy.
func (a *API) DeleteRolePolicy(ctx context.Context, call *Call, in *iamshape.DeleteRolePolicyRequest) (*iamshape.DeleteRolePolicyResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	pname, err := checkName(in.PolicyName, "policyName", 128)
	if err != nil {
		return nil, err
	}
	_, err = a.update(ctx, call, name, func(r *wire.IAMRole) error {
		i := slices.IndexFunc(r.Inline, func(p wire.IAMInlinePolicy) bool { return p.Name == pname })
		if i < 0 {
			return noSuchPolicy(name, pname)
		}
		r.Inline = slices.Delete(r.Inline, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.DeleteRolePolicyResponse{}, nil
}

// ListRolePolicies lists a role's inline policy names.
func (a *API) ListRolePolicies(ctx context.Context, call *Call, in *iamshape.ListRolePoliciesRequest) (*iamshape.ListRolePoliciesResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	r, err := a.role(name)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(r.Inline))
	for _, p := range r.Inline {
		names = append(names, p.Name)
	}
	got, truncated, marker, err := page(names, func(s string) string { return s }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamshape.ListRolePoliciesResponse{PolicyNames: append([]string{}, got...), IsTruncated: truncated, Marker: marker}, nil
}

// AttachRolePolicy attaches a managed policy: a customer managed policy
// that exists, or any AWS managed policy ARN.
func (a *API) AttachRolePolicy(ctx context.Context, call *Call, in *iamshape.AttachRolePolicyRequest) (*iamshape.AttachRolePolicyResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	arnValue, err := a.checkPolicyARN(in.PolicyArn, "policyArn")
	if err != nil {
		return nil, err
	}
	_, err = a.update(ctx, call, name, func(r *wire.IAMRole) error {
		if slices.Contains(r.Attached, arnValue) {
			return nil
		}
		if len(r.Attached) >= MaxAttached {
			return Error(CodeLimitExceeded, "Cannot exceed quota for PoliciesPerRole: %d", MaxAttached)
		}
		r.Attached = append(r.Attached, arnValue)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.AttachRolePolicyResponse{}, nil
}

// DetachRolePolicy detaches a managed policy ARN.
func (a *API) DetachRolePolicy(ctx context.Context, call *Call, in *iamshape.DetachRolePolicyRequest) (*iamshape.DetachRolePolicyResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	arnValue, err := a.checkPolicyARN(in.PolicyArn, "policyArn")
	if err != nil {
		return nil, err
	}
	_, err = a.update(ctx, call, name, func(r *wire.IAMRole) error {
		i := slices.Index(r.Attached, arnValue)
		if i < 0 {
			return apierr.Newf(CodeNoSuchEntity, "Policy %s was not found.", arnValue)
		}
		r.Attached = slices.Delete(r.Attached, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.DetachRolePolicyResponse{}, nil
}

// ListAttachedRolePolicies lists a role's attached policies.
func (a *API) ListAttachedRolePolicies(ctx context.Context, call *Call, in *iamshape.ListAttachedRolePoliciesRequest) (*iamshape.ListAttachedRolePoliciesResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	prefix := "/"
	if in.PathPrefix != nil {
		prefix = *in.PathPrefix
	}
	r, err := a.role(name)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, x := range r.Attached {
		_, rest, _ := strings.Cut(x, ":policy")
		if strings.HasPrefix(rest, prefix) {
			arns = append(arns, x)
		}
	}
	slices.Sort(arns)
	got, truncated, marker, err := page(arns, func(s string) string { return s }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamshape.ListAttachedRolePoliciesResponse{AttachedPolicies: []iamshape.AttachedPolicy{}, IsTruncated: truncated, Marker: marker}
	for _, x := range got {
		out.AttachedPolicies = append(out.AttachedPolicies, iamshape.AttachedPolicy{PolicyArn: ptr(x), PolicyName: ptr(policyName(x))})
	}
	return out, nil
}

// TagRole adds or overwrites tags.
func (a *API) TagRole(ctx context.Context, call *Call, in *iamshape.TagRoleRequest) (*iamshape.TagRoleResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, validation(nil, "tags", "must not be null")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	_, err = a.update(ctx, call, name, func(r *wire.IAMRole) error {
		merged, err := mergeTags(r.Tags, tags)
		r.Tags = merged
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.TagRoleResponse{}, nil
}

// UntagRole removes tags by key (case-insensitively, as IAM's keys are).
func (a *API) UntagRole(ctx context.Context, call *Call, in *iamshape.UntagRoleRequest) (*iamshape.UntagRoleResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, validation(nil, "tagKeys", "must not be null")
	}
	_, err = a.update(ctx, call, name, func(r *wire.IAMRole) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t wire.IAMTag) bool {
			return slices.ContainsFunc(in.TagKeys, func(k string) bool { return strings.EqualFold(k, t.Key) })
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.UntagRoleResponse{}, nil
}

// ListRoleTags lists a role's tags.
func (a *API) ListRoleTags(ctx context.Context, call *Call, in *iamshape.ListRoleTagsRequest) (*iamshape.ListRoleTagsResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	r, err := a.role(name)
	if err != nil {
		return nil, err
	}
	tags := slices.Clone(r.Tags)
	slices.SortFunc(tags, func(x, y state.IAMTag) int { return strings.Compare(x.Key, y.Key) })
	got, truncated, marker, err := page(tags, func(t state.IAMTag) string { return t.Key }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamshape.ListRoleTagsResponse{Tags: []iamshape.Tag{}, IsTruncated: truncated, Marker: marker}
	for _, t := range got {
		out.Tags = append(out.Tags, iamshape.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out, nil
}
