package elb

import (
	"net/netip"
	"strings"
)

// SSLPolicy is one ELB security policy berth supports.
type SSLPolicy struct {
	Name      string
	Protocols []string // TLSv1.2, TLSv1.3
	// Ciphers are the TLS 1.2 cipher suites (OpenSSL names), in preference order.
	Ciphers []string
	// LBTypes are the load balancer types the policy applies to.
	LBTypes []string
}

var tls12Ciphers = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
}

var tls13Ciphers = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// SSLPolicies are the policies berth supports, the default first.
var SSLPolicies = []SSLPolicy{
	{Name: "ELBSecurityPolicy-TLS13-1-2-2021-06", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: append(append([]string{}, tls13Ciphers...), tls12Ciphers...)},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: append(append([]string{}, tls13Ciphers...), tls12Ciphers[2:]...)},
	{Name: "ELBSecurityPolicy-TLS13-1-3-2021-06", Protocols: []string{"TLSv1.3"}, Ciphers: tls13Ciphers},
	{Name: "ELBSecurityPolicy-TLS-1-2-2017-01", Protocols: []string{"TLSv1.2"}, Ciphers: tls12Ciphers},
	{Name: "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", Protocols: []string{"TLSv1.2"}, Ciphers: tls12Ciphers},
	{Name: "ELBSecurityPolicy-FS-1-2-Res-2020-10", Protocols: []string{"TLSv1.2"}, Ciphers: tls12Ciphers},
	{Name: "ELBSecurityPolicy-2016-08", Protocols: []string{"TLSv1.2"}, Ciphers: tls12Ciphers},
}

// DefaultSSLPolicy is the policy of an HTTPS or TLS listener that names none.
const DefaultSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// FindSSLPolicy returns the policy named name, or nil.
func FindSSLPolicy(name string) *SSLPolicy {
	for i := range SSLPolicies {
		if SSLPolicies[i].Name == name {
			return &SSLPolicies[i]
		}
	}
	return nil
}

// ALPN policies of NLB TLS listeners.
var ALPNPolicies = []string{"HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"}

// ListenerInput is a listener's settings to validate.
type ListenerInput struct {
	LBType       string
	Protocol     string
	Port         int
	SSLPolicy    string
	Certificates []string
	ALPNPolicy   []string
}

// IsSecure reports whether a listener protocol terminates TLS.
func IsSecure(protocol string) bool { return protocol == ProtocolHTTPS || protocol == ProtocolTLS }

