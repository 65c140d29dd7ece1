package elb

import (
	"strconv"
	"strings"
)

// HealthCheckInput is what CreateTargetGroup / ModifyTargetGroup send; nil
// members take the default (create) or keep the current value (modify).
type HealthCheckInput struct {
	Enabled            *bool
	Protocol           string
	Port               *string
	Path               *string
	IntervalSeconds    *int
	TimeoutSeconds     *int
	HealthyThreshold   *int
	UnhealthyThreshold *int
	Matcher            *Matcher
}

// DefaultHealthCheck is the health check of a new target group of the
// given protocol and protocol version (C.2; the ALB timeout is 5 s).
func DefaultHealthCheck(protocol, protocolVersion string) HealthCheck {
	switch protocol {
	case ProtocolHTTP, ProtocolHTTPS:
		hc := HealthCheck{Enabled: true, Protocol: protocol, Port: "traffic-port", Path: "/", IntervalSeconds: 30,
			TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: &Matcher{HttpCode: "200"}}
		if protocolVersion == "GRPC" {
			hc.Path = "/AWS.ALB/healthcheck"
			hc.Matcher = &Matcher{GrpcCode: "12"}
		}
		return hc
	}
	return HealthCheck{Enabled: true, Protocol: ProtocolTCP, Port: "traffic-port", IntervalSeconds: 30,
		TimeoutSeconds: 10, HealthyThreshold: 5, UnhealthyThreshold: 2}
}

// ApplyHealthCheck returns base changed by in and validated for a target
// group of protocol tgProtocol and version protocolVersion.
func ApplyHealthCheck(base HealthCheck, in HealthCheckInput, tgProtocol, protocolVersion string) (HealthCheck, error) {
	hc := base
	if in.Protocol != "" && in.Protocol != hc.Protocol {
		switch in.Protocol {
		case ProtocolHTTP, ProtocolHTTPS, ProtocolTCP:
		default:
			return hc, Validationf("Health check protocol '%s' is not supported", in.Protocol)
		}
		if in.Protocol == ProtocolTCP && (tgProtocol == ProtocolHTTP || tgProtocol == ProtocolHTTPS) {
			return hc, Validationf("Health check protocol 'TCP' is not supported for target groups with the protocol '%s'", tgProtocol)
		}
		wasTCP := hc.Protocol == ProtocolTCP
		hc.Protocol = in.Protocol
		if wasTCP && in.Protocol != ProtocolTCP {
			if hc.Path == "" {
				hc.Path = "/"
			}
			if hc.Matcher == nil {
				hc.Matcher = &Matcher{HttpCode: "200-399"}
			}
		}
		if in.Protocol == ProtocolTCP {
			hc.Path = ""
			hc.Matcher = nil
		}
	}
	if in.Enabled != nil {
		if !*in.Enabled {
			return hc, Validationf("Health checks cannot be disabled for target groups with target type 'instance' or 'ip'")
		}
		hc.Enabled = true
	}
	if in.Port != nil {
		p := *in.Port
		if p != "traffic-port" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return hc, Validationf("Health check port '%s' must be 'traffic-port' or a number between 1 and 65535", p)
			}
		}
		hc.Port = p
	}
	if in.Path != nil {
		if hc.Protocol == ProtocolTCP {
			return hc, Validationf("Health check path cannot be specified for TCP health checks")
		}
		if l := len(*in.Path); l < 1 || l > 1024 {
			return hc, Validationf("Health check path must be between 1 and 1024 characters long")
		}
		if !strings.HasPrefix(*in.Path, "/") {
			return hc, Validationf("Health check path must begin with a '/' character")
		}
		hc.Path = *in.Path
	}
	if err := setRange(&hc.IntervalSeconds, in.IntervalSeconds, "Health check interval", 5, 300); err != nil {
		return hc, err
	}
	if err := setRange(&hc.TimeoutSeconds, in.TimeoutSeconds, "Health check timeout", 2, 120); err != nil {
		return hc, err
	}
	if err := setRange(&hc.HealthyThreshold, in.HealthyThreshold, "Healthy threshold count", 2, 10); err != nil {
		return hc, err
	}
	if err := setRange(&hc.UnhealthyThreshold, in.UnhealthyThreshold, "Unhealthy threshold count", 2, 10); err != nil {
		return hc, err
	}
	if hc.TimeoutSeconds >= hc.IntervalSeconds {
		return hc, Validationf("Health check interval must be greater than the timeout.")
	}
	if in.Matcher != nil {
		if hc.Protocol == ProtocolTCP {
			return hc, Validationf("You cannot specify a matcher for TCP health checks")
		}
		m := *in.Matcher
		switch {
		case m.GrpcCode != "" && protocolVersion != "GRPC":
			return hc, Validationf("A gRPC code matcher can be specified only for target groups with the protocol version 'GRPC'")
		case m.HttpCode != "" && protocolVersion == "GRPC":
			return hc, Validationf("An HTTP code matcher cannot be specified for target groups with the protocol version 'GRPC'")
		case m.HttpCode == "" && m.GrpcCode == "":
			return hc, Validationf("A matcher must specify either an HTTP code or a gRPC code")
		}
		if m.HttpCode != "" {
			hi := 499
			if tgProtocol == ProtocolTCP || tgProtocol == ProtocolTLS {
				hi = 599
			}
			if err := checkCodes(m.HttpCode, 200, hi, "HTTP"); err != nil {
				return hc, err
			}
		}
		if m.GrpcCode != "" {
			if err := checkCodes(m.GrpcCode, 0, 99, "gRPC"); err != nil {
				return hc, err
			}
		}
		hc.Matcher = &m
	}
	return hc, nil
}

func setRange(dst *int, v *int, what string, lo, hi int) error {
	if v == nil {
		return nil
	}
	if *v < lo || *v > hi {
		return Validationf("%s must be between %d and %d", what, lo, hi)
	}
	*dst = *v
	return nil
}

// checkCodes checks a matcher: "200", "200,202" or "200-299", each code in [lo, hi].
func checkCodes(s string, lo, hi int, kind string) error {
	bad := Validationf("%s code '%s' must be a value between %d and %d, a comma-separated list or a range", kind, s, lo, hi)
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		x, err := strconv.Atoi(a)
		if err != nil || x < lo || x > hi {
			return bad
		}
		if isRange {
			y, err := strconv.Atoi(b)
			if err != nil || y < x || y > hi {
				return bad
			}
		}
	}
	return nil
}
