// Package apierr carries ECS exceptions from the domain up to the HTTP edge.
//
// An *Error names the ECS exception shape (ClusterNotFoundException,
// InvalidParameterException, ...) and its message. Packages return them
// wrapped or bare; the HTTP edge finds them with errors.As and writes
// {"__type": Code, "message": Message} with status 400, or 500 for
// ServerException. Any error that is not an *Error is a server fault.
//
// Invariant: Code is always an exception name a real ECS client knows, or one
// of the authentication and protocol codes AWS front ends answer with. The
// one exception: the state machine's ACM rules answer with ACM's codes
// (acmshape.ErrorCodes), which only the ACM API maps to the wire.
package apierr

import (
	"errors"
	"fmt"
)

// Exception names used by berth. ECS's own shapes come first, then the codes
// AWS's front end answers before an operation runs.
const (
	Server                            = "ServerException"
	Client                            = "ClientException"
	InvalidParameter                  = "InvalidParameterException"
	ClusterNotFound                   = "ClusterNotFoundException"
	ClusterContainsContainerInstances = "ClusterContainsContainerInstancesException"
	ClusterContainsServices           = "ClusterContainsServicesException"
	ClusterContainsTasks              = "ClusterContainsTasksException"
	ClusterContainsCapacityProvider   = "ClusterContainsCapacityProviderException"
	ServiceNotFound                   = "ServiceNotFoundException"
	ServiceNotActive                  = "ServiceNotActiveException"
	AttributeLimitExceeded            = "AttributeLimitExceededException"
	TargetNotFound                    = "TargetNotFoundException"
	LimitExceeded                     = "LimitExceededException"
	ResourceNotFound                  = "ResourceNotFoundException"
	ResourceInUse                     = "ResourceInUseException"
	NamespaceNotFound                 = "NamespaceNotFoundException"
	UnsupportedFeature                = "UnsupportedFeatureException"
	Conflict                          = "ConflictException"
	AccessDenied                      = "AccessDeniedException"
	UpdateInProgress                  = "UpdateInProgressException"
	Throttling                        = "ThrottlingException"
	UnknownOperation                  = "UnknownOperationException"
	Serialization                     = "SerializationException"
	MissingAuthenticationToken        = "MissingAuthenticationTokenException"
	IncompleteSignature               = "IncompleteSignatureException"
	InvalidSignature                  = "InvalidSignatureException"
	UnrecognizedClient                = "UnrecognizedClientException"
	RequestEntityTooLarge             = "RequestEntityTooLargeException"
)

// Error is an ECS exception.
type Error struct {
	Code    string
	Message string
	// Err is an optional cause kept for logs; it is never sent to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status the exception is answered with.
func (e *Error) Status() int {
	switch e.Code {
	case Server:
		return 500
	}
	return 400
}

// New returns an exception with a fixed message.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// Newf returns an exception with a formatted message.
func Newf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParameterf is shorthand for an InvalidParameterException.
func InvalidParameterf(format string, args ...any) *Error {
	return Newf(InvalidParameter, format, args...)
}

// Clientf is shorthand for a ClientException.
func Clientf(format string, args ...any) *Error { return Newf(Client, format, args...) }

// As finds the *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the exception name in err's chain, or "" when there is none.
func CodeOf(err error) string {
	if e, ok := As(err); ok {
		return e.Code
	}
	return ""
}
