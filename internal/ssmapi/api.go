// Package ssmapi serves the AWS Systems Manager Parameter Store API (AWS
// JSON 1.1, target prefix AmazonSSM, signing name ssm) on berth's AWS
// protocol edge (docs/parameters.md).
//
// Served: PutParameter, GetParameter, GetParameters, GetParametersByPath,
// DescribeParameters, DeleteParameter, DeleteParameters,
// GetParameterHistory, LabelParameterVersion, UnlabelParameterVersion,
// AddTagsToResource, RemoveTagsFromResource, ListTagsForResource (resource
// type Parameter). Every other SSM operation is answered "not supported
// yet".
//
// Secrets: a SecureString value is sealed (package seal, associated data
// the parameter's ARN, "#" and the version) before it is proposed, so the
// raft log and snapshots hold the sealed bytes alone. It is opened only
// for GetParameter(s), GetParametersByPath and GetParameterHistory with
// WithDecryption, and for ResolveParameter (the agent's secret
// injection); without decryption the answer is the sealed bytes in
// base64, as SSM answers its KMS ciphertext.
package ssmapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/ssmshape"
	"berth.dev/berth/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of the SSM API.
const TargetPrefix = "AmazonSSM"

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
	// Partition ("aws"), Region and Account build parameter ARNs
	// (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME).
	Partition, Region, Account string
	State                      Reader
	Proposer                   Proposer
	Sealer                     Sealer
	Log                        *slog.Logger
}

// API is the SSM Parameter Store API.
type API struct {
	cfg Config
	log *slog.Logger
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &API{cfg: cfg, log: cfg.Log.With("component", "ssmapi")}
}

// Service describes the SSM API to the protocol edge.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "SSM", SigningName: "ssm", Protocol: awsproto.JSON11, TargetPrefix: TargetPrefix,
		ErrorMessageMember: "Message",
		Operations: map[string]awsproto.Operation{
			"PutParameter":            awsproto.Handle(a.putParameter),
			"GetParameter":            awsproto.Handle(a.getParameter),
			"GetParameters":           awsproto.Handle(a.getParameters),
			"GetParametersByPath":     awsproto.Handle(a.getParametersByPath),
			"DescribeParameters":      awsproto.Handle(a.describeParameters),
			"DeleteParameter":         awsproto.Handle(a.deleteParameter),
			"DeleteParameters":        awsproto.Handle(a.deleteParameters),
			"GetParameterHistory":     awsproto.Handle(a.getParameterHistory),
			"LabelParameterVersion":   awsproto.Handle(a.labelParameterVersion),
			"UnlabelParameterVersion": awsproto.Handle(a.unlabelParameterVersion),
			"AddTagsToResource":       awsproto.Handle(a.addTags),
			"RemoveTagsFromResource":  awsproto.Handle(a.removeTags),
			"ListTagsForResource":     awsproto.Handle(a.listTags),
		},
		Known:    func(op string) bool { return slices.Contains(ssmshape.Operations, op) },
		MapError: mapError,
	}
}

// ARN returns a parameter's ARN: arn:PARTITION:ssm:REGION:ACCOUNT:parameter
// followed by the name, with a slash between them only when the name has
// none of its own.
func (a *API) ARN(name string) string {
	sep := ""
	if !strings.HasPrefix(name, "/") {
		sep = "/"
	}
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s%s", a.cfg.Partition, a.cfg.Region, a.cfg.Account, sep, name)
}

// sealAD is the associated data of a SecureString version's sealed value.
func (a *API) sealAD(name string, version int64) []byte {
	return []byte(a.ARN(name) + "#" + strconv.FormatInt(version, 10))
}

