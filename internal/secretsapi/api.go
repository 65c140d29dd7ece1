// Package secretsapi serves the AWS Secrets Manager API (AWS JSON 1.1,
// target prefix secretsmanager, signing name secretsmanager, error member
// Message) on berth's AWS protocol edge, for the secrets that task
// definitions name in containerDefinitions[].secrets[].valueFrom.
//
// Served: CreateSecret, GetSecretValue, BatchGetSecretValue,
// PutSecretValue, UpdateSecret, DescribeSecret, ListSecrets,
// DeleteSecret, RestoreSecret, ListSecretVersionIds,
// UpdateSecretVersionStage, TagResource, UntagResource,
// GetResourcePolicy, PutResourcePolicy, DeleteResourcePolicy (a resource
// policy is validated and stored, not enforced). Every other
// operation of the model is answered "not supported yet"; RotateSecret
// (which needs a rotation Lambda) is refused with InvalidRequestException.
//
// Secrets: a value is validated, sealed (package seal, associated data
// the secret's ARN, a NUL byte and the version ID) and only then
// proposed, so the raft log and snapshots hold sealed bytes alone.
// GetSecretValue, BatchGetSecretValue and ResolveSecretValue open it; no
// other answer, event or log line carries it. KmsKeyId is accepted and
// stored but not used: berth seals with its state key.
//
// Reads come from one state snapshot. A secret scheduled for deletion
// answers InvalidRequestException to everything but DescribeSecret,
// ListSecretVersionIds, RestoreSecret and DeleteSecret; once its
// deletion date has passed it is gone (a CreateSecret of its name purges
// it).
package secretsapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/smshape"
	"berth.dev/berth/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of the Secrets Manager API.
const TargetPrefix = "secretsmanager"

// MaxBody bounds request bodies: a 65,536-byte binary value is 87 KiB in
// base64; BatchGetSecretValue and tags add little.
const MaxBody = 1 << 20

// Reader gives consistent read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands to the replicated state machine.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Sealer seals secrets at rest (package seal's *Sealer).
type Sealer interface {
	Seal(plaintext, associatedData []byte) ([]byte, error)
	Open(sealed, associatedData []byte) ([]byte, error)
}

// Config wires an API.
type Config struct {
	// Partition ("aws"), Region and Account build secret ARNs
	// (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX).
	Partition, Region, Account string
	State                      Reader
	Proposer                   Proposer
	Sealer                     Sealer
	Log                        *slog.Logger
	// Now is the clock of deletion dates; default time.Now.
	Now func() time.Time
	// NewSuffix makes the six random alphanumerics of an ARN; NewUUID
	// makes version IDs when the caller gives no ClientRequestToken.
	NewSuffix func() string
	NewUUID   func() string
}

// API is the Secrets Manager API.
type API struct {
	cfg Config
	log *slog.Logger
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewSuffix == nil {
		cfg.NewSuffix = newSuffix
	}
	if cfg.NewUUID == nil {
		cfg.NewUUID = newUUID
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &API{cfg: cfg, log: cfg.Log.With("component", "secretsapi")}
}

// Service describes the Secrets Manager API to the protocol edge.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "Secrets Manager", SigningName: "secretsmanager", Protocol: awsproto.JSON11, TargetPrefix: TargetPrefix,
		ErrorMessageMember: "Message",
		MaxBody:            MaxBody,
		Operations: map[string]awsproto.Operation{
			"CreateSecret":             awsproto.Handle(a.createSecret),
			"GetSecretValue":           awsproto.Handle(a.getSecretValue),
			"BatchGetSecretValue":      awsproto.Handle(a.batchGetSecretValue),
			"PutSecretValue":           awsproto.Handle(a.putSecretValue),
			"UpdateSecret":             awsproto.Handle(a.updateSecret),
			"DescribeSecret":           awsproto.Handle(a.describeSecret),
			"ListSecrets":              awsproto.Handle(a.listSecrets),
			"DeleteSecret":             awsproto.Handle(a.deleteSecret),
			"RestoreSecret":            awsproto.Handle(a.restoreSecret),
			"ListSecretVersionIds":     awsproto.Handle(a.listSecretVersionIds),
			"UpdateSecretVersionStage": awsproto.Handle(a.updateSecretVersionStage),
			"TagResource":              awsproto.Handle(a.tagResource),
			"UntagResource":            awsproto.Handle(a.untagResource),
			"GetResourcePolicy":        awsproto.Handle(a.getResourcePolicy),
			"PutResourcePolicy":        awsproto.Handle(a.putResourcePolicy),
			"DeleteResourcePolicy":     awsproto.Handle(a.deleteResourcePolicy),
			"RotateSecret":             rotateSecret,
		},
		Known:        func(op string) bool { return slices.Contains(smshape.Operations, op) },
		InternalCode: "InternalServiceError",
		MapError:     mapError,
	}
}

func rotateSecret(ctx context.Context, req *awsproto.Request) (any, error) {
	return nil, smError(fsm.SMInvalidRequest, "berth does not rotate secrets: it runs no rotation Lambda functions. Rotate a secret by calling PutSecretValue with the new value (it becomes AWSCURRENT, the old one AWSPREVIOUS).")
}

// smError is a Secrets Manager error of a code of the model.
func smError(code, msg string) *awsproto.Error {
	status, ok := smshape.ErrorStatus[code]
	if !ok {
		status = 400
	}
	return awsproto.WithStatus(status, code, msg)
}

func smErrorf(code, format string, args ...any) *awsproto.Error {
	return smError(code, fmt.Sprintf(format, args...))
}

func invalidParameter(format string, args ...any) *awsproto.Error {
	return smErrorf(fsm.SMInvalidParameter, format, args...)
}

// mapError answers the state machine's Secrets Manager errors.
func mapError(err error) (*awsproto.Error, bool) {
	e, ok := apierr.As(err)
	if !ok {
		return nil, false
	}
	if _, known := smshape.ErrorCodes[e.Code]; !known {
		return nil, false
	}
	return smError(e.Code, e.Message), true
}

// apply proposes a command and maps consensus failures to server errors.
func (a *API) apply(ctx context.Context, req *awsproto.Request, cmd wire.Command) (any, error) {
	v, err := a.cfg.Proposer.Apply(ctx, cmd)
	if err == nil {
		return v, nil
	}
	if _, ok := apierr.As(err); ok {
		return nil, err
	}
	if errors.Is(err, fsm.ErrNotCommitted) {
		return nil, awsproto.WithStatus(500, "InternalServiceError", "The change was not made: the server could not commit it. Retry the request. Request ID: "+req.RequestID)
	}
	return nil, awsproto.WithStatus(500, "InternalServiceError", "The server did not confirm the change in time: it may or may not have been made. Check before retrying. Request ID: "+req.RequestID)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func newSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b[:])
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
