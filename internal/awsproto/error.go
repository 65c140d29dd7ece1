package awsproto

import (
	"errors"
	"fmt"
	"net/http"
)

// Codes the edge answers with before or around an operation.
const (
	CodeInternalFailure  = "InternalFailure"
	CodeUnknownOperation = "UnknownOperationException"
	CodeSerialization    = "SerializationException"
	CodeInvalidAction    = "InvalidAction"
	CodeMissingAction    = "MissingAction"
	CodeNoSuchVersion    = "NoSuchVersion"
	CodeMalformedQuery   = "MalformedQueryString"
	CodeValidation       = "ValidationError"
)

// The AWS JSON authentication codes an Authenticator returns.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeExpiredToken               = "ExpiredTokenException"
)

// queryAuth is how Query services name the authentication failures, with
// their statuses.
var queryAuth = map[string]struct {
	code   string
	status int
}{
	CodeMissingAuthenticationToken: {"MissingAuthenticationToken", http.StatusForbidden},
	CodeIncompleteSignature:        {"IncompleteSignature", http.StatusBadRequest},
	CodeInvalidSignature:           {"SignatureDoesNotMatch", http.StatusForbidden},
	CodeUnrecognizedClient:         {"InvalidClientTokenId", http.StatusForbidden},
	CodeExpiredToken:               {"ExpiredToken", http.StatusForbidden},
}

// Error is an error answer: its code, message and HTTP status (0 is 400).
// A 5xx is a Receiver fault in Query answers, any other a Sender fault.
type Error struct {
	Code    string
	Message string
	Status  int
	// Members are the error shape's other members (JSON services only;
	// e.g. Cloud Map's NamespaceAlreadyExists.NamespaceId), in key order
	// after the message.
	Members map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// NewError returns a 400 error.
func NewError(code, message string) *Error { return &Error{Code: code, Message: message} }

// Errorf returns a 400 error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithStatus returns an error with the given status.
func WithStatus(status int, code, message string) *Error {
	return &Error{Code: code, Message: message, Status: status}
}

// asError finds the answer for err: an *Error in its chain, else the
// service's mapping; ok is false for a server fault.
func (s *Service) asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	if s.MapError != nil {
		if e, ok := s.MapError(err); ok && e != nil {
			return e, true
		}
	}
	return nil, false
}