// open returns a version's plain value (opening a SecureString's).
func (a *API) open(name string, v *state.ParameterVersion) (string, error) {
	if v.Sealed == nil {
		return v.Value, nil
	}
	plain, err := a.cfg.Sealer.Open(v.Sealed, a.sealAD(name, v.Version))
	if err != nil {
		a.log.Error("a SecureString value does not open", "parameter", name, "version", v.Version, "err", err)
		return "", awsproto.WithStatus(500, "InternalServerError", "The parameter's value could not be decrypted.")
	}
	return string(plain), nil
}

// ErrNotFound is what ResolveParameter's errors match (errors.Is) when
// the parameter, its version or its label does not exist.
var ErrNotFound = errors.New("ssm parameter not found")

// NotFoundError is ResolveParameter's typed not-found error.
type NotFoundError struct {
	Ref string
}

func (e *NotFoundError) Error() string        { return fmt.Sprintf("ssm parameter %s not found", e.Ref) }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ResolveParameter returns the plain value of what an ECS container
// definition's secrets[].valueFrom names for SSM: a parameter name
// ("/app/db/password", "password") or its full ARN
// ("arn:aws:ssm:REGION:ACCOUNT:parameter/app/db/password"), optionally
// with a ":VERSION" or ":LABEL" selector. SecureString values come back
// decrypted. An unknown parameter, version or label is a *NotFoundError
// (errors.Is(err, ErrNotFound)); an ARN of another region or account is
// not found either.
func (a *API) ResolveParameter(ctx context.Context, ref string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	sel, plain, err := parseSelector(ref)
	if err != nil {
		return "", fmt.Errorf("ssm parameter reference %q: %w", ref, err)
	}
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 7)
		if parts[1] != a.cfg.Partition || parts[3] != a.cfg.Region || parts[4] != a.cfg.Account {
			return "", &NotFoundError{Ref: ref}
		}
	}
	snap := a.cfg.State.Snapshot()
	p := snap.Parameter(sel.Name)
	if p == nil && plain {
		p = snap.Parameter("/" + sel.Name)
	}
	if p == nil {
		return "", &NotFoundError{Ref: ref}
	}
	v, err := pick(p, sel)
	if err != nil {
		return "", &NotFoundError{Ref: ref}
	}
	return a.open(p.Name, v)
}

// pick returns the version a selector names.
func pick(p *state.Parameter, sel selector) (*state.ParameterVersion, error) {
	switch {
	case sel.Version != 0:
		if v := p.Find(sel.Version); v != nil {
			return v, nil
		}
		return nil, fsm.ErrParameterVersionNotFound(p.Name, sel.Version)
	case sel.Label != "":
		if v := p.Labeled(sel.Label); v != nil {
			return v, nil
		}
		return nil, apierr.Newf(fsm.SSMParameterVersionNotFound, "Systems Manager could not find label %s of %s. Verify the label and try again.", sel.Label, p.Name)
	}
	return p.Latest(), nil
}

// ssmError is an SSM error of a code of the model.
func ssmError(code, msg string) *awsproto.Error {
	status, ok := ssmshape.ErrorStatus[code]
	if !ok {
		status = 400
	}
	return awsproto.WithStatus(status, code, msg)
}

func ssmErrorf(code, format string, args ...any) *awsproto.Error {
	return ssmError(code, fmt.Sprintf(format, args...))
}

func validationf(format string, args ...any) *awsproto.Error {
	return ssmErrorf("ValidationException", format, args...)
}

// mapError answers the state machine's SSM errors (apierr with SSM codes).
func mapError(err error) (*awsproto.Error, bool) {
	e, ok := apierr.As(err)
	if !ok {
		return nil, false
	}
	if _, known := ssmshape.ErrorCodes[e.Code]; !known {
		return nil, false
	}
	return ssmError(e.Code, e.Message), true
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
		return nil, awsproto.WithStatus(500, "InternalServerError", "The change was not made: the server could not commit it. Retry the request. Request ID: "+req.RequestID)
	}
	return nil, awsproto.WithStatus(500, "InternalServerError", "The server did not confirm the change in time: it may or may not have been made. Check before retrying. Request ID: "+req.RequestID)
}
