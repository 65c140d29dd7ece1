package fsm

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// attributeTargets loads every target instance once, checking it exists.
func attributeTargets(tx *state.Txn, cluster string, changes []wire.AttributeChange) (map[string]*shape.ContainerInstance, error) {
	targets := map[string]*shape.ContainerInstance{}
	for _, a := range changes {
		if _, ok := targets[a.TargetID]; ok {
			continue
		}
		ci := tx.Instance(a.TargetID)
		if ci == nil || ci.Cluster != cluster || deref(ci.Shape.Status) == "INACTIVE" {
			return nil, apierr.Newf(apierr.TargetNotFound, "Could not find container instance %s in cluster %s.", a.Target, cluster)
		}
		cp := *ci.Shape
		cp.Attributes = append([]shape.Attribute{}, ci.Shape.Attributes...)
		targets[a.TargetID] = &cp
	}
	return targets, nil
}

func saveTargets(tx *state.Txn, cluster string, targets map[string]*shape.ContainerInstance) error {
	for id, ci := range targets {
		ci.Version++
		if err := tx.Put(state.TableInstances, withShape(tx.Instance(id), ci)); err != nil {
			return err
		}
	}
	return nil
}

func applyPutAttributes(m *Machine, tx *state.Txn, c *wire.PutAttributes) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, err
	}
	targets, err := attributeTargets(tx, c.Cluster, c.Attributes)
	if err != nil {
		return nil, err
	}
	for _, a := range c.Attributes {
		ci := targets[a.TargetID]
		replaced := false
		for i := range ci.Attributes {
			if deref(ci.Attributes[i].Name) == a.Name {
				ci.Attributes[i] = shape.Attribute{Name: ptr(a.Name), Value: a.Value}
				replaced = true
			}
		}
		if !replaced {
			ci.Attributes = append(ci.Attributes, shape.Attribute{Name: ptr(a.Name), Value: a.Value})
		}
	}
	for _, ci := range targets {
		if countCustom(ci.Attributes) > MaxCustomAttributes {
			return nil, apierr.Newf(apierr.AttributeLimitExceeded, "Container instance %s would have more than %d custom attributes.", deref(ci.ContainerInstanceArn), MaxCustomAttributes)
		}
	}
	if err := saveTargets(tx, c.Cluster, targets); err != nil {
		return nil, err
	}
	return c.Attributes, nil
}

func applyDeleteAttributes(m *Machine, tx *state.Txn, c *wire.DeleteAttributes) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, err
	}
	targets, err := attributeTargets(tx, c.Cluster, c.Attributes)
	if err != nil {
		return nil, err
	}
	for _, a := range c.Attributes {
		ci := targets[a.TargetID]
		kept := ci.Attributes[:0]
		for _, x := range ci.Attributes {
			if deref(x.Name) != a.Name {
				kept = append(kept, x)
			}
		}
		ci.Attributes = kept
	}
	if err := saveTargets(tx, c.Cluster, targets); err != nil {
		return nil, err
	}
	return c.Attributes, nil
}
