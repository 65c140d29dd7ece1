// Package stsapi serves STS (AWS query protocol, Version 2011-06-15,
// signing name sts): GetCallerIdentity and AssumeRole, and issues the
// temporary credentials the server's authentication accepts.
//
// Temporary credentials are replicated state (table stscredentials):
// the secret access key is sealed with the state key (package seal,
// associated data the access key ID) by the issuing server before it is
// proposed, and the session token is kept only as its SHA-256, so neither
// is in the clear in the raft log, snapshots or logs. They survive
// restarts and work on every server. Expired ones are collected when new
// ones are issued. Expiry follows the injected clock.
package stsapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/policy"
	"berth.dev/berth/internal/state"
	"berth.dev/berth/internal/stsshape"
)

// Protocol facts of the STS API.
const (
	SigningName  = "sts"
	Version      = "2011-06-15"
	XMLNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Codes and messages.
const (
	CodeAccessDenied        = "AccessDenied"
	CodeValidation          = "ValidationError"
	CodeMalformedPolicy     = "MalformedPolicyDocument"
	CodePackedPolicyTooBig  = "PackedPolicyTooLarge"
	CodeExpiredToken        = "ExpiredTokenException"
	CodeUnrecognizedClient  = "UnrecognizedClientException"
	MessageBadToken         = "The security token included in the request is invalid."
	MessageExpiredToken     = "The security token included in the request is expired"
	TaskServicePrincipal    = "ecs-tasks.amazonaws.com"
	DefaultDuration         = time.Hour
	MinDuration             = 15 * time.Minute
	tokenBytes              = 192
	maxSessionPolicyLength  = 2048
	maxSessionTags          = 50
	defaultMaxSessionLength = 3600
)

// Roles finds roles by name (the IAM API's state).
type Roles interface {
	Role(name string) *state.IAMRole
}

// Reader gives consistent read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands to the replicated state machine.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Sealer seals the secret access keys (package seal).
type Sealer interface {
	Seal(plaintext, associatedData []byte) ([]byte, error)
	Open(sealed, associatedData []byte) ([]byte, error)
}

// Config wires the API.
type Config struct {
	Partition string
	Account   string
	Roles     Roles
	State     Reader
	Proposer  Proposer
	Sealer    Sealer
	// Now is the clock of issue and expiry; default time.Now.
	Now func() time.Time
}

// Credentials are temporary credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	// AssumedRoleARN is arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION and
	// AssumedRoleID ROLEID:SESSION.
	AssumedRoleARN string
	AssumedRoleID  string
}

// String never shows the secret or the token.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{%s %s until %s}", c.AccessKeyID, c.AssumedRoleARN, c.Expiration.Format(time.RFC3339))
}

// API serves STS and issues temporary credentials.
type API struct {
	cfg Config
	// opened caches the secrets opened, by access key ID (it only saves
	// the AES work of each request).
	mu     sync.Mutex
	opened map[string]string
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &API{cfg: cfg, opened: map[string]string{}}
}

// Root is the account's root principal ARN.
func (a *API) Root() string {
	return fmt.Sprintf("arn:%s:iam::%s:root", a.cfg.Partition, a.cfg.Account)
}

// IsTemporaryKey reports whether an access key ID is a temporary one (ASIA...).
func IsTemporaryKey(id string) bool { return strings.HasPrefix(id, "ASIA") }

// Lookup authenticates a temporary access key with its session token as
// of the STS clock: it returns the secret to verify the signature with and
// the assumed-role principal, or an *apierr.Error: UnrecognizedClient
// ("The security token included in the request is invalid.") for an
// unknown key or a missing or wrong token, ExpiredTokenException after
// expiry.
func (a *API) Lookup(accessKeyID, token string) (secret, principal string, err error) {
	c := a.cfg.State.Snapshot().STSCredential(accessKeyID)
	if c == nil || token == "" {
		return "", "", apierr.New(CodeUnrecognizedClient, MessageBadToken)
	}
	h := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(h[:], c.TokenHash) != 1 {
		return "", "", apierr.New(CodeUnrecognizedClient, MessageBadToken)
	}
	if !a.cfg.Now().Before(c.Expiration) {
		return "", "", apierr.New(CodeExpiredToken, MessageExpiredToken)
	}
	a.mu.Lock()
	secret, ok := a.opened[accessKeyID]
	a.mu.Unlock()
	if !ok {
		plain, err := a.cfg.Sealer.Open(c.SealedSecret, []byte(accessKeyID))
		if err != nil {
			return "", "", apierr.New(CodeUnrecognizedClient, MessageBadToken)
		}
		secret = string(plain)
		a.mu.Lock()
		if len(a.opened) > 10000 {
			clear(a.opened)
		}
		a.opened[accessKeyID] = secret
		a.mu.Unlock()
	}
	return secret, c.Principal, nil
}

