package dnsapi

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
	"berth.dev/berth/internal/dnsconfig"
)

// Authenticator verifies a request's signature.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (principal string, err error)
}

// Config wires the API.
type Config struct {
	Auth   Authenticator
	Source dnsconfig.Source
	Log    *slog.Logger
	// Heartbeat overrides dnsconfig.HeartbeatInterval (tests).
	Heartbeat time.Duration
}

// API serves dnsconfig.StreamPath.
type API struct {
	cfg Config
	log *slog.Logger
}

// StreamRequest is the optional body of a stream request.
type StreamRequest struct {
	Node string `json:"node,omitempty"`
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = dnsconfig.HeartbeatInterval
	}
	return &API{cfg: cfg, log: cfg.Log.With("component", "dnsapi")}
}

// ServeHTTP serves the stream (POST dnsconfig.StreamPath, signed).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("The request body could not be read: %v", err))
		return
	}
	if _, err := a.cfg.Auth.Authenticate(r, body); err != nil {
		code, msg, status := errorParts(err)
		writeError(w, status, code, msg)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != dnsconfig.StreamPath {
		writeError(w, http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("No DNS data-plane endpoint %s %s.", r.Method, r.URL.Path))
		return
	}
	var req StreamRequest
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidParameterException", "The stream request is not valid JSON.")
			return
		}
	}
	a.stream(w, r, req.Node)
}

func (a *API) stream(w http.ResponseWriter, r *http.Request, node string) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "ServerException", "streaming is not supported by this connection")
		return
	}
	a.log.Info("dns node connected", "node", node, "remote", r.RemoteAddr)
	defer a.log.Info("dns node disconnected", "node", node, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	enc := json.NewEncoder(w)
	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	var sent [sha256.Size]byte
	first := true
	for {
		cfg, changed := a.cfg.Source.Current()
		if sum := ContentSum(cfg); cfg != nil && (first || sum != sent) {
			if err := enc.Encode(cfg); err != nil {
				return
			}
			flusher.Flush()
			sent, first = sum, false
			heartbeat.Reset(a.cfg.Heartbeat)
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-heartbeat.C:
			if _, err := w.Write([]byte("\n")); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// Applier installs a configuration (*dnsserver.Server).
type Applier interface {
	Apply(cfg *dnsconfig.Config) error
}

// Feed applies src's configuration to s, and again on every change of its
// content, until ctx ends (it then returns nil). Parts of a configuration
// s leaves out are logged.
func Feed(ctx context.Context, src dnsconfig.Source, s Applier, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var applied [sha256.Size]byte
	first := true
	for {
		cfg, changed := src.Current()
		if sum := ContentSum(cfg); cfg != nil && (first || sum != applied) {
			if err := s.Apply(cfg); err != nil {
				log.Warn("dns configuration applied in part", "component", "dnsapi", "revision", cfg.Revision, "err", err)
			}
			applied, first = sum, false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// ContentSum is a digest of cfg without its revision (the zero digest for
// nil).
func ContentSum(cfg *dnsconfig.Config) [sha256.Size]byte {
	if cfg == nil {
		return [sha256.Size]byte{}
	}
	c := *cfg
	c.Revision = 0
	b, _ := json.Marshal(&c) // plain data: always encodes
	return sha256.Sum256(b)
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
