package lbconfig

import "time"

// Config is everything a data plane serves, rendered from one state snapshot.
type Config struct {
	// Revision increases with every change of the configuration (the state
	// index it was rendered from); a data plane ignores an older one.
	Revision      uint64         `json:"revision"`
	LoadBalancers []LoadBalancer `json:"loadBalancers"`
	TargetGroups  []TargetGroup  `json:"targetGroups"`
	Certificates  []Certificate  `json:"certificates,omitempty"`
}

// Load balancer types.
const (
	TypeApplication = "application"
	TypeNetwork     = "network"
)

// Protocols (listeners, target groups, health checks).
const (
	ProtocolHTTP  = "HTTP"
	ProtocolHTTPS = "HTTPS"
	ProtocolTCP   = "TCP"
	ProtocolTLS   = "TLS"
)

// LoadBalancer is one ALB or NLB. It listens on Address, one socket per
// listener port.
type LoadBalancer struct {
	ARN     string `json:"arn"`
	Name    string `json:"name"`
	Type    string `json:"type"` // TypeApplication or TypeNetwork
	Scheme  string `json:"scheme"`
	Address string `json:"address"` // IPv4 address from the configured pool
	// IdleTimeout is idle_timeout.timeout_seconds (ALB; default 60 s).
	IdleTimeout time.Duration `json:"idleTimeout"`
	// HTTP2 is routing.http2.enabled (ALB; default true): offer h2 over TLS
	// and accept h2c prior knowledge.
	HTTP2 bool `json:"http2"`
	// XFFMode is routing.http.xff_header_processing.mode: append (default),
	// preserve or remove. XFFClientPort is routing.http.xff_client_port.enabled.
	XFFMode       string `json:"xffMode"`
	XFFClientPort bool   `json:"xffClientPort"`
	// PreserveHost is routing.http.preserve_host_header.enabled.
	PreserveHost bool `json:"preserveHost"`
	// DropInvalidHeaders is routing.http.drop_invalid_header_fields.enabled.
	DropInvalidHeaders bool       `json:"dropInvalidHeaders"`
	Listeners          []Listener `json:"listeners"`
}

// Listener is one port of a load balancer.
type Listener struct {
	ARN      string `json:"arn"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"` // HTTP, HTTPS (ALB); TCP, TLS (NLB)
	// Certificates are certificate ARNs (HTTPS, TLS); the first is the
	// default, the others are chosen by SNI.
	Certificates []string `json:"certificates,omitempty"`
	// SSLPolicy names the ELB security policy (TLS versions and ciphers).
	SSLPolicy string `json:"sslPolicy,omitempty"`
	// ALPNPolicy is the NLB TLS listener's ALPN policy (HTTP1Only, HTTP2Only,
	// HTTP2Optional, HTTP2Preferred, None).
	ALPNPolicy string `json:"alpnPolicy,omitempty"`
	// TCPIdleTimeout is tcp.idle_timeout.seconds (NLB; default 350 s).
	TCPIdleTimeout time.Duration `json:"tcpIdleTimeout,omitempty"`
	// Rules in evaluation order: ascending priority, the default rule last.
	// An NLB listener has only its default rule.
	Rules []Rule `json:"rules"`
}

// Rule is one listener rule.
type Rule struct {
	ARN        string      `json:"arn"`
	Priority   int         `json:"priority"` // 1-50000; 0 for the default rule
	IsDefault  bool        `json:"isDefault"`
	Conditions []Condition `json:"conditions,omitempty"`
	// Actions in order; the last is the terminal one (forward, redirect,
	// fixed-response).
	Actions []Action `json:"actions"`
}

// Condition fields.
const (
	FieldHostHeader        = "host-header"
	FieldPathPattern       = "path-pattern"
	FieldHTTPHeader        = "http-header"
	FieldHTTPRequestMethod = "http-request-method"
	FieldQueryString       = "query-string"
	FieldSourceIP          = "source-ip"
)

// Condition is one rule condition: its values are OR-ed, a rule's
// conditions AND-ed.
type Condition struct {
	Field string `json:"field"`
	// Values: host patterns, path patterns, header value patterns, methods
	// or CIDRs, as Field says.
	Values []string `json:"values,omitempty"`
	// HeaderName is the http-header condition's header.
	HeaderName string `json:"headerName,omitempty"`
	// QueryStrings are the query-string condition's pairs (Key may be empty).
	QueryStrings []KeyValue `json:"queryStrings,omitempty"`
}

// KeyValue is one query-string pattern pair.
type KeyValue struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// Action types.
const (
	ActionForward       = "forward"
	ActionRedirect      = "redirect"
	ActionFixedResponse = "fixed-response"
)

// Action is one rule action.
type Action struct {
	Type  string `json:"type"`
	Order int    `json:"order"`
	// Forward: the target groups with their weights (one group has weight 1
	// when the action named a single TargetGroupArn).
	TargetGroups []WeightedTargetGroup `json:"targetGroups,omitempty"`
	// Stickiness is the forward action's target-group stickiness
	// (cookie AWSALBTG); zero when disabled.
	Stickiness    time.Duration  `json:"stickiness,omitempty"`
	Redirect      *Redirect      `json:"redirect,omitempty"`
	FixedResponse *FixedResponse `json:"fixedResponse,omitempty"`
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	ARN    string `json:"arn"`
	Weight int    `json:"weight"` // 0-999
}

