// Package taskhttp is the agent's HTTP server at the task endpoint
// (taskendpoint.IP, port 80): the task IAM role credentials endpoint
// (GET /v2/credentials/ID, and the older /v1/credentials?id=ID) and the
// task metadata endpoint v4 (GET /v4/ID, /v4/ID/task, /v4/ID/taskWithTags,
// /v4/ID/stats, /v4/ID/task/stats; /v3/ID answers the same), as the ECS
// agent serves them.
//
// Metadata is what the agent last set (SetMetadata), served as is, except
// that TaskTags and ContainerInstanceTags are served at /taskWithTags only
// and ClockDrift is read at each answer (Config.Clock). Statistics are
// read from the runtime (StatsSource) at each request and passed through:
// Docker's stats JSON, keyed by runtime ID for /task/stats; a container
// the runtime has not created, or whose read fails or takes over 5 s,
// answers {}.
//
// IDs. A task's credentials ID and its containers' metadata IDs are
// HMAC-SHA256 of the task ARN (and container name) under a key only the
// agent knows (derived from its secret access key): 128 bits a task cannot
// guess for another task, stable across agent restarts (the containers'
// environment keeps them) without anything written to disk. An ID serves
// its own task only; nothing else (the source address of the request, say)
// is checked, as on ECS.
//
// Credentials are fetched from the server (CredentialsSource) when first
// asked for and fetched again when asked for with less than RefreshBefore
// of their lifetime left; until then the cached ones are served. They live
// in memory only, and are never logged.
//
// The package imports no other package of berth.
package taskhttp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Credentials are a role's temporary credentials.
type Credentials struct {
	RoleArn         string
	AccessKeyID     string
	SecretAccessKey string
	Token           string
	Expiration      time.Time
}

// String never shows the secret or the token.
func (c Credentials) String() string {
	return "{" + c.RoleArn + " " + c.AccessKeyID + " until " + c.Expiration.UTC().Format(time.RFC3339) + "}"
}

// CredentialsSource fetches the task role credentials of a task.
type CredentialsSource interface {
	TaskCredentials(ctx context.Context, taskArn string) (Credentials, error)
}

// StatsSource reports a container's runtime statistics (Docker's stats
// JSON) by its runtime ID; optional.
type StatsSource interface {
	ContainerStats(ctx context.Context, runtimeID string) (json.RawMessage, error)
}

// DefaultRefreshBefore is how long before their expiry cached credentials
// are fetched again.
const DefaultRefreshBefore = 15 * time.Minute

// Config configures a Server.
type Config struct {
	// Key keys the IDs; required (see the package doc).
	Key         []byte
	Credentials CredentialsSource
	Stats       StatsSource // nil: stats are empty objects
	// AWS, when set, serves the AWS API calls tasks send to the endpoint
	// (any request for /: the AWS JSON and Query protocols post there);
	// nil: they are answered 404.
	AWS http.Handler
	// Clock reads the host clock's drift for /task; nil: none.
	Clock func() *ClockDrift
	// RefreshBefore: default DefaultRefreshBefore.
	RefreshBefore time.Duration
	Now           func() time.Time
	Log           *slog.Logger
}

// Server serves the task endpoint. Tasks are added with AddTask, their
// metadata set with SetMetadata, and removed with RemoveTask.
type Server struct {
	cfg Config

	mu    sync.Mutex
	tasks map[string]*task        // by task ARN
	creds map[string]*task        // by credentials ID (tasks with a role)
	meta  map[string]containerRef // by container metadata ID
}

type containerRef struct {
	task *task
	name string
}

type task struct {
	arn     string
	credID  string
	hasRole bool
	meta    *TaskMetadata

	cmu      sync.Mutex // serializes fetches
	cached   *Credentials
	removed  bool
	metaIDs  []string
	fetchErr error
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.RefreshBefore == 0 {
		cfg.RefreshBefore = DefaultRefreshBefore
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, tasks: map[string]*task{}, creds: map[string]*task{}, meta: map[string]containerRef{}}
}

