// Package iamapi serves the IAM role and managed policy API (AWS query
// protocol, Version 2010-05-08, signing name iam): roles, their trust
// policies, inline and attached policies and tags, and customer managed
// policies with their versions and tags, kept in the replicated state. A
// few AWS managed policies (AmazonECSTaskExecutionRolePolicy among them)
// are served read-only from a built-in catalog; any other AWS managed
// policy ARN can be attached but not read. Attaching a customer managed
// policy needs it to exist. berth serves one account; permission policies
// are validated, stored and returned but not enforced. Users, groups and
// instance profiles are not served (ListInstanceProfilesForRole answers
// none).
package iamapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/iamshape"
	"berth.dev/berth/internal/policy"
	"berth.dev/berth/internal/state"
)

// Protocol facts of the IAM API.
const (
	SigningName  = "iam"
	Version      = "2010-05-08"
	XMLNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// IAM's error codes berth answers with.
const (
	CodeNoSuchEntity        = "NoSuchEntity"
	CodeEntityAlreadyExists = "EntityAlreadyExists"
	CodeDeleteConflict      = "DeleteConflict"
	CodeMalformedPolicy     = "MalformedPolicyDocument"
	CodeValidation          = "ValidationError"
	CodeInvalidInput        = "InvalidInput"
	CodeLimitExceeded       = "LimitExceeded"
)

// Limits (IAM's default quotas).
const (
	MaxTags             = 50
	MaxAttached         = 10
	MaxInlineSize       = 10240 // aggregate inline policy size per role
	MaxTrustPolicySize  = 2048
	DefaultSession      = 3600
	MaxSessionSeconds   = 43200
	defaultMaxItems     = 100
	maxItems            = 1000
	maxUpdateRetries    = 10
	permissionsBoundary = "PermissionsBoundaryPolicy"
)

// Reader gives consistent read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands to the replicated state machine.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Config wires the API.
type Config struct {
	Partition string
	Account   string
	State     Reader
	Proposer  Proposer
	// NewRoleID returns a new role ID; default AROA + 17 random
	// upper-case letters and digits.
	NewRoleID func() string
}

// API serves the IAM role operations.
type API struct{ cfg Config }

// New returns an API.
func New(cfg Config) *API {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.NewRoleID == nil {
		cfg.NewRoleID = func() string { return "AROA" + RandomUpper(17) }
	}
	return &API{cfg: cfg}
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// RandomUpper returns n random upper-case letters and digits.
func RandomUpper(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("iamapi: no randomness: %v", err))
	}
	for i := range b {
		b[i] = upperAlnum[int(b[i])%len(upperAlnum)]
	}
	return string(b)
}

// Call is one authenticated request.
type Call struct {
	Principal string
	Now       time.Time
}

func (c *Call) meta() wire.Meta { return wire.Meta{Now: c.Now.UTC(), Principal: c.Principal} }

func op[In, Out any](f func(ctx context.Context, call *Call, in *In) (*Out, error)) awsproto.Operation {
	return awsproto.Handle(func(ctx context.Context, req *awsproto.Request, in *In) (*Out, error) {
		return f(ctx, &Call{Principal: req.Principal, Now: req.Now}, in)
	})
}

// Operations returns the served operations by name.
func (a *API) Operations() map[string]awsproto.Operation {
	return map[string]awsproto.Operation{
		"CreateRole":                  op(a.CreateRole),
		"GetRole":                     op(a.GetRole),
		"ListRoles":                   op(a.ListRoles),
		"DeleteRole":                  op(a.DeleteRole),
		"UpdateRole":                  op(a.UpdateRole),
		"UpdateRoleDescription":       op(a.UpdateRoleDescription),
		"UpdateAssumeRolePolicy":      op(a.UpdateAssumeRolePolicy),
		"PutRolePolicy":               op(a.PutRolePolicy),
		"GetRolePolicy":               op(a.GetRolePolicy),
		"DeleteRolePolicy":            op(a.DeleteRolePolicy),
		"ListRolePolicies":            op(a.ListRolePolicies),
		"AttachRolePolicy":            op(a.AttachRolePolicy),
		"DetachRolePolicy":            op(a.DetachRolePolicy),
		"ListAttachedRolePolicies":    op(a.ListAttachedRolePolicies),
		"TagRole":                     op(a.TagRole),
		"UntagRole":                   op(a.UntagRole),
		"ListRoleTags":                op(a.ListRoleTags),
		"ListInstanceProfilesForRole": op(a.ListInstanceProfilesForRole),
		"CreatePolicy":                op(a.CreatePolicy),
		"GetPolicy":                   op(a.GetPolicy),
		"DeletePolicy":                op(a.DeletePolicy),
		"ListPolicies":                op(a.ListPolicies),
		"CreatePolicyVersion":         op(a.CreatePolicyVersion),
		"GetPolicyVersion":            op(a.GetPolicyVersion),
		"ListPolicyVersions":          op(a.ListPolicyVersions),
		"DeletePolicyVersion":         op(a.DeletePolicyVersion),
		"SetDefaultPolicyVersion":     op(a.SetDefaultPolicyVersion),
		"ListEntitiesForPolicy":       op(a.ListEntitiesForPolicy),
		"TagPolicy":                   op(a.TagPolicy),
		"UntagPolicy":                 op(a.UntagPolicy),
		"ListPolicyTags":              op(a.ListPolicyTags),
	}
}

