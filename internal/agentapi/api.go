package agentapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Authenticator verifies a request's signature and names its caller.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (principal string, err error)
}

// Reader gives read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Config wires the agent API.
type Config struct {
	Namer    arn.Namer
	Auth     Authenticator
	State    Reader
	Proposer Proposer
	Log      *slog.Logger
	Now      func() time.Time
	// Heartbeat overrides agentproto.HeartbeatInterval (tests).
	Heartbeat time.Duration
	// SessionPrefix starts the ID of every stream session this server
	// opens, so that the sessions of this server process can be told from
	// those of earlier ones (fsm's ResetConnections keeps them).
	SessionPrefix string
	// TaskRange is the cluster's task range (CIDR), sent to agents with
	// their task network.
	TaskRange string
	// Secrets and Parameters resolve the secrets of the tasks agents
	// start (PathSecret); nil: such secrets cannot be resolved.
	Secrets    SecretResolver
	Parameters ParameterResolver
	// AuthorizeSecrets, when set, decides whether a task's execution role
	// may read its secrets (IAM is not enforced yet: unset).
	AuthorizeSecrets SecretsAuthorizer
	// ExecutionRoles, when set, checks that ECS tasks may assume the
	// execution role secrets are fetched with; a task without one, or with
	// one that does not exist or trust ecs-tasks.amazonaws.com, gets no
	// secrets (it stops with ResourceInitializationError).
	ExecutionRoles RoleChecker
	// Credentials issues the temporary credentials of tasks' roles
	// (PathCreds); nil: the endpoint answers that none are served.
	Credentials RoleCredentialsIssuer
	// Logs is the CloudWatch Logs store the agents ship awslogs output
	// to (PathAWSLogs); nil: refused.
	Logs LogStore
}

// API serves the agent endpoints.
type API struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session     // by instance ID
	waiting  map[string]*logTransfer // by log request ID
}

type session struct {
	id       string
	instance string
	ctl      chan agentproto.Message
	done     chan struct{} // closed when replaced by a newer stream
}

// New returns the agent API.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = agentproto.HeartbeatInterval
	}
	return &API{cfg: cfg, log: cfg.Log.With("component", "agentapi"),
		sessions: map[string]*session{}, waiting: map[string]*logTransfer{}}
}

// ServeHTTP routes the agent and log endpoints.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	var err error
	if r.URL.Path != agentproto.PathLogs {
		limit := int64(1 << 20)
		if r.URL.Path == agentproto.PathAWSLogs {
			limit = agentproto.MaxAWSLogsBody
		}
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			writeError(w, apierr.Clientf("The request body could not be read: %v", err))
			return
		}
	}
	// Log uploads are long bodies: they are signed over an empty payload
	// hash of their query only (UNSIGNED-PAYLOAD is not accepted), so the
	// agent signs the request without the body and streams it after.
	if _, err := a.cfg.Auth.Authenticate(r, body); err != nil {
		writeError(w, err)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == agentproto.PathStream:
		a.stream(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == agentproto.PathHealth:
		a.health(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == agentproto.PathSecret:
		a.secrets(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == agentproto.PathCreds:
		a.credentials(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == agentproto.PathAWSLogs:
		a.awslogs(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == agentproto.PathLogs:
		a.upload(w, r)
	case r.Method == http.MethodGet && r.URL.Path == agentproto.PathCLILog:
		a.logs(w, r)
	default:
		writeError(w, apierr.Newf(apierr.UnknownOperation, "No agent endpoint %s %s.", r.Method, r.URL.Path))
	}
}

func writeError(w http.ResponseWriter, err error) {
	e, ok := apierr.As(err)
	if !ok {
		e = apierr.New(apierr.Server, "The server encountered an internal error.")
	}
	b, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status())
	_, _ = w.Write(b)
}

func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apierr.Newf(apierr.Serialization, "The request body is not valid: %v", err)
	}
	return nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// instanceOf resolves a cluster name and a container instance ARN.
func (a *API) instanceOf(cluster, instanceArn string) (*state.ContainerInstance, error) {
	p, err := arn.Parse(instanceArn)
	if err != nil || p.Type != arn.TypeContainerInstance || len(p.Path) != 2 || !a.cfg.Namer.Owns(p) {
		return nil, apierr.InvalidParameterf("containerInstanceArn %s is not a container instance ARN of this server.", instanceArn)
	}
	if cluster == "" {
		cluster = p.Path[0]
	}
	ci := a.cfg.State.Snapshot().Instance(p.Path[1])
	if ci == nil || ci.Cluster != cluster || p.Path[0] != cluster {
		return nil, fsm.ErrInstanceNotFound(instanceArn)
	}
	return ci, nil
}

// clusterName accepts a cluster name or ARN.
func clusterName(s string) string {
	if i := strings.LastIndex(s, ":cluster/"); i >= 0 {
		return s[i+len(":cluster/"):]
	}
	return s
}

// applyBackground proposes c with its own deadline (the request may be gone).
func (a *API) applyBackground(c wire.Command) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.cfg.Proposer.Apply(ctx, c); err != nil && !errors.Is(err, context.Canceled) {
		a.log.Warn("agent state change not recorded", "err", err)
	}
}