// ValidateListener checks a listener's protocol, port, certificates and
// policies for its load balancer's type. It returns the SSL policy to store.
func ValidateListener(in ListenerInput) (string, error) {
	if in.Protocol == "" {
		return "", Validationf("A protocol must be specified")
	}
	switch in.LBType {
	case TypeApplication:
		if in.Protocol != ProtocolHTTP && in.Protocol != ProtocolHTTPS {
			return "", Errorf(CodeUnsupportedProtocol, "Protocol '%s' is not supported for load balancers of type 'application'", in.Protocol)
		}
	case TypeNetwork:
		switch in.Protocol {
		case ProtocolTCP, ProtocolTLS:
		case "UDP", "TCP_UDP", "QUIC", "TCP_QUIC":
			return "", Errorf(CodeUnsupportedProtocol, "Protocol '%s' is not supported by berth's network load balancers (TCP and TLS are)", in.Protocol)
		default:
			return "", Errorf(CodeUnsupportedProtocol, "Protocol '%s' is not supported for load balancers of type 'network'", in.Protocol)
		}
	}
	if in.Port == 0 {
		return "", Validationf("A port must be specified")
	}
	if in.Port < 1 || in.Port > 65535 {
		return "", Validationf("Port '%d' must be between 1 and 65535", in.Port)
	}
	policy := in.SSLPolicy
	if IsSecure(in.Protocol) {
		if len(in.Certificates) == 0 {
			return "", Validationf("A certificate must be specified for %s listeners", in.Protocol)
		}
		if len(in.Certificates) > 1 {
			return "", Errorf(CodeTooManyCertificates, "You can specify only one default certificate for a listener")
		}
		if policy == "" {
			policy = DefaultSSLPolicy
		}
		if FindSSLPolicy(policy) == nil {
			return "", Errorf(CodeSSLPolicyNotFound, "SSL policy '%s' not found", policy)
		}
	} else {
		if len(in.Certificates) > 0 {
			return "", Validationf("Certificates can only be specified for HTTPS and TLS listeners")
		}
		if policy != "" {
			return "", Validationf("An SSL policy can only be specified for HTTPS and TLS listeners")
		}
	}
	if len(in.ALPNPolicy) > 0 {
		if in.Protocol != ProtocolTLS {
			return "", Validationf("An ALPN policy can only be specified for TLS listeners")
		}
		if len(in.ALPNPolicy) > 1 || !contains(ALPNPolicies, in.ALPNPolicy[0]) {
			return "", Errorf(CodeALPNPolicyNotFound, "ALPN policy '%s' not found", strings.Join(in.ALPNPolicy, ","))
		}
	}
	return policy, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// CompatibleTargetGroup checks that a listener of protocol listenerProtocol
// on a load balancer of lbType may forward to a target group of tgProtocol.
func CompatibleTargetGroup(lbType, listenerProtocol, tgProtocol, tgARN string) error {
	if lbType == TypeApplication && !IsALBProtocol(tgProtocol) || lbType == TypeNetwork && IsALBProtocol(tgProtocol) {
		return Errorf(CodeIncompatibleProtocols, "The target group '%s' has protocol '%s', which is not compatible with load balancers of type '%s'", tgARN, tgProtocol, lbType)
	}
	return nil
}

// ValidateTargetGroupProtocol checks CreateTargetGroup's protocol, port,
// target type and VPC, and returns the target type and protocol version to store.
func ValidateTargetGroupProtocol(protocol string, port int, targetType, vpcID, protocolVersion string) (string, string, error) {
	if targetType == "" {
		targetType = TargetTypeInstance
	}
	switch targetType {
	case TargetTypeInstance, TargetTypeIP:
	case "lambda", "alb":
		return "", "", Validationf("Target type '%s' is not supported by berth (instance and ip are)", targetType)
	default:
		return "", "", Validationf("Target type '%s' must be one of '[instance, ip, lambda, alb]'", targetType)
	}
	switch protocol {
	case "":
		return "", "", Validationf("A protocol must be specified")
	case ProtocolHTTP, ProtocolHTTPS, ProtocolTCP, ProtocolTLS:
	case "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC":
		return "", "", Errorf(CodeUnsupportedProtocol, "Target group protocol '%s' is not supported by berth (HTTP, HTTPS, TCP and TLS are)", protocol)
	default:
		return "", "", Validationf("Protocol '%s' must be one of '[HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC]'", protocol)
	}
	if port == 0 {
		return "", "", Validationf("A port must be specified")
	}
	if port < 1 || port > 65535 {
		return "", "", Validationf("Port '%d' must be between 1 and 65535", port)
	}
	if vpcID == "" {
		return "", "", Validationf("A VPC ID must be specified")
	}
	if !strings.HasPrefix(vpcID, "vpc-") {
		return "", "", Validationf("The VPC ID '%s' is not found", vpcID)
	}
	if IsALBProtocol(protocol) {
		switch protocolVersion {
		case "":
			protocolVersion = "HTTP1"
		case "HTTP1", "HTTP2", "GRPC":
		default:
			return "", "", Validationf("Protocol version '%s' must be one of '[HTTP1, HTTP2, GRPC]'", protocolVersion)
		}
	} else if protocolVersion != "" {
		return "", "", Validationf("A protocol version can only be specified for HTTP and HTTPS target groups")
	}
	return targetType, protocolVersion, nil
}

var targetRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
}

// ValidateIPTarget checks an ip target: IPv4 in RFC 1918, RFC 6598 or
// loopback 127.0.0.0/8 (berth dev runs targets on loopback).
func ValidateIPTarget(id string) error {
	a, err := netip.ParseAddr(id)
	if err != nil || !a.Is4() {
		return Errorf(CodeInvalidTarget, "The IP address '%s' is not a valid IPv4 address", id)
	}
	for _, p := range targetRanges {
		if p.Contains(a) {
			return nil
		}
	}
	return Errorf(CodeInvalidTarget, "The IP address '%s' is not in a range berth allows for targets (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8)", id)
}

// Tag limits.
const MaxTags = 50

// ValidateTags checks tags to add to a resource that has existing keys.
func ValidateTags(tags []Tag, existing []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 {
			return Validationf("A tag key must be 1 to 128 characters long")
		}
		if strings.HasPrefix(t.Key, "aws:") {
			return Validationf("Tag keys cannot start with 'aws:'")
		}
		if t.Value != nil && len(*t.Value) > 256 {
			return Validationf("A tag value cannot be longer than 256 characters")
		}
		if seen[t.Key] {
			return Errorf(CodeDuplicateTagKeys, "Tag key '%s' is specified more than once", t.Key)
		}
		seen[t.Key] = true
	}
	n := len(seen)
	for _, t := range existing {
		if !seen[t.Key] {
			n++
		}
	}
	if n > MaxTags {
		return Errorf(CodeTooManyTags, "The quota for the number of tags that can be assigned to a load balancing resource has been reached (%d)", MaxTags)
	}
	return nil
}

// MergeTags returns existing with tags added or replaced, in key order of
// first appearance.
func MergeTags(existing, tags []Tag) []Tag {
	out := append([]Tag(nil), existing...)
	for _, t := range tags {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i] = t
				replaced = true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// RemoveTags returns existing without the keys.
func RemoveTags(existing []Tag, keys []string) []Tag {
	var out []Tag
	for _, t := range existing {
		if !contains(keys, t.Key) {
			out = append(out, t)
		}
	}
	return out
}
