package elbapi

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/state"
)

// HealthSource is the targets' health as the data plane reports it.
type HealthSource interface {
	// TargetHealth returns the health of one registration; ok is false
	// when no node reported it.
	TargetHealth(tgARN, id string, port int) (lbconfig.TargetHealth, bool)
}

// CertificateSource knows certificates by ARN (ACM's, served elsewhere).
type CertificateSource interface {
	// Certificate returns a certificate's PEM chain (leaf first) and key;
	// ok is false for an unknown ARN.
	Certificate(arn string) (chainPEM, keyPEM string, ok bool)
}

// HostAddressAttribute is the container instance attribute that holds the
// address a load balancer reaches an instance target at.
const HostAddressAttribute = "berth.host-address"

// RenderConfig renders the data plane's configuration from one snapshot:
// every load balancer with its address, attributes and listeners (rules in
// evaluation order, the default last), every target group with its
// resolved health check and attributes and its targets (registered, and
// draining until their delay ends at now), and the certificates the
// listeners use (certs may be nil: none known; a listener certificate the
// source does not know is left out). Revision is the snapshot's log index.
func RenderConfig(snap *state.Snapshot, now time.Time, certs CertificateSource) *lbconfig.Config {
	cfg := &lbconfig.Config{Revision: snap.Index(), LoadBalancers: []lbconfig.LoadBalancer{}, TargetGroups: []lbconfig.TargetGroup{}}
	certSeen := map[string]bool{}
	snap.LoadBalancers(func(lb *state.LoadBalancer) bool {
		cfg.LoadBalancers = append(cfg.LoadBalancers, renderLoadBalancer(snap, lb, certs, certSeen, cfg))
		return true
	})
	snap.TargetGroups(func(tg *state.TargetGroup) bool {
		cfg.TargetGroups = append(cfg.TargetGroups, renderTargetGroup(snap, tg, now))
		return true
	})
	return cfg
}

func seconds(s string) time.Duration {
	n, _ := strconv.Atoi(s)
	return time.Duration(n) * time.Second
}

func renderLoadBalancer(snap *state.Snapshot, lb *state.LoadBalancer, certs CertificateSource, certSeen map[string]bool, cfg *lbconfig.Config) lbconfig.LoadBalancer {
	attr := func(k string) string { return elb.LoadBalancerAttribute(lb.Type, lb.Attributes, k) }
	out := lbconfig.LoadBalancer{ARN: lb.ARN, Name: lb.Name, Type: lb.Type, Scheme: lb.Scheme, Address: lb.Address, Listeners: []lbconfig.Listener{}}
	if lb.Type == elb.TypeApplication {
		out.IdleTimeout = seconds(attr("idle_timeout.timeout_seconds"))
		out.HTTP2 = attr("routing.http2.enabled") == "true"
		out.XFFMode = attr("routing.http.xff_header_processing.mode")
		out.XFFClientPort = attr("routing.http.xff_client_port.enabled") == "true"
		out.PreserveHost = attr("routing.http.preserve_host_header.enabled") == "true"
		out.DropInvalidHeaders = attr("routing.http.drop_invalid_header_fields.enabled") == "true"
	}
	snap.Listeners(lb.ARN, func(l *state.Listener) bool {
		rl := lbconfig.Listener{ARN: l.ARN, Port: l.Port, Protocol: l.Protocol, SSLPolicy: l.SSLPolicy}
		if len(l.ALPNPolicy) > 0 {
			rl.ALPNPolicy = l.ALPNPolicy[0]
		}
		if lb.Type == elb.TypeNetwork && l.Protocol == elb.ProtocolTCP {
			rl.TCPIdleTimeout = seconds(elb.ListenerAttributes(lb.Type, l.Protocol, l.Attributes)[0].Value)
		}
		for _, arn := range l.Certificates {
			if certs == nil {
				continue
			}
			chain, key, ok := certs.Certificate(arn)
			if !ok {
				continue
			}
			rl.Certificates = append(rl.Certificates, arn)
			if !certSeen[arn] {
				certSeen[arn] = true
				cfg.Certificates = append(cfg.Certificates, lbconfig.Certificate{ARN: arn, Chain: chain, Key: key})
			}
		}
		rl.Rules = renderRules(snap, l.ARN)
		out.Listeners = append(out.Listeners, rl)
		return true
	})
	slices.SortFunc(out.Listeners, func(a, b lbconfig.Listener) int { return a.Port - b.Port })
	return out
}

