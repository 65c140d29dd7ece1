package ecsapi

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
	"berth.dev/berth/internal/taskdef"
)

func registerTaskDefinition(a *API, c *call, in *shape.RegisterTaskDefinitionRequest) (any, error) {
	def, err := taskdef.Build(in)
	if err != nil {
		return nil, err
	}
	if err := refuse(unsupportedTaskDefinitionMember(in)); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	v, err := a.apply(c, wire.RegisterTaskDefinition{Meta: c.meta(), Def: def, Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	r := v.(*fsm.RegisteredTaskDefinition)
	return &shape.RegisterTaskDefinitionResponse{TaskDefinition: r.Def, Tags: orEmpty(r.Tags)}, nil
}

// lookupTaskDefinition resolves "family" (latest ACTIVE), "family:rev" or an ARN.
func (a *API) lookupTaskDefinition(snap *state.Snapshot, ref string) (*state.TaskDefinition, error) {
	family, rev, err := a.taskDefRef(ref)
	if err != nil {
		return nil, err
	}
	var td *state.TaskDefinition
	if rev == 0 {
		td = snap.LatestActive(family)
	} else {
		td = snap.TaskDefinition(family, rev)
	}
	if td == nil {
		return nil, errTaskDefNotFound()
	}
	return td, nil
}

func describeTaskDefinition(a *API, c *call, in *shape.DescribeTaskDefinitionRequest) (any, error) {
	ref, err := required("taskDefinition", in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if err := checkEnums("include", in.Include); err != nil {
		return nil, err
	}
	td, err := a.lookupTaskDefinition(a.snapshot(), ref)
	if err != nil {
		return nil, err
	}
	out := &shape.DescribeTaskDefinitionResponse{TaskDefinition: td.Def}
	for _, f := range in.Include {
		if f == shape.TaskDefinitionFieldTags {
			out.Tags = orEmpty(td.Tags)
		}
	}
	return out, nil
}

func listTaskDefinitions(a *API, c *call, in *shape.ListTaskDefinitionsRequest) (any, error) {
	if err := checkEnum("status", in.Status); err != nil {
		return nil, err
	}
	if err := checkEnum("sort", in.Sort); err != nil {
		return nil, err
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 100, 100)
	if err != nil {
		return nil, err
	}
	status := in.Status
	if status == "" {
		status = shape.TaskDefinitionStatusActive
	}
	prefix := deref(in.FamilyPrefix)
	out := &shape.ListTaskDefinitionsResponse{TaskDefinitionArns: []string{}}
	last := ""
	a.snapshot().TaskDefinitions(prefix, after, in.Sort == shape.SortOrderDesc, func(td *state.TaskDefinition) bool {
		if td.Def.Status != status {
			return true
		}
		if len(out.TaskDefinitionArns) == limit {
			out.NextToken = nextToken(c.op, last)
			return false
		}
		out.TaskDefinitionArns = append(out.TaskDefinitionArns, deref(td.Def.TaskDefinitionArn))
		last = state.TaskDefinitionKey(td.Family, td.Revision)
		return true
	})
	return out, nil
}

func listTaskDefinitionFamilies(a *API, c *call, in *shape.ListTaskDefinitionFamiliesRequest) (any, error) {
	if err := checkEnum("status", in.Status); err != nil {
		return nil, err
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 100, 100)
	if err != nil {
		return nil, err
	}
	out := &shape.ListTaskDefinitionFamiliesResponse{Families: []string{}}
	last := ""
	a.snapshot().Families(deref(in.FamilyPrefix), after, func(f *state.Family) bool {
		switch {
		case f.Live == 0:
			return true // every revision deleted: the family is gone
		case in.Status == shape.TaskDefinitionFamilyStatusActive && f.Active == 0:
			return true
		case in.Status == shape.TaskDefinitionFamilyStatusInactive && f.Active > 0:
			return true
		}
		if len(out.Families) == limit {
			out.NextToken = nextToken(c.op, last)
			return false
		}
		out.Families = append(out.Families, f.Name)
		last = f.Name
		return true
	})
	return out, nil
}

func deregisterTaskDefinition(a *API, c *call, in *shape.DeregisterTaskDefinitionRequest) (any, error) {
	ref, err := required("taskDefinition", in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	family, rev, err := a.taskDefRef(ref)
	if err != nil {
		return nil, err
	}
	if rev == 0 {
		return nil, apierr.Clientf("The task definition %s has no revision: specify family:revision or the full ARN.", echo(ref))
	}
	v, err := a.apply(c, wire.DeregisterTaskDefinition{Meta: c.meta(), Family: family, Revision: rev})
	if err != nil {
		return nil, err
	}
	return &shape.DeregisterTaskDefinitionResponse{TaskDefinition: v.(*shape.TaskDefinition)}, nil
}

func deleteTaskDefinitions(a *API, c *call, in *shape.DeleteTaskDefinitionsRequest) (any, error) {
	if err := checkCount("taskDefinitions", len(in.TaskDefinitions), 1, 10); err != nil {
		return nil, err
	}
	var refs []wire.TaskDefinitionRef
	failures := []shape.Failure{}
	for _, ref := range in.TaskDefinitions {
		family, rev, err := a.taskDefRef(ref)
		if err != nil || rev == 0 {
			failures = append(failures, shape.Failure{Arn: ptr(echo(ref)), Reason: ptr("The specified task definition does not exist."),
				Detail: ptr("Name each revision as family:revision or by its full ARN.")})
			continue
		}
		refs = append(refs, wire.TaskDefinitionRef{Input: ref, Family: family, Revision: rev})
	}
	out := &shape.DeleteTaskDefinitionsResponse{TaskDefinitions: []shape.TaskDefinition{}, Failures: failures}
	if len(refs) == 0 {
		return out, nil
	}
	v, err := a.apply(c, wire.DeleteTaskDefinitions{Meta: c.meta(), Refs: refs})
	if err != nil {
		return nil, err
	}
	r := v.(*fsm.DeletedTaskDefinitions)
	out.TaskDefinitions = r.Defs
	out.Failures = append(out.Failures, r.Failures...)
	return out, nil
}
