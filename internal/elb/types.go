package elb

import "berth.dev/berth/internal/elbdoc"

// Load balancer types, schemes, address types.
const (
	TypeApplication = "application"
	TypeNetwork     = "network"

	SchemeInternetFacing = "internet-facing"
	SchemeInternal       = "internal"

	IPAddressTypeIPv4 = "ipv4"
)

// Load balancer states.
const (
	StateProvisioning = "provisioning"
	StateActive       = "active"
	StateFailed       = "failed"
)

// ReasonNotServed is State.Reason of a load balancer no data-plane node
// serves yet.
const ReasonNotServed = "No berth load-balancer node serves this load balancer yet"

// Protocols berth serves.
const (
	ProtocolHTTP  = "HTTP"
	ProtocolHTTPS = "HTTPS"
	ProtocolTCP   = "TCP"
	ProtocolTLS   = "TLS"
)

// Target types.
const (
	TargetTypeInstance = "instance"
	TargetTypeIP       = "ip"
)

// Action types.
const (
	ActionForward       = "forward"
	ActionRedirect      = "redirect"
	ActionFixedResponse = "fixed-response"
)

// The ELBv2 documents (package elbdoc).
type (
	Tag                 = elbdoc.Tag
	Matcher             = elbdoc.Matcher
	HealthCheck         = elbdoc.HealthCheck
	TargetGroupTuple    = elbdoc.TargetGroupTuple
	Stickiness          = elbdoc.Stickiness
	ForwardConfig       = elbdoc.ForwardConfig
	RedirectConfig      = elbdoc.RedirectConfig
	FixedResponseConfig = elbdoc.FixedResponseConfig
	Action              = elbdoc.Action
	QueryStringKeyValue = elbdoc.QueryStringKeyValue
	Values              = elbdoc.Values
	HttpHeaderConfig    = elbdoc.HttpHeaderConfig
	QueryStringConfig   = elbdoc.QueryStringConfig
	RuleCondition       = elbdoc.RuleCondition
	Target              = elbdoc.Target
)
