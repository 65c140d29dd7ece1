package fsm

import (
	"slices"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Secrets Manager's codes (smshape.ErrorCodes) for the rules the appliers
// keep, and its messages.
const (
	SMResourceNotFound  = "ResourceNotFoundException"
	SMResourceExists    = "ResourceExistsException"
	SMInvalidRequest    = "InvalidRequestException"
	SMInvalidParameter  = "InvalidParameterException"
	SMLimitExceeded     = "LimitExceededException"
	SMStageCurrent      = "AWSCURRENT"
	SMStagePrevious     = "AWSPREVIOUS"
	SMNotFoundMessage   = "Secrets Manager can't find the specified secret."
	SMDeletedMessage    = "You can't perform this operation on the secret because it was marked for deletion."
	SMMaxTags           = 50
	SMMaxVersions       = 100
	SMMaxStagesPerValue = 20
)

// ErrSecretNotFound is Secrets Manager's answer for a secret it does not
// hold.
func ErrSecretNotFound() *apierr.Error { return apierr.Newf(SMResourceNotFound, SMNotFoundMessage) }

// ErrSecretDeleted answers a change of a secret scheduled for deletion.
func ErrSecretDeleted() *apierr.Error { return apierr.Newf(SMInvalidRequest, SMDeletedMessage) }

// liveSecret returns a copy of the secret of arn that is not scheduled
// for deletion.
func liveSecret(tx *state.Txn, arn string) (*state.Secret, error) {
	old := tx.Secret(arn)
	if old == nil {
		return nil, ErrSecretNotFound()
	}
	if old.Deleted() {
		return nil, ErrSecretDeleted()
	}
	return cloneSecret(old), nil
}

func cloneSecret(s *state.Secret) *state.Secret {
	out := *s
	out.Tags = slices.Clone(s.Tags)
	out.Versions = make([]state.SecretVersion, len(s.Versions))
	for i, v := range s.Versions {
		v.Stages = slices.Clone(v.Stages)
		out.Versions[i] = v
	}
	return &out
}

func applyCreateSecret(m *Machine, tx *state.Txn, c *wire.CreateSecret) (any, error) {
	if old := tx.SecretByName(c.Name); old != nil {
		switch {
		case old.DeleteAfter != nil && !c.Now.Before(*old.DeleteAfter):
			// Its recovery window is over: it is gone.
			if err := tx.Delete(state.TableSMSecrets, old); err != nil {
				return nil, err
			}
		case old.Deleted():
			return nil, apierr.Newf(SMInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
		default:
			return nil, apierr.Newf(SMResourceExists, "The operation failed because the secret %s already exists.", c.Name)
		}
	}
	if tx.Secret(c.ARN) != nil {
		return nil, apierr.Newf(SMResourceExists, "The operation failed because the secret %s already exists.", c.Name)
	}
	s := &state.Secret{ARN: c.ARN, Name: c.Name, Description: c.Description, KmsKeyID: c.KmsKeyID,
		CreatedAt: c.Now, ChangedAt: c.Now}
	for _, t := range c.Tags {
		s.Tags = append(s.Tags, state.SecretTag(t))
	}
	if c.NewVersion != nil {
		if err := addSecretVersion(s, *c.NewVersion, []string{SMStageCurrent}); err != nil {
			return nil, err
		}
	}
	return s, tx.Put(state.TableSMSecrets, s)
}

func applyPutSecretValue(m *Machine, tx *state.Txn, c *wire.PutSecretValue) (any, error) {
	s, err := liveSecret(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	stages := c.NewVersion.Stages
	if len(stages) == 0 {
		stages = []string{SMStageCurrent}
	}
	if err := addSecretVersion(s, c.NewVersion, stages); err != nil {
		return nil, err
	}
	s.ChangedAt = c.Now
	return s, tx.Put(state.TableSMSecrets, s)
}

func applyUpdateSecret(m *Machine, tx *state.Txn, c *wire.UpdateSecret) (any, error) {
	s, err := liveSecret(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	if c.Description != nil {
		s.Description = c.Description
	}
	if c.KmsKeyID != nil {
		s.KmsKeyID = c.KmsKeyID
	}
	if c.NewVersion != nil {
		if err := addSecretVersion(s, *c.NewVersion, []string{SMStageCurrent}); err != nil {
			return nil, err
		}
	}
	s.ChangedAt = c.Now
	return s, tx.Put(state.TableSMSecrets, s)
}

// addSecretVersion adds a version carrying stages: each stage leaves the
// version that had it; AWSCURRENT's old holder becomes AWSPREVIOUS.
// Versions without a label beyond SMMaxVersions are dropped, oldest first.
func addSecretVersion(s *state.Secret, v wire.SMVersion, stages []string) error {
	if s.Version(v.ID) != nil {
		return apierr.Newf(SMResourceExists, "You can't modify an existing version, you can only create a new version.")
	}
	s.Versions = append(s.Versions, state.SecretVersion{ID: v.ID, Sealed: v.Sealed, Binary: v.Binary, CreatedAt: v.CreatedAt})
	for _, st := range stages {
		moveStage(s, st, v.ID)
	}
	pruneVersions(s)
	return nil
}

// moveStage puts stage on version to, taking it off any other version.
func moveStage(s *state.Secret, stage, to string) {
	from := ""
	for i := range s.Versions {
		v := &s.Versions[i]
		if v.ID != to && slices.Contains(v.Stages, stage) {
			from = v.ID
			v.Stages = slices.DeleteFunc(v.Stages, func(x string) bool { return x == stage })
		}
	}
	if nv := s.Version(to); nv != nil && !slices.Contains(nv.Stages, stage) {
		nv.Stages = append(nv.Stages, stage)
	}
	if stage == SMStageCurrent && from != "" {
		moveStage(s, SMStagePrevious, from)
	}
}

func pruneVersions(s *state.Secret) {
	for n := len(s.Versions); n > SMMaxVersions; n-- {
		i := slices.IndexFunc(s.Versions, func(v state.SecretVersion) bool { return len(v.Stages) == 0 })
		if i < 0 {
			return
		}
		s.Versions = slices.Delete(s.Versions, i, i+1)
	}
}

func applyDeleteSecret(m *Machine, tx *state.Txn, c *wire.DeleteSecret) (any, error) {
	old := tx.Secret(c.ARN)
	if old == nil {
		return nil, ErrSecretNotFound()
	}
	if c.Force {
		return old, tx.Delete(state.TableSMSecrets, old)
	}
	if old.Deleted() {
		return nil, apierr.Newf(SMInvalidRequest, "You can't perform this operation on the secret because it was already scheduled for deletion.")
	}
	s := cloneSecret(old)
	now, after := c.Now, c.DeleteAfter
	s.DeletedAt, s.DeleteAfter = &now, &after
	return s, tx.Put(state.TableSMSecrets, s)
}

func applyRestoreSecret(m *Machine, tx *state.Txn, c *wire.RestoreSecret) (any, error) {
	old := tx.Secret(c.ARN)
	if old == nil || old.DeleteAfter != nil && !c.Now.Before(*old.DeleteAfter) {
		return nil, ErrSecretNotFound()
	}
	s := cloneSecret(old)
	s.DeletedAt, s.DeleteAfter = nil, nil
	return s, tx.Put(state.TableSMSecrets, s)
}

func applyUpdateSecretVersionStage(m *Machine, tx *state.Txn, c *wire.UpdateSecretVersionStage) (any, error) {
	s, err := liveSecret(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	holder := s.Staged(c.Stage)
	if c.RemoveFrom != "" {
		v := s.Version(c.RemoveFrom)
		if v == nil {
			return nil, apierr.Newf(SMResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", c.RemoveFrom)
		}
		if holder == nil || holder.ID != c.RemoveFrom {
			return nil, apierr.Newf(SMInvalidParameter, "The parameter RemoveFromVersionId doesn't match the version that has the staging label %s.", c.Stage)
		}
	}
	if c.MoveTo == "" {
		if c.RemoveFrom == "" {
			return nil, apierr.Newf(SMInvalidParameter, "You must specify MoveToVersionId or RemoveFromVersionId.")
		}
		if c.Stage == SMStageCurrent {
			return nil, apierr.Newf(SMInvalidParameter, "You can't remove the staging label AWSCURRENT from a version: move it to another version with MoveToVersionId.")
		}
		v := s.Version(c.RemoveFrom)
		v.Stages = slices.DeleteFunc(v.Stages, func(x string) bool { return x == c.Stage })
	} else {
		to := s.Version(c.MoveTo)
		if to == nil {
			return nil, apierr.Newf(SMResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", c.MoveTo)
		}
		if holder != nil && holder.ID != c.MoveTo && c.RemoveFrom == "" {
			return nil, apierr.Newf(SMInvalidParameter, "The staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", c.Stage, holder.ID)
		}
		if !slices.Contains(to.Stages, c.Stage) && len(to.Stages) >= SMMaxStagesPerValue {
			return nil, apierr.Newf(SMLimitExceeded, "A version can have at most %d staging labels.", SMMaxStagesPerValue)
		}
		moveStage(s, c.Stage, c.MoveTo)
	}
	pruneVersions(s)
	s.ChangedAt = c.Now
	return s, tx.Put(state.TableSMSecrets, s)
}

func applyTagSecret(m *Machine, tx *state.Txn, c *wire.TagSecret) (any, error) {
	s, err := liveSecret(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	for _, t := range c.Tags {
		if i := slices.IndexFunc(s.Tags, func(x state.SecretTag) bool { return x.Key == t.Key }); i >= 0 {
			s.Tags[i].Value = t.Value
		} else {
			s.Tags = append(s.Tags, state.SecretTag(t))
		}
	}
	if len(s.Tags) > SMMaxTags {
		return nil, apierr.Newf(SMLimitExceeded, "The secret would have %d tags: a secret can have at most %d.", len(s.Tags), SMMaxTags)
	}
	return s, tx.Put(state.TableSMSecrets, s)
}

func applyUntagSecret(m *Machine, tx *state.Txn, c *wire.UntagSecret) (any, error) {
	s, err := liveSecret(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	s.Tags = slices.DeleteFunc(s.Tags, func(t state.SecretTag) bool { return slices.Contains(c.Keys, t.Key) })
	return s, tx.Put(state.TableSMSecrets, s)
}

func applyPutSecretResourcePolicy(m *Machine, tx *state.Txn, c *wire.PutSecretResourcePolicy) (any, error) {
	s, err := liveSecret(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	s.ResourcePolicy = c.Policy
	return s, tx.Put(state.TableSMSecrets, s)
}

func secretToWire(s *state.Secret) wire.SMSecret {
	out := wire.SMSecret{ARN: s.ARN, Name: s.Name, Description: s.Description, KmsKeyID: s.KmsKeyID,
		CreatedAt: s.CreatedAt, ChangedAt: s.ChangedAt, DeletedAt: s.DeletedAt, DeleteAfter: s.DeleteAfter, ResourcePolicy: s.ResourcePolicy}
	for _, t := range s.Tags {
		out.Tags = append(out.Tags, wire.SMTag(t))
	}
	for _, v := range s.Versions {
		out.Versions = append(out.Versions, wire.SMVersion{ID: v.ID, Sealed: v.Sealed, Binary: v.Binary, Stages: v.Stages, CreatedAt: v.CreatedAt})
	}
	return out
}

func secretFromWire(r wire.SMSecret) *state.Secret {
	out := &state.Secret{ARN: r.ARN, Name: r.Name, Description: r.Description, KmsKeyID: r.KmsKeyID,
		CreatedAt: r.CreatedAt, ChangedAt: r.ChangedAt, DeletedAt: r.DeletedAt, DeleteAfter: r.DeleteAfter, ResourcePolicy: r.ResourcePolicy}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, state.SecretTag(t))
	}
	for _, v := range r.Versions {
		out.Versions = append(out.Versions, state.SecretVersion{ID: v.ID, Sealed: v.Sealed, Binary: v.Binary, Stages: v.Stages, CreatedAt: v.CreatedAt})
	}
	return out
}