// Service is the IAM API on the protocol edge.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "IAM", SigningName: SigningName, Protocol: awsproto.Query, Version: Version, XMLNamespace: XMLNamespace,
		Operations: a.Operations(),
		Known:      func(name string) bool { return slices.Contains(iamshape.Operations, name) },
		MapError:   mapError,
	}
}

// statuses maps IAM's wire codes to their HTTP statuses (from the model).
var statuses = func() map[string]int {
	out := map[string]int{}
	for shapeName, code := range iamshape.ErrorCodes {
		out[code] = iamshape.ErrorStatus[shapeName]
	}
	return out
}()

// Error returns an IAM error with the model's status for code.
func Error(code, format string, args ...any) *awsproto.Error {
	st, ok := statuses[code]
	if !ok {
		st = 400
	}
	return awsproto.WithStatus(st, code, fmt.Sprintf(format, args...))
}

func mapError(err error) (*awsproto.Error, bool) {
	if e, ok := apierr.As(err); ok {
		if _, known := statuses[e.Code]; known {
			return Error(e.Code, "%s", e.Message), true
		}
	}
	var pe *policy.Error
	if errors.As(err, &pe) {
		return Error(CodeMalformedPolicy, "%s", pe.Message), true
	}
	if errors.Is(err, fsm.ErrNotCommitted) {
		return awsproto.WithStatus(503, "ServiceUnavailable", "The request was not processed: the server is not ready or is not the leader; retry it."), true
	}
	return nil, false
}

// validation is IAM's ValidationError text for one member.
func validation(value any, member, constraint string) *awsproto.Error {
	v := "null"
	if value != nil {
		v = fmt.Sprintf("'%v'", value)
	}
	return Error(CodeValidation, "1 validation error detected: Value %s at '%s' failed to satisfy constraint: Member %s", v, member, constraint)
}

var (
	namePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
)

