package elbapi

import (
	"strconv"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/elbshape"
	"berth.dev/berth/internal/state"
)

// VPCID is the VPC berth names for its load balancers (it has none).
const VPCID = "vpc-berth"

func tagsIn(in []elbshape.Tag) ([]elb.Tag, error) {
	out := make([]elb.Tag, 0, len(in))
	for _, t := range in {
		if t.Key == nil {
			return nil, elb.Validationf("A tag key must be specified")
		}
		out = append(out, elb.Tag{Key: *t.Key, Value: t.Value})
	}
	if err := elb.ValidateTags(out, nil); err != nil {
		return nil, err
	}
	return out, nil
}

func tagsOut(in []elb.Tag) []elbshape.Tag {
	out := make([]elbshape.Tag, 0, len(in))
	for _, t := range in {
		v := t.Value
		if v == nil {
			v = ptr("")
		}
		out = append(out, elbshape.Tag{Key: ptr(t.Key), Value: v})
	}
	return out
}

func (a *API) loadBalancerOut(lb *state.LoadBalancer) elbshape.LoadBalancer {
	zones := make([]elbshape.AvailabilityZone, 0, len(lb.Subnets))
	for i, s := range lb.Subnets {
		z := elbshape.AvailabilityZone{SubnetId: ptr(s), ZoneName: ptr(a.namer.Zone(i))}
		// Both types report their one address (AWS reports none for an
		// ALB, whose addresses change; berth's is fixed and the DNS name
		// does not resolve, so clients need it to connect).
		if lb.Address != "" {
			z.LoadBalancerAddresses = []elbshape.LoadBalancerAddress{{IpAddress: ptr(lb.Address)}}
		}
		zones = append(zones, z)
	}
	st := &elbshape.LoadBalancerState{Code: elbshape.LoadBalancerStateEnum(lb.State)}
	if lb.State == elb.StateProvisioning {
		st.Reason = ptr(elb.ReasonNotServed)
	}
	out := elbshape.LoadBalancer{
		AvailabilityZones: zones, CanonicalHostedZoneId: ptr(elb.CanonicalHostedZoneID(lb.Type)), CreatedTime: ptr(lb.CreatedAt),
		DNSName: ptr(lb.DNSName), IpAddressType: elbshape.IpAddressType(lb.IPAddressType), LoadBalancerArn: ptr(lb.ARN),
		LoadBalancerName: ptr(lb.Name), Scheme: elbshape.LoadBalancerSchemeEnum(lb.Scheme), State: st,
		Type: elbshape.LoadBalancerTypeEnum(lb.Type), VpcId: ptr(VPCID),
	}
	if lb.Type == elb.TypeApplication || len(lb.SecurityGroups) > 0 {
		out.SecurityGroups = append([]string{}, lb.SecurityGroups...)
	}
	return out
}

func (a *API) targetGroupOut(snap *state.Snapshot, tg *state.TargetGroup) elbshape.TargetGroup {
	hc := tg.HealthCheck
	out := elbshape.TargetGroup{
		HealthCheckEnabled: ptr(hc.Enabled), HealthCheckIntervalSeconds: ptr(int32(hc.IntervalSeconds)),
		HealthCheckPort: ptr(hc.Port), HealthCheckProtocol: elbshape.ProtocolEnum(hc.Protocol),
		HealthCheckTimeoutSeconds: ptr(int32(hc.TimeoutSeconds)), HealthyThresholdCount: ptr(int32(hc.HealthyThreshold)),
		UnhealthyThresholdCount: ptr(int32(hc.UnhealthyThreshold)), IpAddressType: elbshape.TargetGroupIpAddressTypeEnum(tg.IPAddressType),
		LoadBalancerArns: append([]string{}, snap.TargetGroupLoadBalancers(tg.ARN)...), Port: ptr(int32(tg.Port)),
		Protocol: elbshape.ProtocolEnum(tg.Protocol), TargetGroupArn: ptr(tg.ARN), TargetGroupName: ptr(tg.Name),
		TargetType: elbshape.TargetTypeEnum(tg.TargetType), VpcId: ptr(tg.VpcID),
	}
	if tg.ProtocolVersion != "" {
		out.ProtocolVersion = ptr(tg.ProtocolVersion)
	}
	if hc.Path != "" {
		out.HealthCheckPath = ptr(hc.Path)
	}
	if m := hc.Matcher; m != nil {
		out.Matcher = &elbshape.Matcher{}
		if m.HttpCode != "" {
			out.Matcher.HttpCode = ptr(m.HttpCode)
		}
		if m.GrpcCode != "" {
			out.Matcher.GrpcCode = ptr(m.GrpcCode)
		}
	}
	return out
}

