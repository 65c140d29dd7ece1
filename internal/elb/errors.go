package elb

import "fmt"

// Error is an ELBv2 error answer: its wire code (the model's exception
// name without "Exception"), message and HTTP status (0 means 400). The
// API edge answers it as it is.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return 400
	}
	return e.Status
}

// ELBv2 wire error codes (traffic reference C.8).
const (
	CodeValidation                      = "ValidationError"
	CodeLoadBalancerNotFound            = "LoadBalancerNotFound"
	CodeTargetGroupNotFound             = "TargetGroupNotFound"
	CodeListenerNotFound                = "ListenerNotFound"
	CodeRuleNotFound                    = "RuleNotFound"
	CodeDuplicateLoadBalancerName       = "DuplicateLoadBalancerName"
	CodeDuplicateTargetGroupName        = "DuplicateTargetGroupName"
	CodeDuplicateListener               = "DuplicateListener"
	CodeTooManyLoadBalancers            = "TooManyLoadBalancers"
	CodeTooManyTargetGroups             = "TooManyTargetGroups"
	CodeTooManyListeners                = "TooManyListeners"
	CodeTooManyRules                    = "TooManyRules"
	CodeTooManyTargets                  = "TooManyTargets"
	CodeTooManyActions                  = "TooManyActions"
	CodeTooManyCertificates             = "TooManyCertificates"
	CodeTooManyTags                     = "TooManyTags"
	CodeTooManyRegistrationsForTargetID = "TooManyRegistrationsForTargetId"
	CodeTooManyUniqueTargetGroupsPerLB  = "TooManyUniqueTargetGroupsPerLoadBalancer"
	CodeTargetGroupAssociationLimit     = "TargetGroupAssociationLimit"
	CodeInvalidConfigurationRequest     = "InvalidConfigurationRequest"
	CodeIncompatibleProtocols           = "IncompatibleProtocols"
	CodeUnsupportedProtocol             = "UnsupportedProtocol"
	CodeInvalidLoadBalancerAction       = "InvalidLoadBalancerAction"
	CodePriorityInUse                   = "PriorityInUse"
	CodeResourceInUse                   = "ResourceInUse"
	CodeOperationNotPermitted           = "OperationNotPermitted"
	CodeInvalidTarget                   = "InvalidTarget"
	CodeInvalidSubnet                   = "InvalidSubnet"
	CodeSubnetNotFound                  = "SubnetNotFound"
	CodeInvalidSecurityGroup            = "InvalidSecurityGroup"
	CodeInvalidScheme                   = "InvalidScheme"
	CodeCertificateNotFound             = "CertificateNotFound"
	CodeSSLPolicyNotFound               = "SSLPolicyNotFound"
	CodeALPNPolicyNotFound              = "ALPNPolicyNotFound"
	CodeAvailabilityZoneNotSupported    = "AvailabilityZoneNotSupported"
	CodeDuplicateTagKeys                = "DuplicateTagKeys"
	CodeHealthUnavailable               = "HealthUnavailable"
	CodeCapacityReservationPending      = "PriorRequestNotComplete"
)

// Errorf returns a 400 error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validationf is the generic awsQuery ValidationError.
func Validationf(format string, args ...any) *Error {
	return Errorf(CodeValidation, format, args...)
}

// InvalidConfigf is InvalidConfigurationRequest, ELB's catch-all semantic error.
func InvalidConfigf(format string, args ...any) *Error {
	return Errorf(CodeInvalidConfigurationRequest, format, args...)
}

// LoadBalancersNotFound answers a lookup of load balancers by ARN or name.
func LoadBalancersNotFound(names ...string) *Error {
	if len(names) == 0 {
		return Errorf(CodeLoadBalancerNotFound, "One or more load balancers not found")
	}
	return Errorf(CodeLoadBalancerNotFound, "Load balancers '%v' not found", names)
}

// LoadBalancerNotFound answers an operation on one missing load balancer.
func LoadBalancerNotFound(arn string) *Error {
	return Errorf(CodeLoadBalancerNotFound, "Load balancer '%s' not found", arn)
}

// TargetGroupsNotFound answers a lookup of target groups.
func TargetGroupsNotFound() *Error {
	return Errorf(CodeTargetGroupNotFound, "One or more target groups not found")
}

// TargetGroupNotFound answers an operation on one missing target group.
func TargetGroupNotFound(arn string) *Error {
	return Errorf(CodeTargetGroupNotFound, "Target groups '%s' not found", arn)
}

// ListenersNotFound answers a lookup of listeners.
func ListenersNotFound() *Error {
	return Errorf(CodeListenerNotFound, "One or more listeners not found")
}

// ListenerNotFound answers an operation on one missing listener.
func ListenerNotFound(arn string) *Error {
	return Errorf(CodeListenerNotFound, "Listener '%s' not found", arn)
}

// RulesNotFound answers a lookup of rules.
func RulesNotFound() *Error { return Errorf(CodeRuleNotFound, "One or more rules not found") }

// RuleNotFound answers an operation on one missing rule.
func RuleNotFound(arn string) *Error { return Errorf(CodeRuleNotFound, "Rule '%s' not found", arn) }

// DuplicateLoadBalancerName answers a create of an existing name with other settings.
func DuplicateLoadBalancerName(name string) *Error {
	return Errorf(CodeDuplicateLoadBalancerName, "A load balancer with the name '%s' already exists", name)
}

// DuplicateTargetGroupName answers a create of an existing name with other settings.
func DuplicateTargetGroupName(name string) *Error {
	return Errorf(CodeDuplicateTargetGroupName, "A target group with the same name '%s' exists, but with different settings", name)
}

// DuplicateListener answers a listener on a port already used.
func DuplicateListener(port int) *Error {
	return Errorf(CodeDuplicateListener, "A listener already exists on this port for this load balancer '%d'", port)
}

// TargetGroupInUse is Terraform's retry text for DeleteTargetGroup.
func TargetGroupInUse(arn string) *Error {
	return Errorf(CodeResourceInUse, "Target group '%s' is currently in use by a listener or a rule", arn)
}

// PriorityInUse answers a rule priority already taken on the listener.
func PriorityInUse(priority int) *Error {
	return Errorf(CodePriorityInUse, "Priority '%d' is currently in use", priority)
}

// TooMany returns a quota error.
func TooMany(code, what string, limit int) *Error {
	return Errorf(code, "You have reached the maximum number of %s (%d)", what, limit)
}
