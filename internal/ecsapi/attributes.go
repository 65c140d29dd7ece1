package ecsapi

import (
	"sort"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// attributeChanges validates Put/DeleteAttributes input and resolves targets.
func (a *API) attributeChanges(cluster string, attrs []shape.Attribute, put bool) ([]wire.AttributeChange, error) {
	if err := checkCount("attributes", len(attrs), 1, 10); err != nil {
		return nil, err
	}
	out := make([]wire.AttributeChange, 0, len(attrs))
	for _, at := range attrs {
		if at.Name == nil || *at.Name == "" {
			return nil, apierr.InvalidParameterf("Attribute name cannot be empty.")
		}
		if put {
			if err := validateAttribute(at); err != nil {
				return nil, err
			}
		}
		if at.TargetType != "" && at.TargetType != shape.TargetTypeContainerInstance {
			return nil, apierr.InvalidParameterf("Attributes can only target container instances (targetType container-instance), not %s.", at.TargetType)
		}
		target := deref(at.TargetId)
		if target == "" {
			return nil, apierr.InvalidParameterf("The targetId of attribute %s cannot be empty.", *at.Name)
		}
		// ECS: targetType "is required if you use the short form ID for a
		// resource instead of the full ARN".
		if at.TargetType == "" && !isARN(target) {
			return nil, apierr.InvalidParameterf("The targetType of attribute %s is required when its targetId %s is not an ARN.", *at.Name, target)
		}
		id, ok := a.resourceID(arn.TypeContainerInstance, cluster, target)
		if !ok {
			return nil, apierr.Newf(apierr.TargetNotFound, "Could not find container instance %s in cluster %s.", target, cluster)
		}
		out = append(out, wire.AttributeChange{Name: *at.Name, Value: at.Value, TargetID: id, Target: target})
	}
	return out, nil
}

// echoAttributes is the response of Put/DeleteAttributes: the request's
// attributes as the caller wrote them (ECS adds no targetType).
func echoAttributes(attrs []shape.Attribute) []shape.Attribute {
	return append([]shape.Attribute{}, attrs...)
}

func putAttributes(a *API, c *call, in *shape.PutAttributesRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	changes, err := a.attributeChanges(cluster, in.Attributes, true)
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(c, wire.PutAttributes{Meta: c.meta(), Cluster: cluster, Attributes: changes}); err != nil {
		return nil, err
	}
	return &shape.PutAttributesResponse{Attributes: echoAttributes(in.Attributes)}, nil
}

func deleteAttributes(a *API, c *call, in *shape.DeleteAttributesRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	changes, err := a.attributeChanges(cluster, in.Attributes, false)
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(c, wire.DeleteAttributes{Meta: c.meta(), Cluster: cluster, Attributes: changes}); err != nil {
		return nil, err
	}
	return &shape.DeleteAttributesResponse{Attributes: echoAttributes(in.Attributes)}, nil
}

func listAttributes(a *API, c *call, in *shape.ListAttributesRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.TargetType == "" {
		return nil, apierr.InvalidParameterf("targetType cannot be empty.")
	}
	if err := checkEnum("targetType", in.TargetType); err != nil {
		return nil, err
	}
	if in.AttributeValue != nil && in.AttributeName == nil {
		return nil, apierr.InvalidParameterf("attributeValue can only be used together with attributeName.")
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 100, 100)
	if err != nil {
		return nil, err
	}
	snap := a.snapshot()
	if _, err := fsm.ActiveCluster(snap, cluster); err != nil {
		return nil, err
	}
	afterID, afterName := splitKey(after)
	out := &shape.ListAttributesResponse{Attributes: []shape.Attribute{}}
	full := false
	last := ""
	snap.Instances(cluster, "", func(ci *state.ContainerInstance) bool {
		if deref(ci.Shape.Status) == "INACTIVE" || ci.ID < afterID {
			return true
		}
		attrs := append([]shape.Attribute{}, ci.Shape.Attributes...)
		sort.Slice(attrs, func(i, j int) bool { return deref(attrs[i].Name) < deref(attrs[j].Name) })
		for _, at := range attrs {
			name := deref(at.Name)
			if ci.ID == afterID && name <= afterName {
				continue
			}
			if in.AttributeName != nil && name != *in.AttributeName {
				continue
			}
			if in.AttributeValue != nil && deref(at.Value) != *in.AttributeValue {
				continue
			}
			if len(out.Attributes) == limit {
				full = true
				return false
			}
			out.Attributes = append(out.Attributes, shape.Attribute{Name: at.Name, Value: at.Value,
				TargetType: shape.TargetTypeContainerInstance, TargetId: ci.Shape.ContainerInstanceArn})
			last = ci.ID + "\x00" + name
		}
		return true
	})
	if full {
		out.NextToken = nextToken(c.op, last)
	}
	return out, nil
}

func splitKey(k string) (string, string) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}
