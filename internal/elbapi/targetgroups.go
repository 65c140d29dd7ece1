package elbapi

import (
	"context"
	"strconv"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/elbshape"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/state"
)

func intp(p *int32) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func matcherIn(m *elbshape.Matcher) *elb.Matcher {
	if m == nil {
		return nil
	}
	return &elb.Matcher{HttpCode: deref(m.HttpCode), GrpcCode: deref(m.GrpcCode)}
}

// CreateTargetGroup creates a target group (HTTP, HTTPS, TCP or TLS; instance or ip targets).
func (a *API) CreateTargetGroup(ctx context.Context, call *Call, in *elbshape.CreateTargetGroupRequest) (*elbshape.CreateTargetGroupResponse, error) {
	name := deref(in.Name)
	if err := elb.ValidateTargetGroupName(name); err != nil {
		return nil, err
	}
	if in.TargetControlPort != nil {
		return nil, notSupported("TargetControlPort")
	}
	if in.IpAddressType != "" && in.IpAddressType != "ipv4" {
		return nil, elb.InvalidConfigf("Target group IP address type '%s' is not supported by berth (ipv4 is)", in.IpAddressType)
	}
	targetType, version, err := elb.ValidateTargetGroupProtocol(string(in.Protocol), int(deref(in.Port)), string(in.TargetType), deref(in.VpcId), deref(in.ProtocolVersion))
	if err != nil {
		return nil, err
	}
	protocol := string(in.Protocol)
	hc, err := elb.ApplyHealthCheck(elb.DefaultHealthCheck(protocol, version), elb.HealthCheckInput{
		Enabled: in.HealthCheckEnabled, Protocol: string(in.HealthCheckProtocol), Port: in.HealthCheckPort, Path: in.HealthCheckPath,
		IntervalSeconds: intp(in.HealthCheckIntervalSeconds), TimeoutSeconds: intp(in.HealthCheckTimeoutSeconds),
		HealthyThreshold: intp(in.HealthyThresholdCount), UnhealthyThreshold: intp(in.UnhealthyThresholdCount), Matcher: matcherIn(in.Matcher),
	}, protocol, version)
	if err != nil {
		return nil, err
	}
	if in.HealthCheckProtocol != "" && string(in.HealthCheckProtocol) != elb.ProtocolTCP && hc.Matcher == nil {
		hc.Matcher = &elb.Matcher{HttpCode: "200-399"}
	}
	tags, err := tagsIn(in.Tags)
	if err != nil {
		return nil, err
	}
	res, err := a.propose(ctx, wire.CreateTargetGroup{Meta: call.meta(), ID: a.cfg.NewID(), Name: name, Protocol: protocol, ProtocolVersion: version,
		Port: int(*in.Port), VpcID: deref(in.VpcId), TargetType: targetType, IPAddressType: "ipv4", HealthCheck: hc, Tags: tags})
	if err != nil {
		return nil, err
	}
	snap := a.cfg.State.Snapshot()
	return &elbshape.CreateTargetGroupResponse{TargetGroups: []elbshape.TargetGroup{a.targetGroupOut(snap, res.(*state.TargetGroup))}}, nil
}

