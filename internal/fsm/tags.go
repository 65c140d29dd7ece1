package fsm

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// MaxTags is ECS's limit of tags per resource.
const MaxTags = 50

// ErrResourceNotFound is the error for a tag request on a missing resource.
func ErrResourceNotFound() *apierr.Error {
	return apierr.New(apierr.ResourceNotFound, "The specified resource could not be found.")
}

// ResourceTags returns the tags of the resource ref names.
func ResourceTags(s *state.Snapshot, ref wire.ResourceRef) ([]shape.Tag, error) {
	switch ref.Kind {
	case arn.TypeCluster:
		c := s.Cluster(ref.ID)
		if c == nil {
			return nil, ErrClusterNotFound()
		}
		if deref(c.Status) != "ACTIVE" {
			// Real ECS's answer for a deleted cluster; Terraform's ECS tag
			// code treats exactly this as "not found".
			return nil, apierr.InvalidParameterf("The specified cluster is inactive. Specify an active cluster and try again.")
		}
		return c.Tags, nil
	case arn.TypeTaskDefinition:
		td := s.TaskDefinition(ref.Family, ref.Revision)
		if td == nil || td.Def.Status == shape.TaskDefinitionStatusDeleteInProgress {
			return nil, ErrResourceNotFound()
		}
		return td.Tags, nil
	case arn.TypeContainerInstance:
		ci := s.Instance(ref.ID)
		if ci == nil || ci.Cluster != ref.Cluster {
			return nil, ErrResourceNotFound()
		}
		return ci.Shape.Tags, nil
	case arn.TypeTask:
		t := s.Task(ref.ID)
		if t == nil || t.Cluster != ref.Cluster {
			return nil, ErrResourceNotFound()
		}
		return t.Shape.Tags, nil
	case arn.TypeService:
		svc := s.Service(ref.Cluster, ref.ID)
		if svc == nil {
			return nil, ErrResourceNotFound()
		}
		if deref(svc.Shape.Status) != "ACTIVE" {
			// A DRAINING or INACTIVE service is not tagged; ECS's answer to
			// any change of one that is no longer ACTIVE.
			return nil, apierr.New(apierr.ServiceNotActive, "Service was not ACTIVE.")
		}
		return svc.Shape.Tags, nil
	}
	return nil, notTaggable(ref)
}

// notTaggable is the error for an ARN of a kind that has no tags.
func notTaggable(ref wire.ResourceRef) error {
	return apierr.InvalidParameterf("The ARN %s does not name a resource that supports tagging.", ref.ARN)
}

// setTags replaces the tags of the resource ref names.
func setTags(tx *state.Txn, ref wire.ResourceRef, tags []shape.Tag) error {
	switch ref.Kind {
	case arn.TypeCluster:
		c := *tx.Cluster(ref.ID)
		c.Tags = tags
		return tx.Put(state.TableClusters, &c)
	case arn.TypeTaskDefinition:
		td := *tx.TaskDefinition(ref.Family, ref.Revision)
		td.Tags = tags
		return tx.Put(state.TableTaskDefinitions, &td)
	case arn.TypeContainerInstance:
		old := tx.Instance(ref.ID)
		ci := *old.Shape
		ci.Tags = tags
		return tx.Put(state.TableInstances, withShape(old, &ci))
	case arn.TypeTask:
		old := tx.Task(ref.ID)
		t := *old.Shape
		t.Tags = tags
		cp := *old
		cp.Shape = &t
		return tx.Put(state.TableTasks, &cp)
	case arn.TypeService:
		old := tx.Service(ref.Cluster, ref.ID)
		sh := *old.Shape
		sh.Tags = tags
		cp := *old
		cp.Shape = &sh
		return tx.Put(state.TableServices, &cp)
	}
	return notTaggable(ref)
}

// MergeTags returns old with tags added or overwritten by key.
func MergeTags(old, add []shape.Tag) []shape.Tag {
	out := append([]shape.Tag{}, old...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if deref(out[i].Key) == deref(t.Key) {
				out[i] = t
				replaced = true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

func applyTagResource(m *Machine, tx *state.Txn, c *wire.TagResource) (any, error) {
	if c.Resource.Kind == arn.TypeService && !c.TagsServices() {
		return nil, notTaggable(c.Resource)
	}
	old, err := ResourceTags(&tx.Snapshot, c.Resource)
	if err != nil {
		return nil, err
	}
	merged := MergeTags(old, c.Tags)
	if len(merged) > MaxTags {
		return nil, apierr.InvalidParameterf("A resource can have at most %d tags; this request would leave %d.", MaxTags, len(merged))
	}
	return nil, setTags(tx, c.Resource, merged)
}

func applyUntagResource(m *Machine, tx *state.Txn, c *wire.UntagResource) (any, error) {
	if c.Resource.Kind == arn.TypeService && !c.TagsServices() {
		return nil, notTaggable(c.Resource)
	}
	old, err := ResourceTags(&tx.Snapshot, c.Resource)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range c.Keys {
		drop[k] = true
	}
	kept := []shape.Tag{}
	for _, t := range old {
		if !drop[deref(t.Key)] {
			kept = append(kept, t)
		}
	}
	return nil, setTags(tx, c.Resource, kept)
}