func checkName(v *string, member string, max int) (string, error) {
	if v == nil {
		return "", validation(nil, member, "must not be null")
	}
	if len(*v) < 1 || len(*v) > max {
		return "", validation(*v, member, fmt.Sprintf("must have length less than or equal to %d", max))
	}
	if !namePattern.MatchString(*v) {
		return "", validation(*v, member, `must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return *v, nil
}

func roleName(v *string) (string, error) { return checkName(v, "roleName", 64) }

func checkPath(v *string, member string) (string, error) {
	if v == nil {
		return "/", nil
	}
	if len(*v) > 512 || !pathPattern.MatchString(*v) {
		return "", validation(*v, member, `must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	return *v, nil
}

func checkSession(v *int32) (int32, error) {
	if v == nil {
		return DefaultSession, nil
	}
	if *v < DefaultSession {
		return 0, validation(*v, "maxSessionDuration", "must have value greater than or equal to 3600")
	}
	if *v > MaxSessionSeconds {
		return 0, validation(*v, "maxSessionDuration", "must have value less than or equal to 43200")
	}
	return *v, nil
}

func checkDescription(v *string) (string, error) {
	if v == nil {
		return "", nil
	}
	if len([]rune(*v)) > 1000 {
		return "", validation(*v, "description", "must have length less than or equal to 1000")
	}
	return *v, nil
}

func checkTags(tags []iamshape.Tag) ([]wire.IAMTag, error) {
	out := make([]wire.IAMTag, 0, len(tags))
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == nil || len(*t.Key) < 1 || len(*t.Key) > 128 {
			return nil, validation(deref(t.Key), "tags.member.key", "must have length less than or equal to 128")
		}
		if t.Value == nil {
			return nil, validation(nil, "tags.member.value", "must not be null")
		}
		if len(*t.Value) > 256 {
			return nil, validation(*t.Value, "tags.member.value", "must have length less than or equal to 256")
		}
		if strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return nil, Error(CodeInvalidInput, "User is not authorized to tag with the aws: prefix.")
		}
		lk := strings.ToLower(*t.Key)
		if seen[lk] {
			return nil, Error(CodeInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
		out = append(out, wire.IAMTag{Key: *t.Key, Value: *t.Value})
	}
	return out, nil
}

func mergeTags(old, add []wire.IAMTag) ([]wire.IAMTag, error) {
	out := slices.Clone(old)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o wire.IAMTag) bool { return strings.EqualFold(o.Key, t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, Error(CodeLimitExceeded, "Cannot exceed quota for TagsPerRole: %d", MaxTags)
	}
	return out, nil
}

// checkPolicyARN accepts any well-formed IAM policy ARN: AWS managed ones
// (arn:aws:iam::aws:policy/...) and the account's (whether it exists is
// the caller's to check).
func (a *API) checkPolicyARN(v *string, member string) (string, error) {
	if v == nil {
		return "", validation(nil, member, "must not be null")
	}
	parts := strings.SplitN(*v, ":", 6)
	if len(*v) < 20 || len(*v) > 2048 || len(parts) != 6 || parts[0] != "arn" || parts[1] != a.cfg.Partition || parts[2] != "iam" ||
		parts[3] != "" || (parts[4] != "aws" && parts[4] != a.cfg.Account) || !strings.HasPrefix(parts[5], "policy/") || len(parts[5]) <= len("policy/") {
		return "", Error(CodeInvalidInput, "ARN %s is not valid.", *v)
	}
	return *v, nil
}

// policyName returns the name of a policy ARN (its last path element).
func policyName(arnValue string) string { return arnValue[strings.LastIndex(arnValue, "/")+1:] }

// encodeDocument is how IAM returns policy documents: URL-encoded.
func encodeDocument(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func roleARN(partition, account, path, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition, account, path, name)
}

// RoleARN is the ARN of a role of that path and name in the account.
func (a *API) RoleARN(path, name string) string {
	return roleARN(a.cfg.Partition, a.cfg.Account, path, name)
}

func toShape(r *state.IAMRole, full bool) iamshape.Role {
	out := iamshape.Role{
		Arn: ptr(r.ARN), RoleName: ptr(r.Name), RoleId: ptr(r.ID), Path: ptr(r.Path),
		CreateDate:               ptr(r.CreatedAt.UTC()),
		AssumeRolePolicyDocument: ptr(encodeDocument(r.AssumeRolePolicy)),
		MaxSessionDuration:       ptr(r.MaxSessionDuration),
	}
	if r.Description != "" {
		out.Description = ptr(r.Description)
	}
	if full {
		if r.PermissionsBoundary != "" {
			out.PermissionsBoundary = &iamshape.AttachedPermissionsBoundary{PermissionsBoundaryArn: ptr(r.PermissionsBoundary),
				PermissionsBoundaryType: permissionsBoundary}
		}
		for _, t := range r.Tags {
			out.Tags = append(out.Tags, iamshape.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
		}
		out.RoleLastUsed = &iamshape.RoleLastUsed{}
	}
	return out
}

// paging: Marker is the base64 of the last key of the previous page.
func pageBounds(marker *string, max *int32) (string, int, error) {
	n := defaultMaxItems
	if max != nil {
		if *max < 1 || *max > maxItems {
			return "", 0, validation(*max, "maxItems", fmt.Sprintf("must have value between 1 and %d", maxItems))
		}
		n = int(*max)
	}
	if marker == nil {
		return "", n, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*marker)
	if err != nil || len(b) == 0 {
		return "", 0, Error(CodeInvalidInput, "Invalid Marker.")
	}
	return string(b), n, nil
}

// page cuts the sorted items after the marker's key to the page size.
func page[T any](items []T, key func(T) string, marker *string, max *int32) ([]T, bool, *string, error) {
	after, n, err := pageBounds(marker, max)
	if err != nil {
		return nil, false, nil, err
	}
	start := 0
	if after != "" {
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	items = items[start:]
	if len(items) > n {
		return items[:n], true, ptr(base64.RawURLEncoding.EncodeToString([]byte(key(items[n-1])))), nil
	}
	return items, false, nil, nil
}