// DescribeTargetGroups describes target groups by ARN, name, load balancer, or all, paged.
func (a *API) DescribeTargetGroups(ctx context.Context, call *Call, in *elbshape.DescribeTargetGroupsRequest) (*elbshape.DescribeTargetGroupsResponse, error) {
	n := 0
	for _, set := range []bool{len(in.TargetGroupArns) > 0, len(in.Names) > 0, in.LoadBalancerArn != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, elb.Validationf("Only one of target group ARNs, names or a load balancer ARN can be specified")
	}
	snap := a.cfg.State.Snapshot()
	var tgs []*state.TargetGroup
	switch {
	case len(in.TargetGroupArns) > 0:
		for _, v := range in.TargetGroupArns {
			tg := snap.TargetGroup(v)
			if tg == nil {
				return nil, elb.TargetGroupsNotFound()
			}
			tgs = append(tgs, tg)
		}
	case len(in.Names) > 0:
		for _, v := range in.Names {
			tg := snap.TargetGroupByName(v)
			if tg == nil {
				return nil, elb.TargetGroupsNotFound()
			}
			tgs = append(tgs, tg)
		}
	case in.LoadBalancerArn != nil:
		if snap.LoadBalancer(*in.LoadBalancerArn) == nil {
			return nil, elb.LoadBalancersNotFound()
		}
		snap.TargetGroups(func(tg *state.TargetGroup) bool {
			for _, lb := range snap.TargetGroupLoadBalancers(tg.ARN) {
				if lb == *in.LoadBalancerArn {
					tgs = append(tgs, tg)
				}
			}
			return true
		})
	default:
		snap.TargetGroups(func(tg *state.TargetGroup) bool { tgs = append(tgs, tg); return true })
	}
	tgs, next, err := page(tgs, func(t *state.TargetGroup) string { return t.ARN }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbshape.DescribeTargetGroupsResponse{TargetGroups: []elbshape.TargetGroup{}, NextMarker: next}
	for _, tg := range tgs {
		out.TargetGroups = append(out.TargetGroups, a.targetGroupOut(snap, tg))
	}
	return out, nil
}

func (a *API) targetGroup(snap *state.Snapshot, arnValue *string) (*state.TargetGroup, error) {
	v, err := required(arnValue, "TargetGroupArn")
	if err != nil {
		return nil, err
	}
	if elb.ARNKind(v) != "targetgroup" {
		return nil, elb.Validationf("'%s' is not a valid target group ARN", v)
	}
	tg := snap.TargetGroup(v)
	if tg == nil {
		return nil, elb.TargetGroupNotFound(v)
	}
	return tg, nil
}

// ModifyTargetGroup changes a target group's health check.
func (a *API) ModifyTargetGroup(ctx context.Context, call *Call, in *elbshape.ModifyTargetGroupRequest) (*elbshape.ModifyTargetGroupResponse, error) {
	snap := a.cfg.State.Snapshot()
	tg, err := a.targetGroup(snap, in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	hc, err := elb.ApplyHealthCheck(tg.HealthCheck, elb.HealthCheckInput{
		Enabled: in.HealthCheckEnabled, Protocol: string(in.HealthCheckProtocol), Port: in.HealthCheckPort, Path: in.HealthCheckPath,
		IntervalSeconds: intp(in.HealthCheckIntervalSeconds), TimeoutSeconds: intp(in.HealthCheckTimeoutSeconds),
		HealthyThreshold: intp(in.HealthyThresholdCount), UnhealthyThreshold: intp(in.UnhealthyThresholdCount), Matcher: matcherIn(in.Matcher),
	}, tg.Protocol, tg.ProtocolVersion)
	if err != nil {
		return nil, err
	}
	res, err := a.propose(ctx, wire.ModifyTargetGroup{Meta: call.meta(), ARN: tg.ARN, HealthCheck: &hc})
	if err != nil {
		return nil, err
	}
	return &elbshape.ModifyTargetGroupResponse{TargetGroups: []elbshape.TargetGroup{a.targetGroupOut(a.cfg.State.Snapshot(), res.(*state.TargetGroup))}}, nil
}

// DeleteTargetGroup deletes a target group no rule uses.
func (a *API) DeleteTargetGroup(ctx context.Context, call *Call, in *elbshape.DeleteTargetGroupRequest) (*elbshape.DeleteTargetGroupResponse, error) {
	v, err := required(in.TargetGroupArn, "TargetGroupArn")
	if err != nil {
		return nil, err
	}
	if err := checkARN(v, "targetgroup", "target group"); err != nil {
		return nil, err
	}
	if _, err := a.propose(ctx, wire.DeleteTargetGroup{Meta: call.meta(), ARN: v}); err != nil {
		return nil, err
	}
	return &elbshape.DeleteTargetGroupResponse{}, nil
}

func tgAttributesOut(attrs []elb.Attribute) []elbshape.TargetGroupAttribute {
	out := make([]elbshape.TargetGroupAttribute, 0, len(attrs))
	for _, x := range attrs {
		out = append(out, elbshape.TargetGroupAttribute{Key: ptr(x.Key), Value: ptr(x.Value)})
	}
	return out
}

// DescribeTargetGroupAttributes returns every attribute with its value or default.
func (a *API) DescribeTargetGroupAttributes(ctx context.Context, call *Call, in *elbshape.DescribeTargetGroupAttributesRequest) (*elbshape.DescribeTargetGroupAttributesResponse, error) {
	tg, err := a.targetGroup(a.cfg.State.Snapshot(), in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	return &elbshape.DescribeTargetGroupAttributesResponse{Attributes: tgAttributesOut(elb.TargetGroupAttributes(tg.Protocol, tg.TargetType, tg.Attributes))}, nil
}

// ModifyTargetGroupAttributes sets attributes.
func (a *API) ModifyTargetGroupAttributes(ctx context.Context, call *Call, in *elbshape.ModifyTargetGroupAttributesRequest) (*elbshape.ModifyTargetGroupAttributesResponse, error) {
	tg, err := a.targetGroup(a.cfg.State.Snapshot(), in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	attrs := make([]elb.Attribute, 0, len(in.Attributes))
	set := map[string]string{}
	for _, x := range in.Attributes {
		attrs = append(attrs, elb.Attribute{Key: deref(x.Key), Value: deref(x.Value)})
		set[deref(x.Key)] = deref(x.Value)
	}
	if err := elb.ValidateTargetGroupAttributes(tg.Protocol, tg.TargetType, attrs, elb.Merge(tg.Attributes, attrs)); err != nil {
		return nil, err
	}
	res, err := a.propose(ctx, wire.ModifyTargetGroup{Meta: call.meta(), ARN: tg.ARN, Attributes: set})
	if err != nil {
		return nil, err
	}
	now := res.(*state.TargetGroup)
	return &elbshape.ModifyTargetGroupAttributesResponse{Attributes: tgAttributesOut(elb.TargetGroupAttributes(now.Protocol, now.TargetType, now.Attributes))}, nil
}

func targetsIn(in []elbshape.TargetDescription, defaultPort int) ([]elb.Target, error) {
	if len(in) == 0 {
		return nil, elb.Validationf("At least one target must be specified")
	}
	out := make([]elb.Target, 0, len(in))
	for _, t := range in {
		if t.QuicServerId != nil {
			return nil, notSupported("QuicServerId")
		}
		id := deref(t.Id)
		if id == "" {
			return nil, elb.Validationf("A target ID must be specified")
		}
		port := int(deref(t.Port))
		if t.Port == nil {
			port = defaultPort
		}
		out = append(out, elb.Target{ID: id, Port: port, AvailabilityZone: deref(t.AvailabilityZone)})
	}
	return out, nil
}

// RegisterTargets registers targets; ports default to the target group's.
func (a *API) RegisterTargets(ctx context.Context, call *Call, in *elbshape.RegisterTargetsRequest) (*elbshape.RegisterTargetsResponse, error) {
	snap := a.cfg.State.Snapshot()
	tg, err := a.targetGroup(snap, in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	targets, err := targetsIn(in.Targets, tg.Port)
	if err != nil {
		return nil, err
	}
	if len(targets) > elb.MaxTargetsPerRegisterRequest {
		return nil, elb.TooMany(elb.CodeTooManyTargets, "targets per request", elb.MaxTargetsPerRegisterRequest)
	}
	for _, t := range targets {
		switch tg.TargetType {
		case elb.TargetTypeIP:
			if err := elb.ValidateIPTarget(t.ID); err != nil {
				return nil, err
			}
		case elb.TargetTypeInstance:
			if fsm.FindInstanceByEC2ID(snap, t.ID) == nil {
				return nil, elb.Errorf(elb.CodeInvalidTarget, "The following targets are not in a running state and cannot be registered: '%s'", t.ID)
			}
		}
	}
	if _, err := a.propose(ctx, wire.RegisterTargets{Meta: call.meta(), ARN: tg.ARN, Targets: targets}); err != nil {
		return nil, err
	}
	return &elbshape.RegisterTargetsResponse{}, nil
}

// DeregisterTargets starts draining targets; unknown targets are no error.
func (a *API) DeregisterTargets(ctx context.Context, call *Call, in *elbshape.DeregisterTargetsRequest) (*elbshape.DeregisterTargetsResponse, error) {
	tg, err := a.targetGroup(a.cfg.State.Snapshot(), in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	targets, err := targetsIn(in.Targets, 0)
	if err != nil {
		return nil, err
	}
	if _, err := a.propose(ctx, wire.DeregisterTargets{Meta: call.meta(), ARN: tg.ARN, Targets: targets}); err != nil {
		return nil, err
	}
	return &elbshape.DeregisterTargetsResponse{}, nil
}

// Target health texts (C.3).
const (
	descRegistration = "Target registration is in progress"
	descDraining     = "Target deregistration is in progress"
	descNotRegisterd = "Target is not registered to the target group"
	descNotInUse     = "Target group is not configured to receive traffic from the load balancer"
	descInvalidState = "Target is in the stopped state"
)

// DescribeTargetHealth answers each registration's health (C.3).
func (a *API) DescribeTargetHealth(ctx context.Context, call *Call, in *elbshape.DescribeTargetHealthRequest) (*elbshape.DescribeTargetHealthResponse, error) {
	snap := a.cfg.State.Snapshot()
	tg, err := a.targetGroup(snap, in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	anomaly := false
	for _, inc := range in.Include {
		switch inc {
		case "AnomalyDetection":
			anomaly = true
		case "All":
			anomaly = true
		default:
			return nil, elb.Validationf("Include '%s' must be one of '[AnomalyDetection, All]'", inc)
		}
	}
	inUse := len(snap.TargetGroupLoadBalancers(tg.ARN)) > 0
	now := call.Now
	out := &elbshape.DescribeTargetHealthResponse{TargetHealthDescriptions: []elbshape.TargetHealthDescription{}}
	add := func(id string, port int, az string, reg *state.Target) {
		d := elbshape.TargetHealthDescription{Target: &elbshape.TargetDescription{Id: ptr(id), Port: ptr(int32(port))}}
		if az != "" {
			d.Target.AvailabilityZone = ptr(az)
		}
		hcPort := tg.HealthCheck.Port
		if hcPort == "traffic-port" {
			hcPort = strconv.Itoa(port)
		}
		d.HealthCheckPort = ptr(hcPort)
		state, reason, desc := a.health(snap, tg, reg, id, port, inUse)
		d.TargetHealth = &elbshape.TargetHealth{State: elbshape.TargetHealthStateEnum(state)}
		if reason != "" {
			d.TargetHealth.Reason = elbshape.TargetHealthReasonEnum(reason)
		}
		if desc != "" {
			d.TargetHealth.Description = ptr(desc)
		}
		if anomaly {
			d.AnomalyDetection = &elbshape.AnomalyDetection{Result: "normal", MitigationInEffect: "no"}
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
	}
	live := func(t *state.Target) bool { return t.DrainUntil.IsZero() || now.Before(t.DrainUntil) }
	if len(in.Targets) == 0 {
		snap.Targets(tg.ARN, func(t *state.Target) bool {
			if live(t) {
				add(t.ID, t.Port, t.AvailabilityZone, t)
			}
			return true
		})
		return out, nil
	}
	targets, err := targetsIn(in.Targets, 0)
	if err != nil {
		return nil, err
	}
	for _, q := range targets {
		found := false
		snap.Targets(tg.ARN, func(t *state.Target) bool {
			if t.ID == q.ID && (q.Port == 0 || q.Port == t.Port) && live(t) {
				found = true
				add(t.ID, t.Port, t.AvailabilityZone, t)
			}
			return true
		})
		if !found {
			port := q.Port
			if port == 0 {
				port = tg.Port
			}
			add(q.ID, port, q.AvailabilityZone, nil)
		}
	}
	return out, nil
}

// health is one registration's state, reason and description.
func (a *API) health(snap *state.Snapshot, tg *state.TargetGroup, reg *state.Target, id string, port int, inUse bool) (string, string, string) {
	switch {
	case reg == nil:
		return "unused", "Target.NotRegistered", descNotRegisterd
	case !reg.DrainUntil.IsZero():
		return "draining", "Target.DeregistrationInProgress", descDraining
	case tg.TargetType == elb.TargetTypeInstance && fsm.FindInstanceByEC2ID(snap, id) == nil:
		return "unused", "Target.InvalidState", descInvalidState
	case !inUse:
		return "unused", "Target.NotInUse", descNotInUse
	}
	if a.cfg.Health != nil {
		if h, ok := a.cfg.Health.TargetHealth(tg.ARN, id, port); ok {
			if h.State == lbconfig.HealthHealthy {
				return h.State, "", ""
			}
			return h.State, h.Reason, h.Description
		}
	}
	return "initial", "Elb.RegistrationInProgress", descRegistration
}