func renderRules(snap *state.Snapshot, listenerARN string) []lbconfig.Rule {
	var rules []*state.Rule
	snap.Rules(listenerARN, func(r *state.Rule) bool { rules = append(rules, r); return true })
	SortRules(rules)
	out := make([]lbconfig.Rule, 0, len(rules))
	for _, r := range rules {
		rr := lbconfig.Rule{ARN: r.ARN, Priority: r.Priority, IsDefault: r.IsDefault, Actions: []lbconfig.Action{}}
		for _, c := range r.Conditions {
			rr.Conditions = append(rr.Conditions, renderCondition(c))
		}
		for _, a := range r.Actions {
			rr.Actions = append(rr.Actions, renderAction(a))
		}
		out = append(out, rr)
	}
	return out
}

// SortRules sorts rules by priority, the default rule last.
func SortRules(rules []*state.Rule) {
	slices.SortStableFunc(rules, func(a, b *state.Rule) int {
		switch {
		case a.IsDefault != b.IsDefault:
			if a.IsDefault {
				return 1
			}
			return -1
		}
		return a.Priority - b.Priority
	})
}

func renderCondition(c elb.RuleCondition) lbconfig.Condition {
	out := lbconfig.Condition{Field: c.Field}
	switch c.Field {
	case elb.FieldHostHeader:
		out.Values = c.HostHeaderConfig.Values
	case elb.FieldPathPattern:
		out.Values = c.PathPatternConfig.Values
	case elb.FieldHTTPRequestMethod:
		out.Values = c.HttpRequestMethodConfig.Values
	case elb.FieldSourceIP:
		out.Values = c.SourceIpConfig.Values
	case elb.FieldHTTPHeader:
		out.HeaderName = c.HttpHeaderConfig.HttpHeaderName
		out.Values = c.HttpHeaderConfig.Values
	case elb.FieldQueryString:
		for _, kv := range c.QueryStringConfig.Values {
			out.QueryStrings = append(out.QueryStrings, lbconfig.KeyValue{Key: kv.Key, Value: kv.Value})
		}
	}
	return out
}

func renderAction(a elb.Action) lbconfig.Action {
	out := lbconfig.Action{Type: a.Type, Order: a.Order}
	switch a.Type {
	case elb.ActionForward:
		if a.Forward != nil {
			for _, t := range a.Forward.TargetGroups {
				w := 1
				if t.Weight != nil {
					w = *t.Weight
				}
				out.TargetGroups = append(out.TargetGroups, lbconfig.WeightedTargetGroup{ARN: t.TargetGroupArn, Weight: w})
			}
			if st := a.Forward.Stickiness; st != nil && st.Enabled {
				out.Stickiness = time.Duration(st.DurationSeconds) * time.Second
			}
		} else if a.TargetGroupArn != "" {
			out.TargetGroups = []lbconfig.WeightedTargetGroup{{ARN: a.TargetGroupArn, Weight: 1}}
		}
	case elb.ActionRedirect:
		r := a.Redirect
		code := 301
		if r.StatusCode == "HTTP_302" {
			code = 302
		}
		out.Redirect = &lbconfig.Redirect{Protocol: r.Protocol, Host: r.Host, Port: r.Port, Path: r.Path, Query: r.Query, StatusCode: code}
	case elb.ActionFixedResponse:
		f := a.FixedResponse
		code, _ := strconv.Atoi(f.StatusCode)
		out.FixedResponse = &lbconfig.FixedResponse{StatusCode: code, ContentType: f.ContentType, MessageBody: f.MessageBody}
	}
	return out
}

