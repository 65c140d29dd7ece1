package secretsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"berth.dev/berth/internal/fsm"
)

// Reference is what an ECS container definition names in
// secrets[].valueFrom for Secrets Manager: a secret's full ARN (or, for a
// secret of the task's own Region, its name), optionally followed by
// :json-key:version-stage:version-id, each part optional, as in
// arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:username::
type Reference struct {
	// SecretID is the secret's ARN (up to and including its name and
	// suffix) or its name.
	SecretID string
	// JSONKey selects one key of a JSON object value; empty for the whole
	// value.
	JSONKey string
	// VersionStage and VersionID select a version; both empty for
	// AWSCURRENT.
	VersionStage string
	VersionID    string
}

// Reference errors: every error ParseReference and ResolveSecretValue
// return is a *ReferenceError that wraps one of these.
var (
	ErrInvalidReference = errors.New("not a Secrets Manager secret reference")
	ErrSecretNotFound   = errors.New("the secret does not exist")
	ErrSecretDeleted    = errors.New("the secret is scheduled for deletion")
	ErrVersionNotFound  = errors.New("the secret has no such version")
	ErrNotJSON          = errors.New("the secret's value is not a JSON object")
	ErrKeyNotFound      = errors.New("the secret's JSON value has no such key")
	ErrUnreadable       = errors.New("the secret's value cannot be read")
)

// ReferenceError says which reference failed and why; errors.Is matches
// its Kind.
type ReferenceError struct {
	Ref    string
	Kind   error
	Detail string
}

func (e *ReferenceError) Error() string {
	msg := fmt.Sprintf("secret %s: %v", e.Ref, e.Kind)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *ReferenceError) Unwrap() error { return e.Kind }

func refErr(ref string, kind error, format string, args ...any) *ReferenceError {
	return &ReferenceError{Ref: ref, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// ParseReference reads a valueFrom reference. It does no look-up.
func ParseReference(ref string) (Reference, error) {
	if ref == "" {
		return Reference{}, refErr(ref, ErrInvalidReference, "it is empty")
	}
	if len(ref) > 4096 {
		return Reference{}, refErr(ref[:64]+"...", ErrInvalidReference, "it is longer than 4096 characters")
	}
	if !strings.HasPrefix(ref, "arn:") {
		if !ValidName(ref) {
			return Reference{}, refErr(ref, ErrInvalidReference, "a name is 1 to %d letters, digits and /_+=.@- (name a JSON key or version with the full ARN)", MaxNameLength)
		}
		return Reference{SecretID: ref}, nil
	}
	parts := strings.Split(ref, ":")
	if len(parts) < 7 || parts[1] == "" || parts[2] != "secretsmanager" || parts[5] != "secret" {
		return Reference{}, refErr(ref, ErrInvalidReference, "want arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key[:version-stage[:version-id]]]")
	}
	if len(parts) > 10 {
		return Reference{}, refErr(ref, ErrInvalidReference, "more than three parts follow the secret's ARN (json-key:version-stage:version-id)")
	}
	if !ValidName(parts[6]) {
		return Reference{}, refErr(ref, ErrInvalidReference, "%q is no secret name", parts[6])
	}
	r := Reference{SecretID: strings.Join(parts[:7], ":")}
	extra := append(parts[7:], "", "", "")
	r.JSONKey, r.VersionStage, r.VersionID = extra[0], extra[1], extra[2]
	if len(r.VersionStage) > MaxStageLength {
		return Reference{}, refErr(ref, ErrInvalidReference, "the version stage is longer than %d characters", MaxStageLength)
	}
	if n := len(r.VersionID); n != 0 && (n < MinTokenLength || n > MaxTokenLength) {
		return Reference{}, refErr(ref, ErrInvalidReference, "a version ID is %d to %d characters long", MinTokenLength, MaxTokenLength)
	}
	return r, nil
}

// ResolveSecretValue returns the value a valueFrom reference names: the
// selected version's SecretString (a SecretBinary's bytes as they are),
// or the value of its JSON key when the reference names one (a string
// as it is, any other JSON value as its JSON text). Errors are
// *ReferenceError; the value is never in them.
func (a *API) ResolveSecretValue(ctx context.Context, ref string) (string, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s, err := a.find(a.cfg.State.Snapshot(), r.SecretID, a.cfg.Now())
	if err != nil {
		return "", refErr(ref, ErrSecretNotFound, "")
	}
	if s.Deleted() {
		return "", refErr(ref, ErrSecretDeleted, "restore it with RestoreSecret")
	}
	v, err := pick(s, r.VersionID, r.VersionStage)
	if err != nil {
		switch {
		case r.VersionID != "":
			return "", refErr(ref, ErrVersionNotFound, "no version %s%s", r.VersionID, stageNote(r.VersionStage))
		case r.VersionStage != "":
			return "", refErr(ref, ErrVersionNotFound, "no version has the staging label %s", r.VersionStage)
		default:
			return "", refErr(ref, ErrVersionNotFound, "no version has the staging label %s (the secret has no value)", fsm.SMStageCurrent)
		}
	}
	plain, err := a.cfg.Sealer.Open(v.Sealed, associated(s.ARN, v.ID))
	if err != nil {
		a.log.Error("a secret's value does not open", "secret", s.ARN, "version", v.ID, "err", err)
		return "", refErr(ref, ErrUnreadable, "it does not open with this server's state key")
	}
	if r.JSONKey == "" {
		return string(plain), nil
	}
	return jsonKey(ref, plain, r.JSONKey)
}

func stageNote(stage string) string {
	if stage == "" {
		return ""
	}
	return " with the staging label " + stage
}

// jsonKey picks one key of a JSON object.
func jsonKey(ref string, plain []byte, key string) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(plain, &obj); err != nil || obj == nil {
		return "", refErr(ref, ErrNotJSON, "it names the JSON key %q", key)
	}
	raw, ok := obj[key]
	if !ok {
		return "", refErr(ref, ErrKeyNotFound, "no key %q", key)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	return string(raw), nil
}
