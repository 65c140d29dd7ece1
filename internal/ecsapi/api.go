package ecsapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of the ECS API.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113"

// DefaultMaxBody bounds request bodies (a task definition is at most 64 KiB).
const DefaultMaxBody = 1 << 20

// Authenticator verifies a request's signature and names its caller.
type Authenticator = awsproto.Authenticator

// Reader gives consistent read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands to the replicated state machine.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Config wires an API.
type Config struct {
	Namer arn.Namer
	// Auth authenticates the requests ServeHTTP answers (the API alone on
	// an edge of its own, as tests use it); a server mounts Service on its
	// shared edge instead.
	Auth     Authenticator
	State    Reader
	Proposer Proposer
	Log      *slog.Logger
	// Metrics registers the API's metrics; nil registers none.
	Metrics prometheus.Registerer
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxBody bounds request bodies; default DefaultMaxBody.
	MaxBody int64
	// TaskRange and TaskSubnetBits give each container instance that can
	// run awsvpc tasks a task subnet at registration (the cluster's task
	// network); an invalid range is the server's to refuse at start.
	TaskRange      string
	TaskSubnetBits int
	// Roles checks the task and execution roles of the tasks RunTask and
	// StartTask launch; nil checks none.
	Roles RoleChecker
}

// RoleChecker says whether ECS tasks may assume a role (stsapi's
// CheckTaskRole): it exists and trusts ecs-tasks.amazonaws.com.
type RoleChecker interface {
	CheckTaskRole(roleARNOrName string) error
}

// API is the ECS HTTP handler.
type API struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	views   fsm.InstanceViews // placement views of container instances, kept between calls
	edge    *awsproto.Edge    // ECS alone, for ServeHTTP
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, log: cfg.Log.With("component", "ecsapi"), metrics: newMetrics(cfg.Metrics)}
	if cfg.Auth != nil {
		a.edge = awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{a.Service()}, Auth: cfg.Auth, Log: cfg.Log})
	}
	return a
}

// Service describes the ECS API to the protocol edge: AWS JSON 1.1, with
// ECS's own codes for the edge's answers (ClientException for a body over
// the limit, UnsupportedFeatureException for an operation of the model
// berth does not serve, ServerException for a fault) and its metrics.
func (a *API) Service() awsproto.Service {
	ops := make(map[string]awsproto.Operation, len(operations))
	for name, h := range operations {
		ops[name] = func(ctx context.Context, req *awsproto.Request) (any, error) {
			c := &call{ctx: ctx, principal: req.Principal, now: a.cfg.Now().UTC(), requestID: req.RequestID, op: req.Op}
			return h(a, c, req.Body)
		}
	}
	return awsproto.Service{
		Name: "ECS", SigningName: "ecs", Protocol: awsproto.JSON11, TargetPrefix: TargetPrefix,
		MaxBody: a.cfg.MaxBody, ErrorMessageMember: "message",
		Operations: ops, Known: isModelOperation,
		UnsupportedCode: apierr.UnsupportedFeature, InternalCode: apierr.Server,
		BodyTooLarge: func(limit int64) *awsproto.Error {
			return awsproto.Errorf(apierr.Client, "The request body is larger than the limit of %d bytes.", limit)
		},
		MapError: mapError,
		Observe:  a.metrics.observe,
	}
}

// mapError answers an ECS exception with its code and status.
func mapError(err error) (*awsproto.Error, bool) {
	e, ok := apierr.As(err)
	if !ok {
		return nil, false
	}
	return awsproto.WithStatus(e.Status(), e.Code, e.Message), true
}

// call is one request in flight.
type call struct {
	ctx       context.Context
	principal string
	now       time.Time
	requestID string
	op        string
}

func (c *call) meta() wire.Meta { return wire.Meta{Now: c.now, Principal: c.principal} }

// ServeHTTP answers one ECS API request on an edge serving ECS alone
// (Config.Auth authenticates it).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.edge == nil {
		http.Error(w, "ecsapi: no Authenticator configured", http.StatusInternalServerError)
		return
	}
	a.edge.ServeHTTP(w, r)
}

// apply proposes a command and maps consensus failures to server errors.
func (a *API) apply(c *call, cmd wire.Command) (any, error) {
	v, err := a.cfg.Proposer.Apply(c.ctx, cmd)
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		if errors.Is(err, fsm.ErrNotCommitted) {
			return nil, &apierr.Error{Code: apierr.Server, Message: "The change was not made: the server could not commit it. Retry the request. Request ID: " + c.requestID, Err: err}
		}
		// The outcome is unknown: say so. A retry with the same clientToken
		// (the SDKs retry this error with the token they sent) returns the
		// original result; without one, check before retrying.
		return nil, &apierr.Error{Code: apierr.Server, Message: "The server did not confirm the change in time: it may or may not have been made. A retry with the same clientToken returns the original result. Request ID: " + c.requestID, Err: err}
	}
	return v, nil
}

func (a *API) snapshot() *state.Snapshot { return a.cfg.State.Snapshot() }

// NewUUID returns a random (version 4) UUID.
func NewUUID() string { return newUUID() }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewID returns a 32-character lowercase hex ID, the form ECS gives tasks
// and container instances.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