func renderTargetGroup(snap *state.Snapshot, tg *state.TargetGroup, now time.Time) lbconfig.TargetGroup {
	attr := func(k string) string { return elb.TargetGroupAttribute(tg.Protocol, tg.TargetType, tg.Attributes, k) }
	hc := tg.HealthCheck
	port := 0
	if hc.Port != "traffic-port" {
		port, _ = strconv.Atoi(hc.Port)
	}
	matcher := ""
	if hc.Matcher != nil {
		matcher = hc.Matcher.HttpCode
		if matcher == "" {
			matcher = hc.Matcher.GrpcCode
		}
	}
	out := lbconfig.TargetGroup{
		ARN: tg.ARN, Name: tg.Name, Protocol: tg.Protocol, ProtocolVersion: tg.ProtocolVersion, TargetType: tg.TargetType, Port: tg.Port,
		HealthCheck: lbconfig.HealthCheck{Enabled: hc.Enabled, Protocol: hc.Protocol, Port: port, Path: hc.Path,
			Interval: time.Duration(hc.IntervalSeconds) * time.Second, Timeout: time.Duration(hc.TimeoutSeconds) * time.Second,
			HealthyThreshold: hc.HealthyThreshold, UnhealthyThreshold: hc.UnhealthyThreshold, Matcher: matcher},
		DeregistrationDelay: seconds(attr("deregistration_delay.timeout_seconds")),
		Targets:             []lbconfig.Target{},
	}
	if lbs := snap.TargetGroupLoadBalancers(tg.ARN); len(lbs) > 0 {
		out.LoadBalancerARN = lbs[0]
	}
	if elb.IsALBProtocol(tg.Protocol) {
		out.SlowStart = seconds(attr("slow_start.duration_seconds"))
		out.Algorithm = attr("load_balancing.algorithm.type")
		if attr("stickiness.enabled") == "true" {
			out.StickinessType = attr("stickiness.type")
			if out.StickinessType == "app_cookie" {
				out.AppCookieName = attr("stickiness.app_cookie.cookie_name")
				out.StickinessDuration = seconds(attr("stickiness.app_cookie.duration_seconds"))
			} else {
				out.StickinessDuration = seconds(attr("stickiness.lb_cookie.duration_seconds"))
			}
		}
	} else {
		out.Algorithm = lbconfig.AlgorithmRoundRobin
		out.ConnectionTermination = attr("deregistration_delay.connection_termination.enabled") == "true"
		out.PreserveClientIP = attr("preserve_client_ip.enabled") == "true"
		if attr("stickiness.enabled") == "true" {
			out.StickinessType = "source_ip"
		}
	}
	snap.Targets(tg.ARN, func(t *state.Target) bool {
		rt := lbconfig.Target{ID: t.ID, Address: t.ID, Port: t.Port, State: lbconfig.TargetRegistered, RegisteredAt: t.RegisteredAt}
		if !t.DrainUntil.IsZero() {
			if !now.Before(t.DrainUntil) {
				return true
			}
			rt.State, rt.DrainUntil = lbconfig.TargetDraining, t.DrainUntil
		}
		if tg.TargetType == elb.TargetTypeInstance {
			addr := InstanceHostAddress(snap, t.ID)
			if addr == "" {
				return true
			}
			rt.Address = addr
		}
		out.Targets = append(out.Targets, rt)
		return true
	})
	return out
}

// InstanceHostAddress is the berth.host-address attribute of the
// registered container instance with EC2 instance ID id ("" when none):
// an ACTIVE one, else a DRAINING one. A DRAINING instance still runs its
// tasks (ECS draining is the scheduler's, not the load balancer's): its
// targets keep their traffic until their tasks are stopped, and drain for
// their deregistration delay then, like any other target.
func InstanceHostAddress(snap *state.Snapshot, id string) string {
	addr, draining := "", ""
	snap.AllInstances(func(ci *state.ContainerInstance) bool {
		if ci.Shape.Ec2InstanceId == nil || *ci.Shape.Ec2InstanceId != id || ci.Shape.Status == nil {
			return true
		}
		a := ""
		for _, at := range ci.Shape.Attributes {
			if at.Name != nil && *at.Name == HostAddressAttribute && at.Value != nil {
				a = strings.TrimSpace(*at.Value)
			}
		}
		switch *ci.Shape.Status {
		case "ACTIVE":
			addr = a
			return false
		case "DRAINING":
			if draining == "" {
				draining = a
			}
		}
		return true
	})
	if addr == "" {
		addr = draining
	}
	return addr
}
