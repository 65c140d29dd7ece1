package awsproto

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Protocol is an AWS wire protocol.
type Protocol int

// The protocols the edge speaks.
const (
	JSON11 Protocol = iota // AWS JSON 1.1 (application/x-amz-json-1.1)
	JSON10                 // AWS JSON 1.0 (application/x-amz-json-1.0)
	Query                  // awsQuery: form-encoded request, XML answer
)

func (p Protocol) String() string {
	switch p {
	case JSON11:
		return "awsJson1_1"
	case JSON10:
		return "awsJson1_0"
	case Query:
		return "awsQuery"
	}
	return "unknown"
}

func (p Protocol) isJSON() bool { return p == JSON10 || p == JSON11 }

func (p Protocol) contentType() string {
	switch p {
	case JSON10:
		return "application/x-amz-json-1.0"
	case Query:
		return "text/xml"
	}
	return "application/x-amz-json-1.1"
}

// Service describes one AWS API the edge serves.
type Service struct {
	// Name is the API's short name for messages ("ECS", "ELBv2").
	Name string
	// SigningName is the SigV4 service name of its credential scope ("ecs").
	SigningName string
	Protocol    Protocol
	// TargetPrefix is the X-Amz-Target text before the '.' (JSON only).
	TargetPrefix string
	// Version is the Query Version parameter and XMLNamespace the xmlns
	// of its answers (Query only).
	Version, XMLNamespace string
	// MaxBody bounds request bodies; default DefaultMaxBody.
	MaxBody int64
	// ErrorMessageMember names the JSON error's message member: "message"
	// (ECS, Logs) or "Message" (the default).
	ErrorMessageMember string
	// Operations are the served operations by name.
	Operations map[string]Operation
	// Known tells whether an operation not served is one of the service's
	// model; it is then answered UnsupportedCode "not supported yet"
	// rather than as an unknown operation. Nil knows none.
	Known func(op string) bool
	// UnsupportedCode is the code of that answer; default
	// UnknownOperationException (JSON) or InvalidAction (Query).
	UnsupportedCode string
	// InternalCode is the code of a server fault (a panic, an error that
	// is no *Error); default InternalFailure.
	InternalCode string
	// BodyTooLarge is the error for a body over MaxBody; nil answers
	// 413 RequestEntityTooLarge(Exception).
	BodyTooLarge func(limit int64) *Error
	// MapError finds the service's own error types in an operation's
	// error (an *Error in the chain is used as it is). Nil maps none.
	MapError func(error) (*Error, bool)
	// Observe, when set, sees every request routed to the service: its
	// operation ("unknown" until known), error code ("" on success),
	// whether it failed and how long it took.
	Observe func(op, code string, failed bool, d time.Duration)
}

// DefaultMaxBody bounds request bodies when Service.MaxBody is zero.
const DefaultMaxBody = 1 << 20

// Operation runs one operation. Its result is encoded as the answer: with
// encoding/json for JSON services, with the query-tag XML encoder for
// Query services (nil: no result element). An error that is no *Error and
// that MapError does not map is a server fault.
type Operation func(ctx context.Context, req *Request) (any, error)

// Request is one authenticated call of an operation.
type Request struct {
	RequestID string
	Op        string
	Protocol  Protocol
	// Principal is the caller's ARN, as the Authenticator named it.
	Principal string
	// Now is when the edge received the request (UTC).
	Now time.Time
	// Body is the raw request body (JSON services).
	Body []byte
	// Form holds a Query request's parameters, Action, Version and the
	// presigning parameters removed.
	Form url.Values
	// HTTP is the request, for its headers.
	HTTP *http.Request
}

// Authenticator verifies a request's signature for a service's signing
// name and names the caller. Its errors should be *Error with the AWS JSON
// authentication codes (MissingAuthenticationTokenException, ...): the
// edge renders them as they are for JSON services and with their Query
// names for Query services.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte, signingName string) (principal string, err error)
}

func (s *Service) maxBody() int64 {
	if s.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return s.MaxBody
}

func (s *Service) messageMember() string {
	if s.ErrorMessageMember == "" {
		return "Message"
	}
	return s.ErrorMessageMember
}

func (s *Service) unsupportedCode() string {
	switch {
	case s.UnsupportedCode != "":
		return s.UnsupportedCode
	case s.Protocol == Query:
		return CodeInvalidAction
	}
	return CodeUnknownOperation
}

func (s *Service) internalCode() string {
	if s.InternalCode != "" {
		return s.InternalCode
	}
	return CodeInternalFailure
}