// Sessions returns how many unexpired credentials the state holds.
func (a *API) Sessions() int {
	n := 0
	now := a.cfg.Now()
	a.cfg.State.Snapshot().STSCredentials(func(c *state.STSCredential) bool {
		if now.Before(c.Expiration) {
			n++
		}
		return true
	})
	return n
}

func random(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("stsapi: no randomness: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const (
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func newToken() string {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("stsapi: no randomness: %v", err))
	}
	return "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(b)
}

// issue makes credentials for a role session and commits them.
func (a *API) issue(ctx context.Context, principal string, r *state.IAMRole, sessionName string, d time.Duration, pol string, tags []wire.IAMTag) (Credentials, error) {
	now := a.cfg.Now()
	c := Credentials{
		AccessKeyID:     "ASIA" + random(16, upperAlnum),
		SecretAccessKey: random(40, secretChars),
		SessionToken:    newToken(),
		Expiration:      now.Add(d).UTC().Truncate(time.Second),
		AssumedRoleARN:  fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", a.cfg.Partition, a.cfg.Account, r.Name, sessionName),
		AssumedRoleID:   r.ID + ":" + sessionName,
	}
	sealed, err := a.cfg.Sealer.Seal([]byte(c.SecretAccessKey), []byte(c.AccessKeyID))
	if err != nil {
		return Credentials{}, fmt.Errorf("stsapi: seal the secret: %w", err)
	}
	h := sha256.Sum256([]byte(c.SessionToken))
	cmd := wire.IssueSTSCredentials{Meta: wire.Meta{Now: now.UTC(), Principal: principal}, Credential: wire.STSCredential{
		AccessKeyID: c.AccessKeyID, SealedSecret: sealed, TokenHash: h[:], Expiration: c.Expiration,
		Principal: c.AssumedRoleARN, UserID: c.AssumedRoleID, RoleARN: r.ARN, Policy: pol, Tags: tags}}
	if _, err := a.cfg.Proposer.Apply(ctx, cmd); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// roleByARN finds the role an ARN names (path included).
func (a *API) roleByARN(roleARN string) (*state.IAMRole, error) {
	prefix := fmt.Sprintf("arn:%s:iam::%s:role/", a.cfg.Partition, a.cfg.Account)
	if len(roleARN) < 20 || len(roleARN) > 2048 || !strings.HasPrefix(roleARN, "arn:") {
		return nil, validation(roleARN, "roleArn", "must have length greater than or equal to 20")
	}
	if !strings.HasPrefix(roleARN, prefix) {
		return nil, apierr.Newf(CodeAccessDenied, "Not authorized to perform sts:AssumeRole on %s", roleARN)
	}
	rest := strings.TrimPrefix(roleARN, prefix)
	name := rest[strings.LastIndex(rest, "/")+1:]
	r := a.cfg.Roles.Role(name)
	if r == nil || r.ARN != roleARN {
		return nil, apierr.Newf(CodeAccessDenied, "Not authorized to perform sts:AssumeRole")
	}
	return r, nil
}

// caller describes a principal ARN for the trust policy check.
func (a *API) caller(principal string) policy.Caller {
	c := policy.Caller{Account: a.cfg.Account, ARN: principal}
	prefix := fmt.Sprintf("arn:%s:sts::%s:assumed-role/", a.cfg.Partition, a.cfg.Account)
	if rest, ok := strings.CutPrefix(principal, prefix); ok {
		a.cfg.State.Snapshot().STSCredentials(func(s *state.STSCredential) bool {
			if s.Principal == principal {
				c.RoleARN = s.RoleARN
				return false
			}
			return true
		})
		if c.RoleARN == "" {
			name, _, _ := strings.Cut(rest, "/")
			if r := a.cfg.Roles.Role(name); r != nil {
				c.RoleARN = r.ARN
			}
		}
	}
	return c
}

func trusts(r *state.IAMRole, c policy.Caller) bool {
	d, err := policy.Parse(r.AssumeRolePolicy, policy.Trust)
	return err == nil && policy.TrustAllows(d, c, policy.AssumeRoleAction)
}

func maxDuration(r *state.IAMRole) time.Duration {
	if r.MaxSessionDuration == 0 {
		return defaultMaxSessionLength * time.Second
	}
	return time.Duration(r.MaxSessionDuration) * time.Second
}

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)