func (a *API) listenerOut(snap *state.Snapshot, l *state.Listener) elbshape.Listener {
	out := elbshape.Listener{ListenerArn: ptr(l.ARN), LoadBalancerArn: ptr(l.LoadBalancerARN), Port: ptr(int32(l.Port)),
		Protocol: elbshape.ProtocolEnum(l.Protocol), DefaultActions: []elbshape.Action{}}
	if l.SSLPolicy != "" {
		out.SslPolicy = ptr(l.SSLPolicy)
	}
	if len(l.Certificates) > 0 {
		out.Certificates = []elbshape.Certificate{{CertificateArn: ptr(l.Certificates[0])}}
	}
	if len(l.ALPNPolicy) > 0 {
		out.AlpnPolicy = append([]string{}, l.ALPNPolicy...)
	}
	snap.Rules(l.ARN, func(r *state.Rule) bool {
		if r.IsDefault {
			out.DefaultActions = actionsOut(r.Actions)
			return false
		}
		return true
	})
	return out
}

func ruleOut(r *state.Rule) elbshape.Rule {
	out := elbshape.Rule{RuleArn: ptr(r.ARN), IsDefault: ptr(r.IsDefault), Actions: actionsOut(r.Actions), Conditions: []elbshape.RuleCondition{}}
	if r.IsDefault {
		out.Priority = ptr("default")
	} else {
		out.Priority = ptr(strconv.Itoa(r.Priority))
	}
	for _, c := range r.Conditions {
		out.Conditions = append(out.Conditions, conditionOut(c))
	}
	return out
}

func conditionOut(c elb.RuleCondition) elbshape.RuleCondition {
	out := elbshape.RuleCondition{Field: ptr(c.Field)}
	switch c.Field {
	case elb.FieldHostHeader:
		out.HostHeaderConfig = &elbshape.HostHeaderConditionConfig{Values: c.HostHeaderConfig.Values}
		out.Values = c.HostHeaderConfig.Values
	case elb.FieldPathPattern:
		out.PathPatternConfig = &elbshape.PathPatternConditionConfig{Values: c.PathPatternConfig.Values}
		out.Values = c.PathPatternConfig.Values
	case elb.FieldHTTPRequestMethod:
		out.HttpRequestMethodConfig = &elbshape.HttpRequestMethodConditionConfig{Values: c.HttpRequestMethodConfig.Values}
	case elb.FieldSourceIP:
		out.SourceIpConfig = &elbshape.SourceIpConditionConfig{Values: c.SourceIpConfig.Values}
	case elb.FieldHTTPHeader:
		out.HttpHeaderConfig = &elbshape.HttpHeaderConditionConfig{HttpHeaderName: ptr(c.HttpHeaderConfig.HttpHeaderName), Values: c.HttpHeaderConfig.Values}
	case elb.FieldQueryString:
		q := &elbshape.QueryStringConditionConfig{}
		for _, kv := range c.QueryStringConfig.Values {
			p := elbshape.QueryStringKeyValuePair{Value: ptr(kv.Value)}
			if kv.Key != "" {
				p.Key = ptr(kv.Key)
			}
			q.Values = append(q.Values, p)
		}
		out.QueryStringConfig = q
	}
	return out
}

