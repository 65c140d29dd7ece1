package ecsapi

import (
	"strconv"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
)

// resourceRef parses the ARN of a taggable resource.
func (a *API) resourceRef(in *string) (wire.ResourceRef, error) {
	s, err := required("resourceArn", in)
	if err != nil {
		return wire.ResourceRef{}, err
	}
	p, err := arn.Parse(s)
	if err != nil || p.Service != "ecs" {
		return wire.ResourceRef{}, apierr.InvalidParameterf("resourceArn %s is not a valid ECS resource ARN.", s)
	}
	if !a.cfg.Namer.Owns(p) {
		return wire.ResourceRef{}, fsm.ErrResourceNotFound()
	}
	ref := wire.ResourceRef{ARN: s, Kind: p.Type}
	switch p.Type {
	case arn.TypeContainerInstance, arn.TypeTask, arn.TypeService:
		// The old short forms (TYPE/ID) cannot be tagged; ECS's message.
		if len(p.Path) == 1 {
			return wire.ResourceRef{}, apierr.InvalidParameterf("Long arn format must be used for tagging operations")
		}
	}
	switch p.Type {
	case arn.TypeCluster:
		if len(p.Path) == 1 {
			ref.ID = p.Path[0]
			return ref, nil
		}
	case arn.TypeContainerInstance, arn.TypeTask, arn.TypeService:
		if len(p.Path) == 2 {
			ref.Cluster, ref.ID = p.Path[0], p.Path[1]
			return ref, nil
		}
	case arn.TypeTaskDefinition:
		if len(p.Path) == 1 {
			fam, rev, ok := strings.Cut(p.Path[0], ":")
			n, err := strconv.ParseInt(rev, 10, 32)
			if ok && err == nil && n > 0 {
				ref.Family, ref.Revision = fam, int32(n)
				return ref, nil
			}
		}
	case arn.TypeCapacityProvider, arn.TypeTaskSet:
		return ref, fsm.ErrResourceNotFound()
	}
	return wire.ResourceRef{}, apierr.InvalidParameterf("resourceArn %s is not a valid ARN of a taggable ECS resource.", s)
}

func tagResource(a *API, c *call, in *shape.TagResourceRequest) (any, error) {
	ref, err := a.resourceRef(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := checkCount("tags", len(in.Tags), 1, fsm.MaxTags); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if _, err := a.apply(c, wire.TagResource{Meta: c.meta(), Resource: ref, Tags: in.Tags}); err != nil {
		return nil, err
	}
	return &shape.TagResourceResponse{}, nil
}

func untagResource(a *API, c *call, in *shape.UntagResourceRequest) (any, error) {
	ref, err := a.resourceRef(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := checkCount("tagKeys", len(in.TagKeys), 1, fsm.MaxTags); err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		if n := len([]rune(k)); n < 1 || n > 128 {
			return nil, apierr.InvalidParameterf("Tag keys must be between 1 and 128 characters long.")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, apierr.InvalidParameterf("Tag keys with the aws: prefix are reserved for AWS use.")
		}
	}
	if _, err := a.apply(c, wire.UntagResource{Meta: c.meta(), Resource: ref, Keys: in.TagKeys}); err != nil {
		return nil, err
	}
	return &shape.UntagResourceResponse{}, nil
}

func listTagsForResource(a *API, c *call, in *shape.ListTagsForResourceRequest) (any, error) {
	ref, err := a.resourceRef(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := fsm.ResourceTags(a.snapshot(), ref)
	if err != nil {
		return nil, err
	}
	return &shape.ListTagsForResourceResponse{Tags: orEmpty(tags)}, nil
}
