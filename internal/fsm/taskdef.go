package fsm

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// MaxRevisions is the revision limit of one family.
const MaxRevisions = 1_000_000

// RegisteredTaskDefinition is the result of wire.RegisterTaskDefinition.
type RegisteredTaskDefinition struct {
	Def  *shape.TaskDefinition
	Tags []shape.Tag
}

// DeletedTaskDefinitions is the result of wire.DeleteTaskDefinitions.
type DeletedTaskDefinitions struct {
	Defs     []shape.TaskDefinition
	Failures []shape.Failure
}

// ErrTaskDefinitionNotFound is the error for a revision that does not exist.
func ErrTaskDefinitionNotFound() *apierr.Error {
	return apierr.New(apierr.Client, "The specified task definition does not exist.")
}

func applyRegisterTaskDefinition(m *Machine, tx *state.Txn, c *wire.RegisterTaskDefinition) (any, error) {
	family := deref(c.Def.Family)
	fam := &state.Family{Name: family}
	if old := tx.Family(family); old != nil {
		*fam = *old
	}
	if fam.LastRevision >= MaxRevisions {
		return nil, apierr.Clientf("Too many revisions of task definition family %s: the limit is %d.", family, MaxRevisions)
	}
	fam.LastRevision++
	fam.Active++
	fam.Live++
	def := *c.Def
	def.Revision = fam.LastRevision
	def.TaskDefinitionArn = ptr(m.namer.TaskDefinition(family, fam.LastRevision))
	def.Status = shape.TaskDefinitionStatusActive
	def.RegisteredAt = shape.NewTimestamp(c.Now)
	if c.Principal != "" {
		def.RegisteredBy = ptr(c.Principal)
	}
	rec := &state.TaskDefinition{Family: family, Revision: fam.LastRevision, Def: &def, Tags: c.Tags}
	if err := tx.Put(state.TableFamilies, fam); err != nil {
		return nil, err
	}
	if err := tx.Put(state.TableTaskDefinitions, rec); err != nil {
		return nil, err
	}
	return &RegisteredTaskDefinition{Def: &def, Tags: c.Tags}, nil
}

func applyDeregisterTaskDefinition(m *Machine, tx *state.Txn, c *wire.DeregisterTaskDefinition) (any, error) {
	old := tx.TaskDefinition(c.Family, c.Revision)
	if old == nil || old.Def.Status == shape.TaskDefinitionStatusDeleteInProgress {
		return nil, ErrTaskDefinitionNotFound()
	}
	if old.Def.Status == shape.TaskDefinitionStatusInactive {
		// Deregistering twice changes nothing and answers the same.
		return old.Def, nil
	}
	def := *old.Def
	def.Status = shape.TaskDefinitionStatusInactive
	def.DeregisteredAt = shape.NewTimestamp(c.Now)
	rec := *old
	rec.Def = &def
	fam := *tx.Family(c.Family)
	fam.Active--
	if err := tx.Put(state.TableFamilies, &fam); err != nil {
		return nil, err
	}
	if err := tx.Put(state.TableTaskDefinitions, &rec); err != nil {
		return nil, err
	}
	return &def, nil
}

func applyDeleteTaskDefinitions(m *Machine, tx *state.Txn, c *wire.DeleteTaskDefinitions) (any, error) {
	out := &DeletedTaskDefinitions{Defs: []shape.TaskDefinition{}, Failures: []shape.Failure{}}
	for _, ref := range c.Refs {
		old := tx.TaskDefinition(ref.Family, ref.Revision)
		arn := m.namer.TaskDefinition(ref.Family, ref.Revision)
		switch {
		case old == nil:
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(arn), Reason: ptr("The specified task definition does not exist.")})
			continue
		case old.Def.Status == shape.TaskDefinitionStatusActive:
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(arn), Reason: ptr("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")})
			continue
		}
		def := *old.Def
		def.Status = shape.TaskDefinitionStatusDeleteInProgress
		if def.DeleteRequestedAt == nil {
			def.DeleteRequestedAt = shape.NewTimestamp(c.Now)
		}
		out.Defs = append(out.Defs, def)
		if old.Def.Status == shape.TaskDefinitionStatusDeleteInProgress {
			continue
		}
		fam := *tx.Family(ref.Family)
		fam.Live--
		if err := tx.Put(state.TableFamilies, &fam); err != nil {
			return nil, err
		}
		if referenced(tx, arn, c.ServicesUse()) {
			rec := *old
			rec.Def = &def
			if err := tx.Put(state.TableTaskDefinitions, &rec); err != nil {
				return nil, err
			}
			continue
		}
		if err := tx.Delete(state.TableTaskDefinitions, old); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// referenced reports whether a task that has not stopped uses the revision,
// or, with services, an ACTIVE or DRAINING service runs it (a deployment of
// it) or may roll back to it (its last completed deployment).
func referenced(tx *state.Txn, taskDefinitionArn string, services bool) bool {
	found := false
	tx.Clusters("", func(cl *shape.Cluster) bool {
		name := deref(cl.ClusterName)
		tx.Tasks(name, "", func(t *state.Task) bool {
			found = deref(t.Shape.TaskDefinitionArn) == taskDefinitionArn && deref(t.Shape.LastStatus) != "STOPPED"
			return !found
		})
		if !found && services {
			tx.Services(name, "", func(svc *state.Service) bool {
				found = serviceUses(svc, taskDefinitionArn)
				return !found
			})
		}
		return !found
	})
	return found
}

func serviceUses(svc *state.Service, taskDefinitionArn string) bool {
	if st := deref(svc.Shape.Status); st != "ACTIVE" && st != "DRAINING" {
		return false
	}
	if deref(svc.Shape.TaskDefinition) == taskDefinitionArn {
		return true
	}
	for _, d := range svc.Deployments {
		if d.TaskDefinition == taskDefinitionArn {
			return true
		}
	}
	return svc.LastCompleted != nil && svc.LastCompleted.TaskDefinition == taskDefinitionArn
}
