package lbapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/lbconfig"
)

// Authenticator verifies a request's signature.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (principal string, err error)
}

// Source renders the data plane's configuration.
type Source interface {
	// Config returns the current configuration and a channel closed when
	// it may have changed.
	Config() (*lbconfig.Config, <-chan struct{})
}

// Config wires the API.
type Config struct {
	Auth   Authenticator
	Source Source
	// Activate is told which load balancers a node serves (so that the
	// control plane can mark provisioning ones active); nil ignores it.
	Activate func(ctx context.Context, lbARNs []string)
	Log      *slog.Logger
	Now      func() time.Time
	// Heartbeat overrides lbconfig.HeartbeatInterval (tests).
	Heartbeat time.Duration
	// NodeTTL is how long a disconnected node's last report still counts;
	// default three heartbeats.
	NodeTTL time.Duration
}

// API serves the data-plane endpoints.
type API struct {
	cfg    Config
	log    *slog.Logger
	health *Health
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = lbconfig.HeartbeatInterval
	}
	if cfg.NodeTTL == 0 {
		cfg.NodeTTL = 3 * cfg.Heartbeat
	}
	return &API{cfg: cfg, log: cfg.Log.With("component", "lbapi"), health: NewHealth(cfg.Now, cfg.NodeTTL)}
}

// SetActivate sets Config.Activate after New (the API that marks load
// balancers active may be built after this one). Call it before serving.
func (a *API) SetActivate(f func(ctx context.Context, lbARNs []string)) { a.cfg.Activate = f }

// Health is the targets' health as the nodes report it.
func (a *API) Health() *Health { return a.health }

// ServeHTTP routes the data-plane endpoints.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("The request body could not be read: %v", err))
		return
	}
	if _, err := a.cfg.Auth.Authenticate(r, body); err != nil {
		code, msg, status := errorParts(err)
		writeError(w, status, code, msg)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == lbconfig.PathStream:
		a.stream(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == lbconfig.PathHealth:
		a.report(w, r, body)
	default:
		writeError(w, http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("No data-plane endpoint %s %s.", r.Method, r.URL.Path))
	}
}

func (a *API) stream(w http.ResponseWriter, r *http.Request, body []byte) {
	var req lbconfig.StreamRequest
	if err := decode(body, &req); err != nil || req.Node == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "The stream request must name its node.")
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "ServerException", "streaming is not supported by this connection")
		return
	}
	a.health.connect(req.Node)
	defer a.health.disconnect(req.Node)
	a.log.Info("load-balancer node connected", "node", req.Node)
	defer a.log.Info("load-balancer node disconnected", "node", req.Node)

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	enc := json.NewEncoder(w)
	send := func(m lbconfig.Message) bool {
		if err := enc.Encode(m); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	var sent [sha256.Size]byte // the content last sent (its revision aside)
	first := true
	for {
		cfg, changed := a.cfg.Source.Config()
		// The revision is the state's index, which moves with every change
		// of the state (ECS's too): only a change of content is sent.
		if sum := contentSum(cfg); cfg != nil && (first || sum != sent) {
			if !send(lbconfig.Message{Type: lbconfig.MessageConfig, Config: cfg}) {
				return
			}
			sent, first = sum, false
			heartbeat.Reset(a.cfg.Heartbeat)
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-heartbeat.C:
			if !send(lbconfig.Message{Type: lbconfig.MessageHeartbeat}) {
				return
			}
		}
	}
}

func (a *API) report(w http.ResponseWriter, r *http.Request, body []byte) {
	var rep lbconfig.HealthReport
	if err := decode(body, &rep); err != nil || rep.Node == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "The health report must name its node.")
		return
	}
	a.health.report(rep)
	if len(rep.Serving) > 0 && a.cfg.Activate != nil {
		a.cfg.Activate(r.Context(), rep.Serving)
	}
	w.WriteHeader(http.StatusNoContent)
}

// contentSum is a digest of cfg without its revision.
func contentSum(cfg *lbconfig.Config) [sha256.Size]byte {
	if cfg == nil {
		return [sha256.Size]byte{}
	}
	c := *cfg
	c.Revision = 0
	b, _ := json.Marshal(&c) // plain data: always encodes
	return sha256.Sum256(b)
}

func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func errorParts(err error) (code, msg string, status int) {
	if e, ok := apierr.As(err); ok {
		return e.Code, e.Message, e.Status()
	}
	return apierr.Server, "The server encountered an internal error.", http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