func actionsOut(in []elb.Action) []elbshape.Action {
	out := make([]elbshape.Action, 0, len(in))
	for i, a := range in {
		order := a.Order
		if order == 0 {
			order = i + 1
		}
		x := elbshape.Action{Type: elbshape.ActionTypeEnum(a.Type), Order: ptr(int32(order))}
		if a.TargetGroupArn != "" {
			x.TargetGroupArn = ptr(a.TargetGroupArn)
		}
		if f := a.Forward; f != nil {
			fc := &elbshape.ForwardActionConfig{}
			for _, t := range f.TargetGroups {
				fc.TargetGroups = append(fc.TargetGroups, elbshape.TargetGroupTuple{TargetGroupArn: ptr(t.TargetGroupArn), Weight: ptr(int32(deref(t.Weight)))})
			}
			st := elbshape.TargetGroupStickinessConfig{Enabled: ptr(false)}
			if f.Stickiness != nil {
				st.Enabled = ptr(f.Stickiness.Enabled)
				if f.Stickiness.DurationSeconds != 0 {
					st.DurationSeconds = ptr(int32(f.Stickiness.DurationSeconds))
				}
			}
			fc.TargetGroupStickinessConfig = &st
			x.ForwardConfig = fc
		}
		if r := a.Redirect; r != nil {
			rc := &elbshape.RedirectActionConfig{StatusCode: elbshape.RedirectActionStatusCodeEnum(r.StatusCode),
				Protocol: ptr(orDefault(r.Protocol, "#{protocol}")), Host: ptr(orDefault(r.Host, "#{host}")),
				Port: ptr(orDefault(r.Port, "#{port}")), Path: ptr(orDefault(r.Path, "/#{path}")), Query: ptr(orDefault(r.Query, "#{query}"))}
			x.RedirectConfig = rc
		}
		if f := a.FixedResponse; f != nil {
			fc := &elbshape.FixedResponseActionConfig{StatusCode: ptr(f.StatusCode)}
			if f.ContentType != "" {
				fc.ContentType = ptr(f.ContentType)
			}
			if f.MessageBody != "" {
				fc.MessageBody = ptr(f.MessageBody)
			}
			x.FixedResponseConfig = fc
		}
		out = append(out, x)
	}
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// actionsIn converts request actions; members berth does not act on are refused.
func actionsIn(in []elbshape.Action) ([]elb.Action, error) {
	out := make([]elb.Action, 0, len(in))
	for _, x := range in {
		if x.AuthenticateCognitoConfig != nil || x.AuthenticateOidcConfig != nil || x.JwtValidationConfig != nil {
			return nil, elb.Errorf(elb.CodeInvalidLoadBalancerAction, "Authentication and JWT validation actions are not supported by berth")
		}
		a := elb.Action{Type: string(x.Type), Order: int(deref(x.Order)), TargetGroupArn: deref(x.TargetGroupArn)}
		if f := x.ForwardConfig; f != nil {
			fc := &elb.ForwardConfig{}
			for _, t := range f.TargetGroups {
				tt := elb.TargetGroupTuple{TargetGroupArn: deref(t.TargetGroupArn)}
				if t.Weight != nil {
					tt.Weight = ptr(int(*t.Weight))
				}
				fc.TargetGroups = append(fc.TargetGroups, tt)
			}
			if s := f.TargetGroupStickinessConfig; s != nil {
				fc.Stickiness = &elb.Stickiness{Enabled: deref(s.Enabled), DurationSeconds: int(deref(s.DurationSeconds))}
			}
			a.Forward = fc
		}
		if r := x.RedirectConfig; r != nil {
			a.Redirect = &elb.RedirectConfig{StatusCode: string(r.StatusCode), Protocol: keep(r.Protocol, "#{protocol}"),
				Host: keep(r.Host, "#{host}"), Port: keep(r.Port, "#{port}"), Path: keep(r.Path, "/#{path}"), Query: keep(r.Query, "#{query}")}
		}
		if f := x.FixedResponseConfig; f != nil {
			a.FixedResponse = &elb.FixedResponseConfig{StatusCode: deref(f.StatusCode), ContentType: deref(f.ContentType), MessageBody: deref(f.MessageBody)}
		}
		out = append(out, a)
	}
	return out, nil
}

// keep returns "" for a redirect member that keeps the request's value.
func keep(v *string, placeholder string) string {
	if v == nil || *v == placeholder {
		return ""
	}
	return *v
}

// conditionsIn converts request conditions; RegexValues are refused.
func conditionsIn(in []elbshape.RuleCondition) ([]elb.RuleCondition, error) {
	out := make([]elb.RuleCondition, 0, len(in))
	for _, x := range in {
		if len(x.RegexValues) > 0 || x.HostHeaderConfig != nil && len(x.HostHeaderConfig.RegexValues) > 0 ||
			x.PathPatternConfig != nil && len(x.PathPatternConfig.RegexValues) > 0 || x.HttpHeaderConfig != nil && len(x.HttpHeaderConfig.RegexValues) > 0 {
			return nil, notSupported("RegexValues (regular-expression conditions)")
		}
		c := elb.RuleCondition{Field: deref(x.Field), Values: x.Values}
		if h := x.HostHeaderConfig; h != nil {
			c.HostHeaderConfig = &elb.Values{Values: h.Values}
		}
		if p := x.PathPatternConfig; p != nil {
			c.PathPatternConfig = &elb.Values{Values: p.Values}
		}
		if h := x.HttpHeaderConfig; h != nil {
			c.HttpHeaderConfig = &elb.HttpHeaderConfig{HttpHeaderName: deref(h.HttpHeaderName), Values: h.Values}
		}
		if m := x.HttpRequestMethodConfig; m != nil {
			c.HttpRequestMethodConfig = &elb.Values{Values: m.Values}
		}
		if q := x.QueryStringConfig; q != nil {
			c.QueryStringConfig = &elb.QueryStringConfig{}
			for _, kv := range q.Values {
				c.QueryStringConfig.Values = append(c.QueryStringConfig.Values, elb.QueryStringKeyValue{Key: deref(kv.Key), Value: deref(kv.Value)})
			}
		}
		if s := x.SourceIpConfig; s != nil {
			if s.IpAddressType != "" {
				return nil, notSupported("SourceIpConfig.IpAddressType")
			}
			c.SourceIpConfig = &elb.Values{Values: s.Values}
		}
		out = append(out, c)
	}
	return out, nil
}
