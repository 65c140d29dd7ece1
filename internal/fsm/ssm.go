package fsm

import (
	"slices"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// SSM's codes (ssmshape.ErrorCodes) for the rules the appliers keep.
const (
	SSMParameterNotFound        = "ParameterNotFound"
	SSMParameterAlreadyExists   = "ParameterAlreadyExists"
	SSMParameterVersionNotFound = "ParameterVersionNotFound"
	SSMLabelLimitExceeded       = "ParameterVersionLabelLimitExceeded"
	SSMMaxVersionLimitExceeded  = "ParameterMaxVersionLimitExceeded"
	SSMHierarchyTypeMismatch    = "HierarchyTypeMismatchException"
	SSMTooManyUpdates           = "TooManyUpdates"
	SSMTooManyTagsError         = "TooManyTagsError"
	SSMInvalidResourceID        = "InvalidResourceId"
	SSMParameterLimitExceeded   = "ParameterLimitExceeded"
	SSMValidation               = "ValidationException"
)

// SSM's limits.
const (
	SSMMaxVersions       = 100
	SSMMaxLabels         = 10
	SSMMaxTags           = 50
	ssmMaxVersionsErrFmt = "You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."
)

// ErrParameterNotFound is SSM's answer for a name it does not hold.
func ErrParameterNotFound(name string) *apierr.Error {
	return apierr.Newf(SSMParameterNotFound, "Parameter %s not found.", name)
}

// ErrParameterVersionNotFound is SSM's answer for a version it does not hold.
func ErrParameterVersionNotFound(name string, v int64) *apierr.Error {
	return apierr.Newf(SSMParameterVersionNotFound, "Systems Manager could not find version %d of %s. Verify the version and try again.", v, name)
}

func applyPutParameter(m *Machine, tx *state.Txn, c *wire.PutParameter) (any, error) {
	old := tx.Parameter(c.Name)
	v := parameterVersionFromWire(c.Value)
	v.Modified, v.User, v.Labels = c.Now, c.Principal, nil
	if old == nil {
		if c.Value.Version != 1 {
			return nil, apierr.Newf(SSMTooManyUpdates, "There are concurrent updates for the resource that you're trying to modify. Please try again.")
		}
		p := &state.Parameter{Name: c.Name, Versions: []state.ParameterVersion{v}}
		for _, t := range c.Tags {
			p.Tags = append(p.Tags, state.ParameterTag{Key: t.Key, Value: t.Value})
		}
		return p, tx.Put(state.TableSSMParameters, p)
	}
	if !c.Overwrite {
		return nil, apierr.Newf(SSMParameterAlreadyExists, "The parameter already exists. To overwrite this request value set the overwrite option in the request to true.")
	}
	latest := old.Latest()
	if c.Value.Version != latest.Version+1 {
		return nil, apierr.Newf(SSMTooManyUpdates, "There are concurrent updates for the resource that you're trying to modify. Please try again.")
	}
	if latest.Type != v.Type {
		return nil, apierr.Newf(SSMHierarchyTypeMismatch, "The parameter type can't be changed from %s to %s. Create a new parameter with another name instead.", latest.Type, v.Type)
	}
	p := old.Clone()
	if len(p.Versions) >= SSMMaxVersions {
		oldest := p.Versions[0]
		if len(oldest.Labels) > 0 {
			return nil, apierr.Newf(SSMMaxVersionLimitExceeded, ssmMaxVersionsErrFmt, c.Name, oldest.Version)
		}
		p.Versions = p.Versions[1:]
	}
	p.Versions = append(p.Versions, v)
	return p, tx.Put(state.TableSSMParameters, p)
}

// DeleteParametersResult is what DeleteParameters applies: the names
// deleted and the names not found, in the request's order.
type DeleteParametersResult struct {
	Deleted, Invalid []string
}

func applyDeleteParameters(m *Machine, tx *state.Txn, c *wire.DeleteParameters) (any, error) {
	var out DeleteParametersResult
	for _, n := range c.Names {
		p := tx.Parameter(n)
		if p == nil {
			if !slices.Contains(out.Invalid, n) && !slices.Contains(out.Deleted, n) {
				out.Invalid = append(out.Invalid, n)
			}
			continue
		}
		if err := tx.Delete(state.TableSSMParameters, p); err != nil {
			return nil, err
		}
		out.Deleted = append(out.Deleted, n)
	}
	return out, nil
}

// LabelResult is what LabelParameterVersion applies: the version labelled.
type LabelResult struct {
	Version int64
}

func applyLabelParameterVersion(m *Machine, tx *state.Txn, c *wire.LabelParameterVersion) (any, error) {
	old := tx.Parameter(c.Name)
	if old == nil {
		return nil, ErrParameterNotFound(c.Name)
	}
	p := old.Clone()
	target := p.Latest()
	if c.ParameterVersion != 0 {
		if target = p.Find(c.ParameterVersion); target == nil {
			return nil, ErrParameterVersionNotFound(c.Name, c.ParameterVersion)
		}
	}
	added := 0
	for _, l := range c.Labels {
		if !slices.Contains(target.Labels, l) {
			added++
		}
	}
	if len(target.Labels)+added > SSMMaxLabels {
		return nil, apierr.Newf(SSMLabelLimitExceeded, "An error occurred (ParameterVersionLabelLimitExceeded) when calling the LabelParameterVersion API: A parameter version can have maximum %d labels.Move one or more labels to another version and try again.", SSMMaxLabels)
	}
	for _, l := range c.Labels {
		for i := range p.Versions {
			p.Versions[i].Labels = slices.DeleteFunc(p.Versions[i].Labels, func(x string) bool { return x == l })
		}
		target.Labels = append(target.Labels, l)
	}
	if err := tx.Put(state.TableSSMParameters, p); err != nil {
		return nil, err
	}
	return LabelResult{Version: target.Version}, nil
}

// UnlabelResult is what UnlabelParameterVersion applies.
type UnlabelResult struct {
	Removed, Invalid []string
}

func applyUnlabelParameterVersion(m *Machine, tx *state.Txn, c *wire.UnlabelParameterVersion) (any, error) {
	old := tx.Parameter(c.Name)
	if old == nil {
		return nil, ErrParameterNotFound(c.Name)
	}
	p := old.Clone()
	target := p.Find(c.ParameterVersion)
	if target == nil {
		return nil, ErrParameterVersionNotFound(c.Name, c.ParameterVersion)
	}
	var out UnlabelResult
	for _, l := range c.Labels {
		if slices.Contains(target.Labels, l) {
			target.Labels = slices.DeleteFunc(target.Labels, func(x string) bool { return x == l })
			out.Removed = append(out.Removed, l)
		} else {
			out.Invalid = append(out.Invalid, l)
		}
	}
	if err := tx.Put(state.TableSSMParameters, p); err != nil {
		return nil, err
	}
	return out, nil
}

func applyAddParameterTags(m *Machine, tx *state.Txn, c *wire.AddParameterTags) (any, error) {
	old := tx.Parameter(c.Name)
	if old == nil {
		return nil, apierr.Newf(SSMInvalidResourceID, "The resource ID \"%s\" is not valid. Verify the ID and try again.", c.Name)
	}
	p := old.Clone()
	for _, t := range c.Tags {
		i := slices.IndexFunc(p.Tags, func(x state.ParameterTag) bool { return x.Key == t.Key })
		if i >= 0 {
			p.Tags[i].Value = t.Value
		} else {
			p.Tags = append(p.Tags, state.ParameterTag{Key: t.Key, Value: t.Value})
		}
	}
	if len(p.Tags) > SSMMaxTags {
		return nil, apierr.Newf(SSMTooManyTagsError, "The Tags parameter contains more than %d tags.", SSMMaxTags)
	}
	return nil, tx.Put(state.TableSSMParameters, p)
}

func applyRemoveParameterTags(m *Machine, tx *state.Txn, c *wire.RemoveParameterTags) (any, error) {
	old := tx.Parameter(c.Name)
	if old == nil {
		return nil, apierr.Newf(SSMInvalidResourceID, "The resource ID \"%s\" is not valid. Verify the ID and try again.", c.Name)
	}
	p := old.Clone()
	p.Tags = slices.DeleteFunc(p.Tags, func(t state.ParameterTag) bool { return slices.Contains(c.Keys, t.Key) })
	return nil, tx.Put(state.TableSSMParameters, p)
}

func parameterVersionFromWire(v wire.SSMParameterVersion) state.ParameterVersion {
	return state.ParameterVersion{Version: v.Version, Type: v.Type, Value: v.Value, Sealed: v.Sealed,
		Description: v.Description, AllowedPattern: v.AllowedPattern, KeyID: v.KeyID, Tier: v.Tier,
		DataType: v.DataType, Labels: append([]string(nil), v.Labels...),
		Modified: v.Modified, User: v.User}
}

func parameterVersionToWire(v state.ParameterVersion) wire.SSMParameterVersion {
	return wire.SSMParameterVersion{Version: v.Version, Type: v.Type, Value: v.Value, Sealed: v.Sealed,
		Description: v.Description, AllowedPattern: v.AllowedPattern, KeyID: v.KeyID, Tier: v.Tier,
		DataType: v.DataType, Labels: v.Labels, Modified: v.Modified, User: v.User}
}

func parameterToWire(p *state.Parameter) wire.SSMParameter {
	out := wire.SSMParameter{Name: p.Name}
	for _, v := range p.Versions {
		out.Versions = append(out.Versions, parameterVersionToWire(v))
	}
	for _, t := range p.Tags {
		out.Tags = append(out.Tags, wire.SSMTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func parameterFromWire(r wire.SSMParameter) *state.Parameter {
	out := &state.Parameter{Name: r.Name}
	for _, v := range r.Versions {
		out.Versions = append(out.Versions, parameterVersionFromWire(v))
	}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, state.ParameterTag{Key: t.Key, Value: t.Value})
	}
	return out
}
