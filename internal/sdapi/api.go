// Package sdapi serves the AWS Cloud Map API (servicediscovery, AWS JSON
// 1.1, target prefix Route53AutoNaming_v20170314) on berth's AWS protocol
// edge, and renders the state's private DNS namespaces and load balancer
// names for berth's DNS nodes (RenderDNS, Source).
//
// Namespaces: private DNS (served by berth's DNS nodes) and HTTP (API
// discovery only). Public DNS namespaces and Route 53 health checks are
// refused with InvalidInput. Asynchronous operations complete in the
// command that makes them: the returned OperationId is already SUCCESS or
// FAIL. Custom health updates apply at once (Cloud Map waits ~30 s).
// Requests are routed by X-Amz-Target, whatever the Host header: the SDKs
// send DiscoverInstances to a "data-" prefixed host.
package sdapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"slices"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/sd"
	"berth.dev/berth/internal/sdshape"
	"berth.dev/berth/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of the Cloud Map API.
const TargetPrefix = "Route53AutoNaming_v20170314"

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
	// Partition ("aws"), Region and Account build ARNs.
	Partition, Region, Account string
	State                      Reader
	Proposer                   Proposer
	Log                        *slog.Logger
	// Rand is the source of IDs and of DiscoverInstances' order; default
	// crypto/rand.
	Rand io.Reader
}

// API is the Cloud Map API.
type API struct {
	cfg   Config
	namer sd.Namer
	log   *slog.Logger
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &API{cfg: cfg, namer: sd.Namer{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.Account},
		log: cfg.Log.With("component", "sdapi")}
}

// Service describes the Cloud Map API to the protocol edge.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "servicediscovery", SigningName: "servicediscovery", Protocol: awsproto.JSON11, TargetPrefix: TargetPrefix,
		ErrorMessageMember: "Message",
		Operations: map[string]awsproto.Operation{
			"CreatePrivateDnsNamespace":        awsproto.Handle(a.createPrivateDnsNamespace),
			"CreatePublicDnsNamespace":         awsproto.Handle(a.createPublicDnsNamespace),
			"CreateHttpNamespace":              awsproto.Handle(a.createHttpNamespace),
			"GetNamespace":                     awsproto.Handle(a.getNamespace),
			"ListNamespaces":                   awsproto.Handle(a.listNamespaces),
			"DeleteNamespace":                  awsproto.Handle(a.deleteNamespace),
			"UpdatePrivateDnsNamespace":        awsproto.Handle(a.updatePrivateDnsNamespace),
			"UpdateHttpNamespace":              awsproto.Handle(a.updateHttpNamespace),
			"UpdatePublicDnsNamespace":         awsproto.Handle(a.updatePublicDnsNamespace),
			"GetOperation":                     awsproto.Handle(a.getOperation),
			"ListOperations":                   awsproto.Handle(a.listOperations),
			"CreateService":                    awsproto.Handle(a.createService),
			"GetService":                       awsproto.Handle(a.getService),
			"ListServices":                     awsproto.Handle(a.listServices),
			"UpdateService":                    awsproto.Handle(a.updateService),
			"DeleteService":                    awsproto.Handle(a.deleteService),
			"GetServiceAttributes":             awsproto.Handle(a.getServiceAttributes),
			"UpdateServiceAttributes":          awsproto.Handle(a.updateServiceAttributes),
			"DeleteServiceAttributes":          awsproto.Handle(a.deleteServiceAttributes),
			"RegisterInstance":                 awsproto.Handle(a.registerInstance),
			"DeregisterInstance":               awsproto.Handle(a.deregisterInstance),
			"GetInstance":                      awsproto.Handle(a.getInstance),
			"ListInstances":                    awsproto.Handle(a.listInstances),
			"GetInstancesHealthStatus":         awsproto.Handle(a.getInstancesHealthStatus),
			"UpdateInstanceCustomHealthStatus": awsproto.Handle(a.updateInstanceCustomHealthStatus),
			"DiscoverInstances":                awsproto.Handle(a.discoverInstances),
			"DiscoverInstancesRevision":        awsproto.Handle(a.discoverInstancesRevision),
			"TagResource":                      awsproto.Handle(a.tagResource),
			"UntagResource":                    awsproto.Handle(a.untagResource),
			"ListTagsForResource":              awsproto.Handle(a.listTagsForResource),
		},
		Known:    func(op string) bool { return slices.Contains(sdshape.Operations, op) },
		MapError: mapError,
	}
}

// sdError is a Cloud Map error of a code of the model.
func sdError(code, msg string) *awsproto.Error {
	status, ok := sdshape.ErrorStatus[code]
	if !ok {
		status = 400
	}
	return awsproto.WithStatus(status, code, msg)
}

// mapError answers Cloud Map errors (apierr with Cloud Map codes, from
// package sd and the state machine).
func mapError(err error) (*awsproto.Error, bool) {
	var c *fsm.SDConflict
	if errors.As(err, &c) {
		out := sdError(c.Err.Code, c.Err.Message)
		out.Members = map[string]string{}
		for k, v := range map[string]string{"CreatorRequestId": c.CreatorRequestID, "NamespaceId": c.NamespaceID, "ServiceId": c.ServiceID, "ServiceArn": c.ServiceARN} {
			if v != "" {
				out.Members[k] = v
			}
		}
		return out, true
	}
	e, ok := apierr.As(err)
	if !ok {
		return nil, false
	}
	if _, known := sdshape.ErrorCodes[e.Code]; !known {
		return nil, false
	}
	return sdError(e.Code, e.Message), true
}

func meta(req *awsproto.Request) wire.Meta { return wire.Meta{Now: req.Now, Principal: req.Principal} }

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
		return nil, awsproto.WithStatus(500, "InternalFailure", "The change was not made: the server could not commit it. Retry the request. Request ID: "+req.RequestID)
	}
	return nil, awsproto.WithStatus(500, "InternalFailure", "The server did not confirm the change in time: it may or may not have been made. Check before retrying. Request ID: "+req.RequestID)
}

// applyOp proposes an asynchronous command and returns its operation ID.
func (a *API) applyOp(ctx context.Context, req *awsproto.Request, cmd wire.Command) (*string, error) {
	v, err := a.apply(ctx, req, cmd)
	if err != nil {
		return nil, err
	}
	r, ok := v.(*fsm.SDResult)
	if !ok || r.Operation == nil {
		return nil, awsproto.WithStatus(500, "InternalFailure", "The operation was not recorded. Request ID: "+req.RequestID)
	}
	return &r.Operation.ID, nil
}

func (a *API) newOp() (wire.SDOp, error) {
	id, err := sd.NewOperationID(a.cfg.Rand)
	return wire.SDOp{OperationID: id}, err
}

// Paging tokens are the last key of a page, opaque to clients.

func encodeToken(last string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(last))
	return &s
}

func decodeToken(tok *string) (string, error) {
	if tok == nil || *tok == "" {
		return "", nil
	}
	if len(*tok) > sd.MaxNextToken {
		return "", sd.Constraint(*tok, "nextToken", "Member must have length less than or equal to 4096")
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || len(b) == 0 {
		return "", sd.Invalid("The NextToken is invalid.")
	}
	return string(b), nil
}

func pageSize(n *int32, max, def int) (int, error) {
	if err := sd.ValidateMaxResults(n, max); err != nil {
		return 0, err
	}
	if n == nil {
		return def, nil
	}
	return int(*n), nil
}

func ts(t time.Time) *sdshape.Timestamp { return sdshape.NewTimestamp(t) }

func str(s string) *string { return &s }

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
