package ecsapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of the ECS API.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113"

// DefaultMaxBody bounds request bodies (a task definition is at most 64 KiB).
const DefaultMaxBody = 1 << 20

// Authenticator verifies a request's signature and names its caller.
type Authenticator interface {
	// Authenticate returns the caller's principal ARN, or an *apierr.Error.
	Authenticate(r *http.Request, body []byte) (principal string, err error)
}

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
	Namer    arn.Namer
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
}

// API is the ECS HTTP handler.
type API struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	views   fsm.InstanceViews // placement views of container instances, kept between calls
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
	return &API{cfg: cfg, log: cfg.Log.With("component", "ecsapi"), metrics: newMetrics(cfg.Metrics)}
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

// ServeHTTP answers one ECS API request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{ctx: r.Context(), now: a.cfg.Now().UTC(), requestID: newUUID(), op: "unknown"}
	w.Header().Set("x-amzn-RequestId", c.requestID)
	out, err := a.serveSafely(c, w, r)
	if err != nil {
		a.writeError(w, c, err)
	} else if werr := writeJSON(w, http.StatusOK, out); werr != nil {
		a.log.Error("response could not be encoded", "op", c.op, "request_id", c.requestID, "err", werr)
		err = werr
	}
	a.metrics.observe(c.op, apierr.CodeOf(err), err != nil, time.Since(start))
}

// serveSafely runs serve, turning a panic into a server error so that the
// client gets an answer with a request ID rather than a dropped connection.
func (a *API) serveSafely(c *call, w http.ResponseWriter, r *http.Request) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.log.Error("request panicked", "op", c.op, "request_id", c.requestID, "panic", p, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return a.serve(c, w, r)
}

func (a *API) serve(c *call, w http.ResponseWriter, r *http.Request) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apierr.Clientf("The request body is larger than the limit of %d bytes.", a.cfg.MaxBody)
		}
		return nil, apierr.Newf(apierr.Serialization, "Unable to read the request body: %v", err)
	}
	principal, err := a.cfg.Auth.Authenticate(r, body)
	if err != nil {
		return nil, err
	}
	c.principal = principal
	if r.Method != http.MethodPost {
		return nil, apierr.Newf(apierr.UnknownOperation, "Operations are called with POST, not %s.", r.Method)
	}
	prefix, name, ok := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if !ok || prefix != TargetPrefix || name == "" {
		return nil, apierr.New(apierr.UnknownOperation, "The X-Amz-Target header must be "+TargetPrefix+".<Operation>.")
	}
	handler, ok := operations[name]
	if !ok {
		if isModelOperation(name) {
			c.op = name
			return nil, apierr.Newf(apierr.UnsupportedFeature, "berth does not support the %s operation yet.", name)
		}
		return nil, apierr.Newf(apierr.UnknownOperation, "Unknown operation %s.", name)
	}
	c.op = name
	return handler(a, c, body)
}

func (a *API) writeError(w http.ResponseWriter, c *call, err error) {
	e, ok := apierr.As(err)
	if !ok {
		a.log.Error("request failed", "op", c.op, "request_id", c.requestID, "err", err)
		e = apierr.New(apierr.Server, "The server encountered an internal error. Request ID: "+c.requestID)
	} else if e.Code == apierr.Server {
		a.log.Error("request failed", "op", c.op, "request_id", c.requestID, "err", err)
	}
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	_ = writeJSON(w, e.Status(), struct { // two strings always encode
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
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
