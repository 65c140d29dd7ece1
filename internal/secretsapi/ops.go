package secretsapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/smshape"
	"berth.dev/berth/internal/state"
)

func meta(req *awsproto.Request) wire.Meta { return wire.Meta{Now: req.Now, Principal: req.Principal} }

func ptr[T any](v T) *T { return &v }

// arnPrefix is the ARN of this account's and region's secrets up to the
// name.
func (a *API) arnPrefix() string {
	return "arn:" + a.cfg.Partition + ":secretsmanager:" + a.cfg.Region + ":" + a.cfg.Account + ":secret:"
}

func notFound() error { return smError(fsm.SMResourceNotFound, fsm.SMNotFoundMessage) }

// find resolves a SecretId (a name, a full ARN or a partial ARN, without
// the random suffix) to a secret that exists, scheduled for deletion or
// not.
func (a *API) find(snap *state.Snapshot, id string, now time.Time) (*state.Secret, error) {
	var s *state.Secret
	if strings.HasPrefix(id, "arn:") {
		if s = snap.Secret(id); s == nil {
			if name, ok := strings.CutPrefix(id, a.arnPrefix()); ok {
				s = snap.SecretByName(name)
			}
		}
	} else {
		s = snap.SecretByName(id)
	}
	if s == nil || s.DeleteAfter != nil && !now.Before(*s.DeleteAfter) {
		return nil, notFound()
	}
	return s, nil
}

// live is find for the operations a secret scheduled for deletion
// refuses.
func (a *API) live(snap *state.Snapshot, id string, now time.Time) (*state.Secret, error) {
	s, err := a.find(snap, id, now)
	if err != nil {
		return nil, err
	}
	if s.Deleted() {
		return nil, smError(fsm.SMInvalidRequest, fsm.SMDeletedMessage)
	}
	return s, nil
}

// associated binds a sealed value to its secret and version.
func associated(arn, versionID string) []byte { return []byte(arn + "\x00" + versionID) }

func (a *API) seal(arn, versionID string, v value, now time.Time) (*wire.SMVersion, error) {
	sealed, err := a.cfg.Sealer.Seal(v.plain, associated(arn, versionID))
	if err != nil {
		return nil, err
	}
	return &wire.SMVersion{ID: versionID, Sealed: sealed, Binary: v.binary, CreatedAt: now}, nil
}

