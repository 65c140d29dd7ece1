package iamapi

import (
	"context"
	"slices"
	"strings"

	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/iamshape"
	"berth.dev/berth/internal/state"
)

// ListEntitiesForPolicy lists the roles a managed policy is attached to
// (berth has no users or groups).
func (a *API) ListEntitiesForPolicy(ctx context.Context, call *Call, in *iamshape.ListEntitiesForPolicyRequest) (*iamshape.ListEntitiesForPolicyResponse, error) {
	switch f := string(in.EntityFilter); f {
	case "", "Role", "User", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
	default:
		return nil, validation(f, "entityFilter", "must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]")
	}
	prefix := "/"
	if in.PathPrefix != nil {
		if len(*in.PathPrefix) < 1 || len(*in.PathPrefix) > 512 || !strings.HasPrefix(*in.PathPrefix, "/") {
			return nil, validation(*in.PathPrefix, "pathPrefix", `must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
		}
		prefix = *in.PathPrefix
	}
	snap := a.cfg.State.Snapshot()
	m, err := a.findPolicy(snap, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	var roles []*state.IAMRole
	if in.EntityFilter == "" || in.EntityFilter == "Role" {
		for _, r := range attachments(snap, m.arn) {
			if strings.HasPrefix(r.Path, prefix) {
				roles = append(roles, r)
			}
		}
	}
	got, truncated, marker, err := page(roles, func(r *state.IAMRole) string { return state.IAMRoleKey(r.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamshape.ListEntitiesForPolicyResponse{PolicyRoles: []iamshape.PolicyRole{}, PolicyUsers: []iamshape.PolicyUser{},
		PolicyGroups: []iamshape.PolicyGroup{}, IsTruncated: truncated, Marker: marker}
	for _, r := range got {
		out.PolicyRoles = append(out.PolicyRoles, iamshape.PolicyRole{RoleName: ptr(r.Name), RoleId: ptr(r.ID)})
	}
	return out, nil
}

// TagPolicy adds or overwrites a customer managed policy's tags.
func (a *API) TagPolicy(ctx context.Context, call *Call, in *iamshape.TagPolicyRequest) (*iamshape.TagPolicyResponse, error) {
	if in.Tags == nil {
		return nil, validation(nil, "tags", "must not be null")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	_, err = a.updatePolicy(ctx, call, in.PolicyArn, func(p *wire.IAMPolicy) error {
		merged, err := mergeTags(p.Tags, tags)
		if err != nil {
			return Error(CodeLimitExceeded, "Cannot exceed quota for TagsPerPolicy: %d", MaxTags)
		}
		p.Tags = merged
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.TagPolicyResponse{}, nil
}

// UntagPolicy removes a customer managed policy's tags by key (any case).
func (a *API) UntagPolicy(ctx context.Context, call *Call, in *iamshape.UntagPolicyRequest) (*iamshape.UntagPolicyResponse, error) {
	if in.TagKeys == nil {
		return nil, validation(nil, "tagKeys", "must not be null")
	}
	_, err := a.updatePolicy(ctx, call, in.PolicyArn, func(p *wire.IAMPolicy) error {
		p.Tags = slices.DeleteFunc(p.Tags, func(t wire.IAMTag) bool {
			return slices.ContainsFunc(in.TagKeys, func(k string) bool { return strings.EqualFold(k, t.Key) })
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamshape.UntagPolicyResponse{}, nil
}

// ListPolicyTags lists a managed policy's tags (AWS managed ones have none).
func (a *API) ListPolicyTags(ctx context.Context, call *Call, in *iamshape.ListPolicyTagsRequest) (*iamshape.ListPolicyTagsResponse, error) {
	m, err := a.findPolicy(a.cfg.State.Snapshot(), in.PolicyArn)
	if err != nil {
		return nil, err
	}
	var tags []state.IAMTag
	if m.local != nil {
		tags = slices.Clone(m.local.Tags)
	}
	slices.SortFunc(tags, func(x, y state.IAMTag) int { return strings.Compare(x.Key, y.Key) })
	got, truncated, marker, err := page(tags, func(t state.IAMTag) string { return t.Key }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamshape.ListPolicyTagsResponse{Tags: []iamshape.Tag{}, IsTruncated: truncated, Marker: marker}
	for _, t := range got {
		out.Tags = append(out.Tags, iamshape.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out, nil
}

// ListInstanceProfilesForRole lists the instance profiles holding a role:
// none, as berth serves no instance profiles (the role must exist).
func (a *API) ListInstanceProfilesForRole(ctx context.Context, call *Call, in *iamshape.ListInstanceProfilesForRoleRequest) (*iamshape.ListInstanceProfilesForRoleResponse, error) {
	name, err := roleName(in.RoleName)
	if err != nil {
		return nil, err
	}
	if _, _, err := pageBounds(in.Marker, in.MaxItems); err != nil {
		return nil, err
	}
	if _, err := a.role(name); err != nil {
		return nil, err
	}
	return &iamshape.ListInstanceProfilesForRoleResponse{InstanceProfiles: []iamshape.InstanceProfile{}}, nil
}
