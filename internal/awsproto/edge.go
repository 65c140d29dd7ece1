package awsproto

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// Config builds an Edge.
type Config struct {
	// Services are the APIs served. The first is the default: an unsigned
	// request that names no served service goes to it (and is refused
	// by its authentication).
	Services []Service
	Auth     Authenticator
	Log      *slog.Logger
	// Now is the clock of Request.Now; default time.Now.
	Now func() time.Time
}

// Edge is the http.Handler for every served AWS API.
type Edge struct {
	services  []*Service
	byTarget  map[string]*Service // JSON services by target prefix
	byVersion map[string][]*Service
	bySigning map[string]*Service // first service of each signing name
	auth      Authenticator
	log       *slog.Logger
	now       func() time.Time
	maxBody   int64
}

// NewEdge returns an Edge. It panics on a configuration that cannot
// route (no service, a service without signing name, a target prefix or
// Query version and signing name served twice): those are programming
// errors, as for http.ServeMux patterns.
func NewEdge(cfg Config) *Edge {
	if len(cfg.Services) == 0 || cfg.Auth == nil {
		panic("awsproto: an Edge needs services and an Authenticator")
	}
	e := &Edge{byTarget: map[string]*Service{}, byVersion: map[string][]*Service{}, bySigning: map[string]*Service{},
		auth: cfg.Auth, log: cfg.Log, now: cfg.Now}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("component", "awsproto")
	if e.now == nil {
		e.now = time.Now
	}
	for i := range cfg.Services {
		s := cfg.Services[i] // a copy: the Edge's own
		if s.SigningName == "" || s.Name == "" {
			panic(fmt.Sprintf("awsproto: service %q needs a name and a signing name", s.Name))
		}
		switch {
		case s.Protocol.isJSON():
			if s.TargetPrefix == "" || e.byTarget[s.TargetPrefix] != nil {
				panic(fmt.Sprintf("awsproto: service %s: target prefix %q missing or served twice", s.Name, s.TargetPrefix))
			}
			e.byTarget[s.TargetPrefix] = &s
		case s.Protocol == Query:
			if s.Version == "" || s.XMLNamespace == "" {
				panic(fmt.Sprintf("awsproto: service %s needs a Version and an XMLNamespace", s.Name))
			}
			for _, o := range e.byVersion[s.Version] {
				if o.SigningName == s.SigningName {
					panic(fmt.Sprintf("awsproto: services %s and %s share version and signing name", o.Name, s.Name))
				}
			}
			e.byVersion[s.Version] = append(e.byVersion[s.Version], &s)
		default:
			panic(fmt.Sprintf("awsproto: service %s: unknown protocol %d", s.Name, s.Protocol))
		}
		if e.bySigning[s.SigningName] == nil {
			e.bySigning[s.SigningName] = &s
		}
		e.services = append(e.services, &s)
		e.maxBody = max(e.maxBody, s.maxBody())
	}
	return e
}

// exchange is one request in flight.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	id      string
	svc     *Service
	op      string
	authErr bool // the error is the authenticator's
	start   time.Time
}

// ServeHTTP answers one request.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r, id: newRequestID(), op: "unknown", start: time.Now()}
	w.Header().Set("x-amzn-RequestId", x.id)
	out, done, err := e.serveSafely(x)
	if done {
		return // answered as not served
	}
	if x.svc == nil {
		x.svc = e.services[0]
	}
	code := ""
	if err == nil {
		err = e.writeResult(x, out)
	}
	if err != nil {
		code = e.writeError(x, err)
	}
	if x.svc.Observe != nil {
		x.svc.Observe(x.op, code, err != nil, time.Since(x.start))
	}
}

// serveSafely runs serve, turning a panic into a server fault so that the
// client gets an answer with a request ID rather than a dropped connection.
func (e *Edge) serveSafely(x *exchange) (out any, done bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			e.log.Error("request panicked", "service", serviceName(x.svc), "op", x.op, "request_id", x.id, "panic", p, "stack", string(debug.Stack()))
			out, done, err = nil, false, fmt.Errorf("panic: %v", p)
			x.authErr = false
		}
	}()
	return e.serve(x)
}

// serve answers x; done means it answered (not served) and nothing is
// left to write.
func (e *Edge) serve(x *exchange) (any, bool, error) {
	r := x.r
	signing := SigningName(r)
	target := r.Header.Get("X-Amz-Target")
	var body []byte
	var form url.Values
	var formErr error
	if target != "" {
		prefix, _, _ := strings.Cut(target, ".")
		x.svc = e.byTarget[prefix]
		if x.svc == nil {
			x.svc = e.fallback(signing)
		}
		if x.svc == nil {
			e.unservedJSON(x, signing, target)
			return nil, true, nil
		}
		var err error
		if body, err = e.readBody(x, x.svc.maxBody()); err != nil {
			return nil, false, err
		}
	} else {
		b, err := e.readBody(x, e.maxBody)
		if err != nil {
			// Too large to route by its version: its signing name tells.
			if x.svc = e.bySigning[signing]; x.svc == nil {
				x.svc = e.services[0]
			}
			return nil, false, err
		}
		body = b
		form, formErr = queryForm(r, body)
		x.svc = e.routeQuery(form.Get("Version"), signing)
		if x.svc == nil {
			e.unservedQuery(x, signing, form)
			return nil, true, nil
		}
	}
	s := x.svc
	if int64(len(body)) > s.maxBody() {
		return nil, false, s.tooLarge()
	}
	principal, err := e.auth.Authenticate(r, body, s.SigningName)
	if err != nil {
		x.authErr = true
		return nil, false, err
	}
	req := &Request{RequestID: x.id, Protocol: s.Protocol, Principal: principal, Now: e.now().UTC(), Body: body, HTTP: r}
	var op Operation
	if s.Protocol.isJSON() {
		op, err = s.jsonOperation(x, r, target)
	} else {
		op, err = s.queryOperation(x, r, form, formErr)
		req.Form = form
	}
	if err != nil {
		return nil, false, err
	}
	req.Op = x.op
	out, err := op(r.Context(), req)
	return out, false, err
}