func (s *Server) mac(parts ...string) string {
	h := hmac.New(sha256.New, s.cfg.Key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// CredentialsID is the credentials ID of a task.
func (s *Server) CredentialsID(taskArn string) string { return s.mac("credentials", taskArn) }

// MetadataID is the metadata ID of a task's container.
func (s *Server) MetadataID(taskArn, container string) string {
	return s.mac("metadata", taskArn, container)
}

// CredentialsPath is the relative URI of a task's credentials
// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).
func (s *Server) CredentialsPath(taskArn string) string {
	return "/v2/credentials/" + s.CredentialsID(taskArn)
}

// AddTask makes a task's IDs answer: its containers' metadata IDs and, when
// hasRole, its credentials ID. Adding a task again updates it.
func (s *Server) AddTask(taskArn string, containers []string, hasRole bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[taskArn]
	if t == nil {
		t = &task{arn: taskArn, credID: s.CredentialsID(taskArn)}
		s.tasks[taskArn] = t
	}
	t.hasRole = hasRole
	if hasRole {
		s.creds[t.credID] = t
	} else {
		delete(s.creds, t.credID)
	}
	for _, id := range t.metaIDs {
		delete(s.meta, id)
	}
	t.metaIDs = t.metaIDs[:0]
	for _, c := range containers {
		id := s.MetadataID(taskArn, c)
		s.meta[id] = containerRef{task: t, name: c}
		t.metaIDs = append(t.metaIDs, id)
	}
}

// SetMetadata replaces the metadata of a task added before.
func (s *Server) SetMetadata(taskArn string, m TaskMetadata) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tasks[taskArn]; t != nil {
		t.meta = &m
	}
}

// RemoveTask forgets a task: its IDs no longer answer and its cached
// credentials are dropped.
func (s *Server) RemoveTask(taskArn string) {
	s.mu.Lock()
	t := s.tasks[taskArn]
	if t != nil {
		delete(s.tasks, taskArn)
		delete(s.creds, t.credID)
		for _, id := range t.metaIDs {
			delete(s.meta, id)
		}
	}
	s.mu.Unlock()
	if t != nil {
		t.cmu.Lock()
		t.cached, t.removed = nil, true
		t.cmu.Unlock()
	}
}

// ServeHTTP routes the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && s.cfg.AWS != nil {
		s.cfg.AWS.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Only GET is served.")
		return
	}
	p := r.URL.Path
	switch {
	case p == "/v2/credentials" || p == "/v2/credentials/":
		writeError(w, http.StatusBadRequest, "NoIdInRequest", "CredentialsV2Request: No Credential ID in the request")
	case strings.HasPrefix(p, "/v2/credentials/"):
		s.credentials(w, r, strings.TrimPrefix(p, "/v2/credentials/"), "CredentialsV2Request: ")
	case p == "/v1/credentials":
		id := r.URL.Query().Get("id")
		if id == "" {
			writeError(w, http.StatusBadRequest, "NoIdInRequest", "CredentialsV1Request: No ID in the request")
			return
		}
		s.credentials(w, r, id, "CredentialsV1Request: ")
	case strings.HasPrefix(p, "/v4/"), strings.HasPrefix(p, "/v3/"):
		s.metadata(w, r, p[len("/v4/"):])
	default:
		writeError(w, http.StatusNotFound, "NotFound", "No such endpoint: "+p)
	}
}

// credentialsResponse is the ECS agent's answer, which the SDKs' container
// credentials providers read (Expiration in RFC 3339, UTC).
type credentialsResponse struct {
	RoleArn         string `json:"RoleArn"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

func (s *Server) credentials(w http.ResponseWriter, r *http.Request, id, prefix string) {
	s.mu.Lock()
	t := s.creds[id]
	s.mu.Unlock()
	if t == nil {
		writeError(w, http.StatusNotFound, "InvalidIdInRequest", prefix+"Credentials not found")
		return
	}
	c, err := s.fetch(r.Context(), t)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "CredentialsUnavailable", prefix+"Credentials could not be fetched")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(credentialsResponse{RoleArn: c.RoleArn, AccessKeyID: c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey, Token: c.Token, Expiration: c.Expiration.UTC().Format(time.RFC3339)})
}

// fetch returns t's cached credentials, fetching them when there are none
// or they have less than RefreshBefore left. When a refresh fails, the
// cached credentials are served while they are valid.
func (s *Server) fetch(ctx context.Context, t *task) (Credentials, error) {
	t.cmu.Lock()
	defer t.cmu.Unlock()
	now := s.cfg.Now()
	if t.cached != nil && t.cached.Expiration.Sub(now) >= s.cfg.RefreshBefore {
		return *t.cached, nil
	}
	if s.cfg.Credentials == nil {
		return Credentials{}, errNoSource
	}
	c, err := s.cfg.Credentials.TaskCredentials(ctx, t.arn)
	if err != nil {
		s.cfg.Log.Warn("task role credentials not fetched", "task", t.arn, "err", err.Error())
		if t.cached != nil && t.cached.Expiration.After(now) {
			return *t.cached, nil
		}
		return Credentials{}, err
	}
	if !t.removed {
		t.cached = &c
	}
	s.cfg.Log.Debug("task role credentials fetched", "task", t.arn, "credentials", c.String())
	return c, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoSource = constError("no credentials source")

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}