// Redirect is a redirect action. Empty fields keep the request's value;
// fields may hold ELB's placeholders #{protocol}, #{host}, #{port},
// #{path} and #{query}.
type Redirect struct {
	Protocol   string `json:"protocol,omitempty"`
	Host       string `json:"host,omitempty"`
	Port       string `json:"port,omitempty"`
	Path       string `json:"path,omitempty"`
	Query      string `json:"query,omitempty"`
	StatusCode int    `json:"statusCode"` // 301 or 302
}

// FixedResponse is a fixed-response action.
type FixedResponse struct {
	StatusCode  int    `json:"statusCode"`
	ContentType string `json:"contentType,omitempty"`
	MessageBody string `json:"messageBody,omitempty"`
}

// Load-balancing algorithms (load_balancing.algorithm.type).
const (
	AlgorithmRoundRobin       = "round_robin"
	AlgorithmLeastOutstanding = "least_outstanding_requests"
	AlgorithmWeightedRandom   = "weighted_random"
)

// TargetGroup is one target group with its targets.
type TargetGroup struct {
	ARN             string `json:"arn"`
	Name            string `json:"name"`
	Protocol        string `json:"protocol"`        // HTTP, HTTPS, TCP, TLS
	ProtocolVersion string `json:"protocolVersion"` // HTTP1, HTTP2, GRPC (HTTP/HTTPS groups)
	TargetType      string `json:"targetType"`      // instance or ip
	Port            int    `json:"port"`
	// LoadBalancerARN is the load balancer whose listeners forward to it
	// ("" when none does: its targets are unused).
	LoadBalancerARN string      `json:"loadBalancerArn,omitempty"`
	HealthCheck     HealthCheck `json:"healthCheck"`
	// DeregistrationDelay is deregistration_delay.timeout_seconds.
	DeregistrationDelay time.Duration `json:"deregistrationDelay"`
	// SlowStart is slow_start.duration_seconds (0: off).
	SlowStart time.Duration `json:"slowStart,omitempty"`
	Algorithm string        `json:"algorithm"`
	// Stickiness: lb_cookie (AWSALB), app_cookie (AppCookieName) or, on NLB,
	// source_ip; zero Duration when disabled.
	StickinessType     string        `json:"stickinessType,omitempty"`
	StickinessDuration time.Duration `json:"stickinessDuration,omitempty"`
	AppCookieName      string        `json:"appCookieName,omitempty"`
	// ConnectionTermination is deregistration_delay.connection_termination.enabled (NLB).
	ConnectionTermination bool `json:"connectionTermination,omitempty"`
	// PreserveClientIP is preserve_client_ip.enabled (NLB).
	PreserveClientIP bool     `json:"preserveClientIp,omitempty"`
	Targets          []Target `json:"targets"`
}

// HealthCheck is a target group's active health check, with ELB's defaults
// already applied.
type HealthCheck struct {
	Enabled  bool   `json:"enabled"`
	Protocol string `json:"protocol"` // HTTP, HTTPS or TCP
	// Port is the probe port; 0 means the target's traffic port.
	Port     int           `json:"port,omitempty"`
	Path     string        `json:"path,omitempty"`
	Interval time.Duration `json:"interval"`
	Timeout  time.Duration `json:"timeout"`
	// HealthyThreshold consecutive successes make an unhealthy target
	// healthy; UnhealthyThreshold consecutive failures make it unhealthy.
	HealthyThreshold   int `json:"healthyThreshold"`
	UnhealthyThreshold int `json:"unhealthyThreshold"`
	// Matcher is the success codes: "200", "200,202", "200-299".
	Matcher string `json:"matcher,omitempty"`
}

// Target states in a Config: the data plane sends new requests only to
// registered targets; a draining target finishes what it has in flight and
// gets nothing new, until DrainUntil, when what is left is cut.
const (
	TargetRegistered = "registered"
	TargetDraining   = "draining"
)

// Target is one registered (or draining) target.
type Target struct {
	// ID is the target's ID as registered: an IP address (ip targets) or an
	// instance ID (instance targets).
	ID string `json:"id"`
	// Address is where the data plane connects: the ID for ip targets, the
	// container instance's host address for instance targets.
	Address string `json:"address"`
	Port    int    `json:"port"`
	State   string `json:"state"`
	// RegisteredAt is when the target was registered (slow start counts
	// from when it turns healthy, not from here).
	RegisteredAt time.Time `json:"registeredAt"`
	// DrainUntil is when a draining target's deregistration delay ends.
	DrainUntil time.Time `json:"drainUntil,omitzero"`
}

// Certificate is a certificate a listener presents, PEM-encoded.
type Certificate struct {
	ARN string `json:"arn"`
	// Chain is the leaf certificate followed by its chain.
	Chain string `json:"chain"`
	Key   string `json:"key"`
}