func serviceName(s *Service) string {
	if s == nil {
		return ""
	}
	return s.Name
}

// fallback is the service of a request that names none by its target or
// version: the served JSON service of its signing name, or the default
// one for an unsigned request; nil for a service not served. A Query
// service is no fallback: its requests name it by their version, and a
// request of another version is another API (ELB and ELBv2 share a
// signing name).
func (e *Edge) fallback(signing string) *Service {
	if signing == "" {
		return e.services[0]
	}
	if s := e.bySigning[signing]; s != nil && s.Protocol != Query {
		return s
	}
	return nil
}

// routeQuery finds the service of a request without X-Amz-Target: the
// Query service of its Version (of its signing name when several share
// the version), else the fallback.
func (e *Edge) routeQuery(version, signing string) *Service {
	if cands := e.byVersion[version]; len(cands) > 0 {
		for _, s := range cands {
			if s.SigningName == signing {
				return s
			}
		}
		return cands[0] // refused by its authentication: wrong scope
	}
	return e.fallback(signing)
}

func (e *Edge) readBody(x *exchange, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(x.w, x.r.Body, limit))
	if err == nil {
		return body, nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errTooLarge
	}
	return nil, &readError{err}
}

// errTooLarge is a body over the limit, answered with the routed
// service's BodyTooLarge.
var errTooLarge = errors.New("request body too large")

// readError is a body that could not be read.
type readError struct{ err error }

func (e *readError) Error() string { return "Unable to read the request body: " + e.err.Error() }

func (s *Service) tooLarge() *Error {
	if s.BodyTooLarge != nil {
		return s.BodyTooLarge(s.maxBody())
	}
	code := "RequestEntityTooLargeException"
	if s.Protocol == Query {
		code = "RequestEntityTooLarge"
	}
	return WithStatus(http.StatusRequestEntityTooLarge, code, fmt.Sprintf("The request body is larger than the limit of %d bytes.", s.maxBody()))
}

func (s *Service) jsonOperation(x *exchange, r *http.Request, target string) (Operation, error) {
	if r.Method != http.MethodPost {
		return nil, Errorf(CodeUnknownOperation, "Operations are called with POST, not %s.", r.Method)
	}
	prefix, name, ok := strings.Cut(target, ".")
	if !ok || prefix != s.TargetPrefix || name == "" {
		return nil, NewError(CodeUnknownOperation, "The X-Amz-Target header must be "+s.TargetPrefix+".<Operation>.")
	}
	return s.operation(x, name, Errorf(CodeUnknownOperation, "Unknown operation %s.", name))
}

func (s *Service) queryOperation(x *exchange, r *http.Request, form url.Values, formErr error) (Operation, error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, Errorf(CodeInvalidAction, "Operations are called with POST or GET, not %s.", r.Method)
	}
	if formErr != nil {
		return nil, Errorf(CodeMalformedQuery, "The request parameters are not a valid form: %s.", echo(formErr.Error()))
	}
	action, version := form.Get("Action"), form.Get("Version")
	if action == "" {
		return nil, NewError(CodeMissingAction, "The request must contain the parameter Action.")
	}
	if version != s.Version {
		return nil, Errorf(CodeNoSuchVersion, "The requested version (%s) of service %s does not exist.", echo(version), s.Name)
	}
	form.Del("Action")
	form.Del("Version")
	return s.operation(x, action, Errorf(CodeInvalidAction, "The action %s is not valid for this web service.", echo(action)))
}

func (s *Service) operation(x *exchange, name string, unknown *Error) (Operation, error) {
	if op, ok := s.Operations[name]; ok {
		x.op = name
		return op, nil
	}
	if s.Known != nil && s.Known(name) {
		x.op = name
		return nil, Errorf(s.unsupportedCode(), "berth does not support the %s operation yet.", name)
	}
	return nil, unknown
}

// presignParams are the SigV4 query parameters of a presigned request.
var presignParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"}

// queryForm reads a Query request's parameters: the URL's, and for a POST
// the form body's.
func queryForm(r *http.Request, body []byte) (url.Values, error) {
	form, err := url.ParseQuery(r.URL.RawQuery)
	for _, p := range presignParams {
		form.Del(p)
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		b, berr := url.ParseQuery(string(body))
		for k, v := range b {
			form[k] = append(form[k], v...)
		}
		if err == nil {
			err = berr
		}
	}
	return form, err
}

// echo shortens a client-supplied value for a message.
func echo(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