func checkSessionName(s string) error {
	if len(s) < 2 || len(s) > 64 {
		return validation(s, "roleSessionName", "must have length greater than or equal to 2 and less than or equal to 64")
	}
	if !sessionNamePattern.MatchString(s) {
		return validation(s, "roleSessionName", `must satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	return nil
}

// IssueRoleCredentials issues credentials for a task's role on the
// server's behalf (the agent's task credentials endpoint): the role's
// trust policy must allow the ECS task service principal
// (ecs-tasks.amazonaws.com) to sts:AssumeRole. roleARN may also be a role
// name. A zero duration is DefaultDuration; it must be between
// MinDuration and the role's maximum session duration.
func (a *API) IssueRoleCredentials(ctx context.Context, roleARN, sessionName string, duration time.Duration) (Credentials, error) {
	r, err := a.taskRole(roleARN)
	if err != nil {
		return Credentials{}, err
	}
	if err := checkSessionName(sessionName); err != nil {
		return Credentials{}, err
	}
	if duration == 0 {
		duration = DefaultDuration
	}
	if duration < MinDuration || duration > maxDuration(r) {
		return Credentials{}, apierr.Newf(CodeValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return a.issue(ctx, "", r, sessionName, duration, "", nil)
}

// CheckTaskRole answers nil when ECS tasks may assume roleARN (a role ARN
// or name): the role exists and its trust policy allows the ECS task
// service principal to sts:AssumeRole. It issues nothing; the error is
// IssueRoleCredentials' for the same role.
func (a *API) CheckTaskRole(roleARN string) error {
	_, err := a.taskRole(roleARN)
	return err
}

// taskRole is the role roleARN (or name) names when it trusts the ECS
// task service principal.
func (a *API) taskRole(roleARN string) (*state.IAMRole, error) {
	var r *state.IAMRole
	if !strings.HasPrefix(roleARN, "arn:") {
		r = a.cfg.Roles.Role(roleARN)
		if r == nil {
			return nil, apierr.Newf(CodeAccessDenied, "Not authorized to perform sts:AssumeRole on %s", roleARN)
		}
	} else {
		var err error
		if r, err = a.roleByARN(roleARN); err != nil {
			return nil, err
		}
	}
	if !trusts(r, policy.Caller{Account: a.cfg.Account, Service: TaskServicePrincipal}) {
		return nil, apierr.Newf(CodeAccessDenied, "The role %s does not trust %s to assume it (its trust policy has no Allow for the service principal).", r.ARN, TaskServicePrincipal)
	}
	return r, nil
}

// statuses maps STS wire codes to HTTP statuses (from the model).
var statuses = func() map[string]int {
	out := map[string]int{CodeAccessDenied: 403, CodeValidation: 400}
	for shapeName, code := range stsshape.ErrorCodes {
		out[code] = stsshape.ErrorStatus[shapeName]
	}
	return out
}()

func stsError(code, msg string) *awsproto.Error {
	st, ok := statuses[code]
	if !ok {
		st = 400
	}
	return awsproto.WithStatus(st, code, msg)
}

func validation(value any, member, constraint string) error {
	return apierr.Newf(CodeValidation, "1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: Member %s", value, member, constraint)
}

func mapError(err error) (*awsproto.Error, bool) {
	if e, ok := apierr.As(err); ok {
		if _, known := statuses[e.Code]; known {
			return stsError(e.Code, e.Message), true
		}
	}
	var pe *policy.Error
	if errors.As(err, &pe) {
		return stsError(CodeMalformedPolicy, pe.Message), true
	}
	if errors.Is(err, fsm.ErrNotCommitted) {
		return awsproto.WithStatus(503, "ServiceUnavailable", "The request was not processed; retry it."), true
	}
	return nil, false
}

func op[In, Out any](f func(ctx context.Context, req *awsproto.Request, in *In) (*Out, error)) awsproto.Operation {
	return awsproto.Handle(f)
}

// Service is STS on the protocol edge.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "STS", SigningName: SigningName, Protocol: awsproto.Query, Version: Version, XMLNamespace: XMLNamespace,
		Operations: map[string]awsproto.Operation{
			"GetCallerIdentity": op(a.GetCallerIdentity),
			"AssumeRole":        op(a.AssumeRole),
		},
		Known:    func(name string) bool { return slices.Contains(stsshape.Operations, name) },
		MapError: mapError,
	}
}

// GetCallerIdentity names the caller.
func (a *API) GetCallerIdentity(ctx context.Context, req *awsproto.Request, in *stsshape.GetCallerIdentityRequest) (*stsshape.GetCallerIdentityResponse, error) {
	userID := a.cfg.Account
	if req.Principal != a.Root() {
		a.cfg.State.Snapshot().STSCredentials(func(s *state.STSCredential) bool {
			if s.Principal == req.Principal {
				userID = s.UserID
				return false
			}
			return true
		})
	}
	return &stsshape.GetCallerIdentityResponse{Account: &a.cfg.Account, Arn: &req.Principal, UserId: &userID}, nil
}

// AssumeRole issues credentials for a role whose trust policy allows the
// caller.
func (a *API) AssumeRole(ctx context.Context, req *awsproto.Request, in *stsshape.AssumeRoleRequest) (*stsshape.AssumeRoleResponse, error) {
	if in.RoleArn == nil {
		return nil, apierr.Newf(CodeValidation, "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	if in.RoleSessionName == nil {
		return nil, apierr.Newf(CodeValidation, "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	if err := checkSessionName(*in.RoleSessionName); err != nil {
		return nil, err
	}
	d := DefaultDuration
	if in.DurationSeconds != nil {
		if *in.DurationSeconds < 900 {
			return nil, validation(*in.DurationSeconds, "durationSeconds", "must have value greater than or equal to 900")
		}
		if *in.DurationSeconds > 43200 {
			return nil, validation(*in.DurationSeconds, "durationSeconds", "must have value less than or equal to 43200")
		}
		d = time.Duration(*in.DurationSeconds) * time.Second
	}
	if in.ExternalId != nil && (len(*in.ExternalId) < 2 || len(*in.ExternalId) > 1224) {
		return nil, validation(*in.ExternalId, "externalId", "must have length greater than or equal to 2")
	}
	var pol string
	if in.Policy != nil {
		if len(*in.Policy) > maxSessionPolicyLength {
			return nil, apierr.Newf(CodePackedPolicyTooBig, "Packed policy consumes more than 100 percent of the allotted size.")
		}
		if _, err := policy.Parse(*in.Policy, policy.Permission); err != nil {
			return nil, err
		}
		pol = *in.Policy
	}
	if len(in.Tags) > maxSessionTags {
		return nil, validation(len(in.Tags), "tags", "must have length less than or equal to 50")
	}
	var tags []wire.IAMTag
	for _, t := range in.Tags {
		if t.Key == nil || t.Value == nil {
			return nil, apierr.Newf(CodeValidation, "1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null")
		}
		tags = append(tags, wire.IAMTag{Key: *t.Key, Value: *t.Value})
	}
	if in.SerialNumber != nil || in.TokenCode != nil {
		return nil, apierr.Newf(CodeAccessDenied, "MFA is not supported by berth.")
	}
	r, err := a.roleByARN(*in.RoleArn)
	if err != nil {
		return nil, err
	}
	c := a.caller(req.Principal)
	c.Context = map[string]string{"aws:PrincipalAccount": a.cfg.Account, "aws:PrincipalArn": req.Principal}
	if in.ExternalId != nil {
		c.Context["sts:ExternalId"] = *in.ExternalId
	}
	if !trusts(r, c) {
		return nil, apierr.Newf(CodeAccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", req.Principal, r.ARN)
	}
	if d > maxDuration(r) {
		return nil, apierr.Newf(CodeValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if c.RoleARN != "" && d > time.Hour { // role chaining
		return nil, apierr.Newf(CodeValidation, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	cred, err := a.issue(ctx, req.Principal, r, *in.RoleSessionName, d, pol, tags)
	if err != nil {
		return nil, err
	}
	out := &stsshape.AssumeRoleResponse{
		AssumedRoleUser: &stsshape.AssumedRoleUser{Arn: &cred.AssumedRoleARN, AssumedRoleId: &cred.AssumedRoleID},
		Credentials: &stsshape.Credentials{AccessKeyId: &cred.AccessKeyID, SecretAccessKey: &cred.SecretAccessKey,
			SessionToken: &cred.SessionToken, Expiration: &cred.Expiration},
	}
	if pol != "" {
		size := int32(len(pol) * 100 / maxSessionPolicyLength)
		out.PackedPolicySize = &size
	}
	return out, nil
}