func (a *API) open(s *state.Secret, v *state.SecretVersion) ([]byte, error) {
	plain, err := a.cfg.Sealer.Open(v.Sealed, associated(s.ARN, v.ID))
	if err != nil {
		a.log.Error("a secret's value does not open", "secret", s.ARN, "version", v.ID, "err", err)
		return nil, smError("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	return plain, nil
}

// sameVersion reports whether an existing version holds v: a repeated
// request with the same ClientRequestToken is then ignored.
func (a *API) sameVersion(s *state.Secret, id string, v value) (bool, error) {
	old := s.Version(id)
	if old == nil {
		return false, nil
	}
	plain, err := a.open(s, old)
	if err != nil {
		return false, err
	}
	if old.Binary != v.binary || !bytes.Equal(plain, v.plain) {
		return false, smError(fsm.SMResourceExists, "You can't modify an existing version, you can only create a new version.")
	}
	return true, nil
}

func (a *API) createSecret(ctx context.Context, req *awsproto.Request, in *smshape.CreateSecretRequest) (*smshape.CreateSecretResponse, error) {
	name, err := checkName(in.Name)
	if err != nil {
		return nil, err
	}
	token, hasToken, err := checkToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	v, hasValue, err := checkValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := checkKmsKeyID(in.KmsKeyId); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if len(in.AddReplicaRegions) > 0 {
		return nil, smError(fsm.SMInvalidRequest, "berth does not replicate secrets to other Regions: omit AddReplicaRegions.")
	}
	if !hasToken {
		token = a.cfg.NewUUID()
	}
	// A repeated CreateSecret (same name, token and value) is ignored.
	if old := a.cfg.State.Snapshot().SecretByName(name); old != nil && !old.Deleted() && hasValue {
		if same, err := a.sameVersion(old, token, v); err != nil {
			return nil, err
		} else if same {
			return &smshape.CreateSecretResponse{ARN: &old.ARN, Name: &old.Name, VersionId: &token}, nil
		}
	}
	cmd := wire.CreateSecret{Meta: meta(req), ARN: a.arnPrefix() + name + "-" + a.cfg.NewSuffix(), Name: name,
		Description: in.Description, KmsKeyID: in.KmsKeyId}
	for _, t := range tags {
		cmd.Tags = append(cmd.Tags, wire.SMTag(t))
	}
	out := &smshape.CreateSecretResponse{ARN: &cmd.ARN, Name: &cmd.Name}
	if hasValue {
		if cmd.NewVersion, err = a.seal(cmd.ARN, token, v, req.Now); err != nil {
			return nil, err
		}
		out.VersionId = &token
	}
	clear(v.plain)
	if _, err := a.apply(ctx, req, cmd); err != nil {
		return nil, err
	}
	return out, nil
}

// pick selects the version a VersionId and a VersionStage name
// (AWSCURRENT when neither is given).
func pick(s *state.Secret, versionID, stage string) (*state.SecretVersion, error) {
	if versionID == "" && stage == "" {
		stage = fsm.SMStageCurrent
	}
	var v *state.SecretVersion
	if versionID != "" {
		v = s.Version(versionID)
		if v == nil || stage != "" && !slices.Contains(v.Stages, stage) {
			return nil, smErrorf(fsm.SMResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", versionID)
		}
		return v, nil
	}
	if v = s.Staged(stage); v == nil {
		return nil, smErrorf(fsm.SMResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
	}
	return v, nil
}

func (a *API) getSecretValue(ctx context.Context, req *awsproto.Request, in *smshape.GetSecretValueRequest) (*smshape.GetSecretValueResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	e, err := a.valueEntry(s, deref(in.VersionId), deref(in.VersionStage))
	if err != nil {
		return nil, err
	}
	return &smshape.GetSecretValueResponse{ARN: e.ARN, Name: e.Name, CreatedDate: e.CreatedDate, VersionId: e.VersionId,
		VersionStages: e.VersionStages, SecretString: e.SecretString, SecretBinary: e.SecretBinary}, nil
}

func (a *API) valueEntry(s *state.Secret, versionID, stage string) (*smshape.SecretValueEntry, error) {
	v, err := pick(s, versionID, stage)
	if err != nil {
		return nil, err
	}
	plain, err := a.open(s, v)
	if err != nil {
		return nil, err
	}
	e := &smshape.SecretValueEntry{ARN: ptr(s.ARN), Name: ptr(s.Name), CreatedDate: smshape.NewTimestamp(v.CreatedAt),
		VersionId: ptr(v.ID), VersionStages: slices.Clone(v.Stages)}
	if v.Binary {
		e.SecretBinary = plain
	} else {
		e.SecretString = ptr(string(plain))
	}
	return e, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (a *API) batchGetSecretValue(ctx context.Context, req *awsproto.Request, in *smshape.BatchGetSecretValueRequest) (*smshape.BatchGetSecretValueResponse, error) {
	if (len(in.SecretIdList) == 0) == (len(in.Filters) == 0) {
		return nil, invalidParameter("Either SecretIdList or Filters must be provided, but not both.")
	}
	snap, now := a.cfg.State.Snapshot(), a.cfg.Now()
	out := &smshape.BatchGetSecretValueResponse{SecretValues: []smshape.SecretValueEntry{}, Errors: []smshape.APIErrorType{}}
	if len(in.SecretIdList) > 0 {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, invalidParameter("MaxResults and NextToken apply to Filters only, not to SecretIdList.")
		}
		if len(in.SecretIdList) > MaxBatchSecretIDs {
			return nil, invalidParameter("SecretIdList can name at most %d secrets.", MaxBatchSecretIDs)
		}
		for _, id := range in.SecretIdList {
			s, err := a.live(snap, id, now)
			var e *smshape.SecretValueEntry
			if err == nil {
				e, err = a.valueEntry(s, "", "")
			}
			if err != nil {
				ae, _ := err.(*awsproto.Error)
				code, msg := "InternalServiceError", "internal error"
				if ae != nil {
					code, msg = ae.Code, ae.Message
				}
				out.Errors = append(out.Errors, smshape.APIErrorType{SecretId: ptr(id), ErrorCode: &code, Message: &msg})
				continue
			}
			out.SecretValues = append(out.SecretValues, *e)
		}
		return out, nil
	}
	page, next, err := a.page(snap, now, in.Filters, false, "", "", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	for _, s := range page {
		e, err := a.valueEntry(s, "", "")
		if err != nil {
			ae, _ := err.(*awsproto.Error)
			if ae == nil {
				return nil, err
			}
			out.Errors = append(out.Errors, smshape.APIErrorType{SecretId: ptr(s.ARN), ErrorCode: ptr(ae.Code), Message: ptr(ae.Message)})
			continue
		}
		out.SecretValues = append(out.SecretValues, *e)
	}
	out.NextToken = next
	return out, nil
}

func checkStages(stages []string) error {
	if stages != nil && (len(stages) < 1 || len(stages) > MaxStages) {
		return invalidParameter("VersionStages must list 1 to %d staging labels.", MaxStages)
	}
	for _, st := range stages {
		if err := checkStage(st); err != nil {
			return err
		}
	}
	return nil
}

func (a *API) putSecretValue(ctx context.Context, req *awsproto.Request, in *smshape.PutSecretValueRequest) (*smshape.PutSecretValueResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	token, hasToken, err := checkToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	v, hasValue, err := checkValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if !hasValue {
		return nil, invalidParameter("You must provide either SecretString or SecretBinary.")
	}
	if err := checkStages(in.VersionStages); err != nil {
		return nil, err
	}
	if in.RotationToken != nil {
		return nil, smError(fsm.SMInvalidRequest, "berth does not rotate secrets: RotationToken is not accepted.")
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	if !hasToken {
		token = a.cfg.NewUUID()
	}
	if same, err := a.sameVersion(s, token, v); err != nil {
		return nil, err
	} else if same {
		return &smshape.PutSecretValueResponse{ARN: &s.ARN, Name: &s.Name, VersionId: &token,
			VersionStages: slices.Clone(s.Version(token).Stages)}, nil
	}
	ver, err := a.seal(s.ARN, token, v, req.Now)
	clear(v.plain)
	if err != nil {
		return nil, err
	}
	ver.Stages = slices.Clone(in.VersionStages)
	res, err := a.apply(ctx, req, wire.PutSecretValue{Meta: meta(req), ARN: s.ARN, NewVersion: *ver})
	if err != nil {
		return nil, err
	}
	out := &smshape.PutSecretValueResponse{ARN: &s.ARN, Name: &s.Name, VersionId: &token}
	if ns, ok := res.(*state.Secret); ok {
		if nv := ns.Version(token); nv != nil {
			out.VersionStages = slices.Clone(nv.Stages)
		}
	}
	return out, nil
}

func (a *API) updateSecret(ctx context.Context, req *awsproto.Request, in *smshape.UpdateSecretRequest) (*smshape.UpdateSecretResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	token, hasToken, err := checkToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	v, hasValue, err := checkValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := checkKmsKeyID(in.KmsKeyId); err != nil {
		return nil, err
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	out := &smshape.UpdateSecretResponse{ARN: &s.ARN, Name: &s.Name}
	cmd := wire.UpdateSecret{Meta: meta(req), ARN: s.ARN, Description: in.Description, KmsKeyID: in.KmsKeyId}
	if hasValue {
		if !hasToken {
			token = a.cfg.NewUUID()
		}
		out.VersionId = &token
		same, err := a.sameVersion(s, token, v)
		if err != nil {
			return nil, err
		}
		if !same {
			if cmd.NewVersion, err = a.seal(s.ARN, token, v, req.Now); err != nil {
				return nil, err
			}
		}
		clear(v.plain)
	}
	if _, err := a.apply(ctx, req, cmd); err != nil {
		return nil, err
	}
	return out, nil
}

func tagsOut(tags []state.SecretTag) []smshape.Tag {
	out := make([]smshape.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, smshape.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out
}

func stagesByVersion(s *state.Secret) map[string][]string {
	out := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			out[v.ID] = slices.Clone(v.Stages)
		}
	}
	return out
}

func (a *API) describeSecret(ctx context.Context, req *awsproto.Request, in *smshape.DescribeSecretRequest) (*smshape.DescribeSecretResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	s, err := a.find(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	e := a.listEntry(s)
	return &smshape.DescribeSecretResponse{ARN: e.ARN, Name: e.Name, Description: e.Description, KmsKeyId: e.KmsKeyId,
		CreatedDate: e.CreatedDate, LastChangedDate: e.LastChangedDate, DeletedDate: e.DeletedDate, Tags: e.Tags,
		RotationEnabled: e.RotationEnabled, VersionIdsToStages: e.SecretVersionsToStages}, nil
}

func (a *API) listEntry(s *state.Secret) smshape.SecretListEntry {
	e := smshape.SecretListEntry{ARN: ptr(s.ARN), Name: ptr(s.Name), Description: s.Description, KmsKeyId: s.KmsKeyID,
		CreatedDate: smshape.NewTimestamp(s.CreatedAt), LastChangedDate: smshape.NewTimestamp(s.ChangedAt),
		RotationEnabled: ptr(false), Tags: tagsOut(s.Tags), SecretVersionsToStages: stagesByVersion(s)}
	if s.DeletedAt != nil {
		e.DeletedDate = smshape.NewTimestamp(*s.DeletedAt)
	}
	return e
}

// listToken is the NextToken of ListSecrets, BatchGetSecretValue and
// ListSecretVersionIds: the offset of the next page.
func listToken(offset int) *string {
	return ptr(base64.RawURLEncoding.EncodeToString([]byte("berth-sm:" + strconv.Itoa(offset))))
}

func readToken(tok *string) (int, error) {
	if tok == nil {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(raw), "berth-sm:"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, smError("InvalidNextTokenException", "The NextToken value is invalid.")
}

func maxResults(n *int32) (int, error) {
	if n == nil {
		return MaxListResults, nil
	}
	if *n < 1 || *n > MaxListResults {
		return 0, invalidParameter("MaxResults must be between 1 and %d.", MaxListResults)
	}
	return int(*n), nil
}

func (a *API) listSecrets(ctx context.Context, req *awsproto.Request, in *smshape.ListSecretsRequest) (*smshape.ListSecretsResponse, error) {
	include := in.IncludePlannedDeletion != nil && *in.IncludePlannedDeletion
	page, next, err := a.page(a.cfg.State.Snapshot(), a.cfg.Now(), in.Filters, include, in.SortBy, in.SortOrder, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &smshape.ListSecretsResponse{SecretList: []smshape.SecretListEntry{}, NextToken: next}
	for _, s := range page {
		out.SecretList = append(out.SecretList, a.listEntry(s))
	}
	return out, nil
}

// page lists the secrets that pass the filters in the requested order and
// returns one page of them.
func (a *API) page(snap *state.Snapshot, now time.Time, filters []smshape.Filter, includeDeleted bool,
	by smshape.SortByType, order smshape.SortOrderType, max *int32, token *string) ([]*state.Secret, *string, error) {
	limit, err := maxResults(max)
	if err != nil {
		return nil, nil, err
	}
	offset, err := readToken(token)
	if err != nil {
		return nil, nil, err
	}
	if err := checkFilters(filters); err != nil {
		return nil, nil, err
	}
	switch by {
	case "", smshape.SortByTypeCreatedDate, smshape.SortByTypeName, smshape.SortByTypeLastChangedDate, smshape.SortByTypeLastAccessedDate:
	default:
		return nil, nil, invalidParameter("SortBy must be one of created-date, last-accessed-date, last-changed-date, name.")
	}
	if order != "" && order != smshape.SortOrderTypeAsc && order != smshape.SortOrderTypeDesc {
		return nil, nil, invalidParameter("SortOrder must be asc or desc.")
	}
	var all []*state.Secret
	snap.Secrets(func(s *state.Secret) bool {
		if s.DeleteAfter != nil && !now.Before(*s.DeleteAfter) || s.Deleted() && !includeDeleted {
			return true
		}
		if a.matches(s, filters) {
			all = append(all, s)
		}
		return true
	})
	slices.SortStableFunc(all, func(x, y *state.Secret) int {
		var c int
		switch by {
		case smshape.SortByTypeName:
			c = strings.Compare(x.Name, y.Name)
		case smshape.SortByTypeLastChangedDate:
			c = x.ChangedAt.Compare(y.ChangedAt)
		default: // created-date; berth keeps no last-accessed date
			c = x.CreatedAt.Compare(y.CreatedAt)
		}
		if order == smshape.SortOrderTypeDesc {
			c = -c
		}
		return cmp.Or(c, strings.Compare(x.ARN, y.ARN))
	})
	if offset > len(all) {
		return nil, nil, smError("InvalidNextTokenException", "The NextToken value is invalid.")
	}
	end := min(offset+limit, len(all))
	var next *string
	if end < len(all) {
		next = listToken(end)
	}
	return all[offset:end], next, nil
}

func checkFilters(filters []smshape.Filter) error {
	if len(filters) > 10 {
		return invalidParameter("You can use at most 10 filters.")
	}
	for _, f := range filters {
		if !slices.Contains(f.Key.Values(), f.Key) {
			return invalidParameter("Invalid filter key %q: use one of description, name, tag-key, tag-value, primary-region, owning-service, all.", string(f.Key))
		}
		if len(f.Values) < 1 || len(f.Values) > MaxFilterValues {
			return invalidParameter("A filter must have 1 to %d values.", MaxFilterValues)
		}
		for _, v := range f.Values {
			if len(v) > MaxFilterValueLength || !filterValuePattern.MatchString(v) {
				return invalidParameter("Invalid filter value %q: up to %d characters of letters, digits, spaces and :_@/+=.-! .", v, MaxFilterValueLength)
			}
		}
	}
	return nil
}

// matches applies ListSecrets' filters: every filter must pass; a filter
// passes when one of its values does; a value starting with ! negates.
func (a *API) matches(s *state.Secret, filters []smshape.Filter) bool {
	for _, f := range filters {
		pass := false
		for _, v := range f.Values {
			neg := strings.HasPrefix(v, "!")
			if neg {
				v = v[1:]
			}
			if a.matchValue(s, f.Key, v) != neg {
				pass = true
				break
			}
		}
		if !pass {
			return false
		}
	}
	return true
}

func (a *API) matchValue(s *state.Secret, key smshape.FilterNameStringType, v string) bool {
	anyTag := func(f func(state.SecretTag) bool) bool { return slices.ContainsFunc(s.Tags, f) }
	switch key {
	case smshape.FilterNameStringTypeName:
		return strings.HasPrefix(s.Name, v)
	case smshape.FilterNameStringTypeDescription:
		return s.Description != nil && strings.HasPrefix(strings.ToLower(*s.Description), strings.ToLower(v))
	case smshape.FilterNameStringTypeTagKey:
		return anyTag(func(t state.SecretTag) bool { return strings.HasPrefix(t.Key, v) })
	case smshape.FilterNameStringTypeTagValue:
		return anyTag(func(t state.SecretTag) bool { return strings.HasPrefix(t.Value, v) })
	case smshape.FilterNameStringTypePrimaryRegion:
		return strings.HasPrefix(a.cfg.Region, v)
	case smshape.FilterNameStringTypeOwningService:
		return false // berth's secrets are owned by no service
	case smshape.FilterNameStringTypeAll:
		attrs := []string{s.Name}
		if s.Description != nil {
			attrs = append(attrs, *s.Description)
		}
		for _, t := range s.Tags {
			attrs = append(attrs, t.Key, t.Value)
		}
		for _, w := range strings.Fields(strings.ToLower(v)) {
			if !slices.ContainsFunc(attrs, func(at string) bool { return strings.Contains(strings.ToLower(at), w) }) {
				return false
			}
		}
		return true
	}
	return false
}

func (a *API) deleteSecret(ctx context.Context, req *awsproto.Request, in *smshape.DeleteSecretRequest) (*smshape.DeleteSecretResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	days := int64(DefaultRecoveryDays)
	if in.RecoveryWindowInDays != nil {
		if force {
			return nil, invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
		}
		days = *in.RecoveryWindowInDays
		if days < MinRecoveryDays || days > MaxRecoveryDays {
			return nil, invalidParameter("The RecoveryWindowInDays value must be between %d and %d days (inclusive).", MinRecoveryDays, MaxRecoveryDays)
		}
	}
	s, err := a.find(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		if force {
			// Force-deleting a secret that does not exist is no error.
			return &smshape.DeleteSecretResponse{Name: ptr(id), DeletionDate: smshape.NewTimestamp(req.Now)}, nil
		}
		return nil, err
	}
	cmd := wire.DeleteSecret{Meta: meta(req), ARN: s.ARN, Force: force}
	when := req.Now
	if !force {
		when = req.Now.Add(time.Duration(days) * 24 * time.Hour)
		cmd.DeleteAfter = when
	}
	if _, err := a.apply(ctx, req, cmd); err != nil {
		return nil, err
	}
	return &smshape.DeleteSecretResponse{ARN: &s.ARN, Name: &s.Name, DeletionDate: smshape.NewTimestamp(when)}, nil
}

func (a *API) restoreSecret(ctx context.Context, req *awsproto.Request, in *smshape.RestoreSecretRequest) (*smshape.RestoreSecretResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	s, err := a.find(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.RestoreSecret{Meta: meta(req), ARN: s.ARN}); err != nil {
		return nil, err
	}
	return &smshape.RestoreSecretResponse{ARN: &s.ARN, Name: &s.Name}, nil
}

func (a *API) listSecretVersionIds(ctx context.Context, req *awsproto.Request, in *smshape.ListSecretVersionIdsRequest) (*smshape.ListSecretVersionIdsResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	limit, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	offset, err := readToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	s, err := a.find(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	deprecated := in.IncludeDeprecated != nil && *in.IncludeDeprecated
	var all []smshape.SecretVersionsListEntry
	for i := len(s.Versions) - 1; i >= 0; i-- { // newest first
		v := s.Versions[i]
		if len(v.Stages) == 0 && !deprecated {
			continue
		}
		all = append(all, smshape.SecretVersionsListEntry{VersionId: ptr(v.ID), VersionStages: slices.Clone(v.Stages),
			CreatedDate: smshape.NewTimestamp(v.CreatedAt)})
	}
	if offset > len(all) {
		return nil, smError("InvalidNextTokenException", "The NextToken value is invalid.")
	}
	end := min(offset+limit, len(all))
	out := &smshape.ListSecretVersionIdsResponse{ARN: &s.ARN, Name: &s.Name, Versions: append([]smshape.SecretVersionsListEntry{}, all[offset:end]...)}
	if end < len(all) {
		out.NextToken = listToken(end)
	}
	return out, nil
}

func checkVersionID(field string, id *string) (string, error) {
	if id == nil {
		return "", nil
	}
	if n := len(*id); n < MinTokenLength || n > MaxTokenLength {
		return "", invalidParameter("%s must be %d to %d characters long.", field, MinTokenLength, MaxTokenLength)
	}
	return *id, nil
}

func (a *API) updateSecretVersionStage(ctx context.Context, req *awsproto.Request, in *smshape.UpdateSecretVersionStageRequest) (*smshape.UpdateSecretVersionStageResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	if in.VersionStage == nil {
		return nil, invalidParameter("You must provide a VersionStage.")
	}
	if err := checkStage(*in.VersionStage); err != nil {
		return nil, err
	}
	moveTo, err := checkVersionID("MoveToVersionId", in.MoveToVersionId)
	if err != nil {
		return nil, err
	}
	removeFrom, err := checkVersionID("RemoveFromVersionId", in.RemoveFromVersionId)
	if err != nil {
		return nil, err
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	cmd := wire.UpdateSecretVersionStage{Meta: meta(req), ARN: s.ARN, Stage: *in.VersionStage, MoveTo: moveTo, RemoveFrom: removeFrom}
	if _, err := a.apply(ctx, req, cmd); err != nil {
		return nil, err
	}
	return &smshape.UpdateSecretVersionStageResponse{ARN: &s.ARN, Name: &s.Name}, nil
}

func (a *API) tagResource(ctx context.Context, req *awsproto.Request, in *smshape.TagResourceRequest) (*smshape.TagResourceResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, invalidParameter("You must provide Tags.")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	cmd := wire.TagSecret{Meta: meta(req), ARN: s.ARN}
	for _, t := range tags {
		cmd.Tags = append(cmd.Tags, wire.SMTag(t))
	}
	if _, err := a.apply(ctx, req, cmd); err != nil {
		return nil, err
	}
	return &smshape.TagResourceResponse{}, nil
}

func (a *API) untagResource(ctx context.Context, req *awsproto.Request, in *smshape.UntagResourceRequest) (*smshape.UntagResourceResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, invalidParameter("You must provide TagKeys.")
	}
	for _, k := range in.TagKeys {
		if err := checkTagKey(k); err != nil {
			return nil, err
		}
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.UntagSecret{Meta: meta(req), ARN: s.ARN, Keys: in.TagKeys}); err != nil {
		return nil, err
	}
	return &smshape.UntagResourceResponse{}, nil
}
