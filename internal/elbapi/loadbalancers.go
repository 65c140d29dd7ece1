package elbapi

import (
	"context"
	"errors"
	"slices"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/elbshape"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// CreateLoadBalancer creates an application or network load balancer.
func (a *API) CreateLoadBalancer(ctx context.Context, call *Call, in *elbshape.CreateLoadBalancerRequest) (*elbshape.CreateLoadBalancerResponse, error) {
	switch {
	case in.CustomerOwnedIpv4Pool != nil:
		return nil, notSupported("CustomerOwnedIpv4Pool")
	case in.IpamPools != nil:
		return nil, notSupported("IpamPools")
	case in.EnablePrefixForIpv6SourceNat != "" && in.EnablePrefixForIpv6SourceNat != "off":
		return nil, notSupported("EnablePrefixForIpv6SourceNat")
	}
	subnets, err := subnetsIn(in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	v, err := elb.ValidateLoadBalancer(elb.LoadBalancerInput{Name: deref(in.Name), Type: string(in.Type), Scheme: string(in.Scheme),
		IPAddressType: string(in.IpAddressType), Subnets: subnets, SecurityGroups: in.SecurityGroups})
	if err != nil {
		return nil, err
	}
	tags, err := tagsIn(in.Tags)
	if err != nil {
		return nil, err
	}
	cmd := wire.CreateLoadBalancer{Meta: call.meta(), ID: a.cfg.NewID(), Name: v.Name, LBType: v.Type, Scheme: v.Scheme,
		IPAddressType: v.IPAddressType, Subnets: subnets, SecurityGroups: in.SecurityGroups, Tags: tags}
	var res any
	for attempt := 0; attempt < 2; attempt++ {
		snap := a.cfg.State.Snapshot()
		if old := snap.LoadBalancerByName(v.Name); old != nil {
			cmd.Address = old.Address // idempotent create: the applier answers
		} else if cmd.Address, err = a.pickAddress(snap); err != nil {
			return nil, err
		}
		res, err = a.propose(ctx, cmd)
		if !errors.Is(err, fsm.ErrAddressTaken) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return &elbshape.CreateLoadBalancerResponse{LoadBalancers: []elbshape.LoadBalancer{a.loadBalancerOut(res.(*state.LoadBalancer))}}, nil
}

func subnetsIn(subnets []string, mappings []elbshape.SubnetMapping) ([]string, error) {
	if len(subnets) > 0 && len(mappings) > 0 {
		return nil, elb.Validationf("You can specify subnets or subnet mappings, not both")
	}
	if len(mappings) == 0 {
		return subnets, nil
	}
	out := make([]string, 0, len(mappings))
	for _, m := range mappings {
		if m.AllocationId != nil || m.PrivateIPv4Address != nil || m.IPv6Address != nil || m.SourceNatIpv6Prefix != nil {
			return nil, notSupported("SubnetMappings with AllocationId, PrivateIPv4Address, IPv6Address or SourceNatIpv6Prefix")
		}
		out = append(out, deref(m.SubnetId))
	}
	return out, nil
}

// DescribeLoadBalancers describes load balancers by ARN, by name, or all of them, paged.
func (a *API) DescribeLoadBalancers(ctx context.Context, call *Call, in *elbshape.DescribeLoadBalancersRequest) (*elbshape.DescribeLoadBalancersResponse, error) {
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, elb.Validationf("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	if len(in.LoadBalancerArns) > 20 {
		return nil, elb.Validationf("A maximum of 20 load balancer ARNs can be specified")
	}
	snap := a.cfg.State.Snapshot()
	var lbs []*state.LoadBalancer
	switch {
	case len(in.LoadBalancerArns) > 0:
		for _, arnValue := range in.LoadBalancerArns {
			lb := snap.LoadBalancer(arnValue)
			if lb == nil {
				return nil, elb.LoadBalancersNotFound()
			}
			lbs = append(lbs, lb)
		}
	case len(in.Names) > 0:
		var missing []string
		for _, n := range in.Names {
			if lb := snap.LoadBalancerByName(n); lb != nil {
				lbs = append(lbs, lb)
			} else {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return nil, elb.LoadBalancersNotFound(missing...)
		}
	default:
		snap.LoadBalancers(func(lb *state.LoadBalancer) bool { lbs = append(lbs, lb); return true })
	}
	lbs, next, err := page(lbs, func(l *state.LoadBalancer) string { return l.ARN }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbshape.DescribeLoadBalancersResponse{LoadBalancers: []elbshape.LoadBalancer{}, NextMarker: next}
	for _, lb := range lbs {
		out.LoadBalancers = append(out.LoadBalancers, a.loadBalancerOut(lb))
	}
	return out, nil
}

// DeleteLoadBalancer deletes a load balancer (a missing one is no error).
func (a *API) DeleteLoadBalancer(ctx context.Context, call *Call, in *elbshape.DeleteLoadBalancerRequest) (*elbshape.DeleteLoadBalancerResponse, error) {
	arnValue, err := required(in.LoadBalancerArn, "LoadBalancerArn")
	if err != nil {
		return nil, err
	}
	if err := checkARN(arnValue, "loadbalancer", "load balancer"); err != nil {
		return nil, err
	}
	if _, err := a.propose(ctx, wire.DeleteLoadBalancer{Meta: call.meta(), ARN: arnValue}); err != nil {
		return nil, err
	}
	return &elbshape.DeleteLoadBalancerResponse{}, nil
}

func (a *API) loadBalancer(snap *state.Snapshot, arnValue *string) (*state.LoadBalancer, error) {
	v, err := required(arnValue, "LoadBalancerArn")
	if err != nil {
		return nil, err
	}
	lb := snap.LoadBalancer(v)
	if lb == nil {
		return nil, elb.LoadBalancerNotFound(v)
	}
	return lb, nil
}

func lbAttributesOut(attrs []elb.Attribute) []elbshape.LoadBalancerAttribute {
	out := make([]elbshape.LoadBalancerAttribute, 0, len(attrs))
	for _, x := range attrs {
		out = append(out, elbshape.LoadBalancerAttribute{Key: ptr(x.Key), Value: ptr(x.Value)})
	}
	return out
}

// DescribeLoadBalancerAttributes returns every attribute with its value or default.
func (a *API) DescribeLoadBalancerAttributes(ctx context.Context, call *Call, in *elbshape.DescribeLoadBalancerAttributesRequest) (*elbshape.DescribeLoadBalancerAttributesResponse, error) {
	lb, err := a.loadBalancer(a.cfg.State.Snapshot(), in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	return &elbshape.DescribeLoadBalancerAttributesResponse{Attributes: lbAttributesOut(elb.LoadBalancerAttributes(lb.Type, lb.Attributes))}, nil
}

// ModifyLoadBalancerAttributes sets attributes and answers those it set.
func (a *API) ModifyLoadBalancerAttributes(ctx context.Context, call *Call, in *elbshape.ModifyLoadBalancerAttributesRequest) (*elbshape.ModifyLoadBalancerAttributesResponse, error) {
	lb, err := a.loadBalancer(a.cfg.State.Snapshot(), in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	attrs := make([]elb.Attribute, 0, len(in.Attributes))
	set := map[string]string{}
	for _, x := range in.Attributes {
		attrs = append(attrs, elb.Attribute{Key: deref(x.Key), Value: deref(x.Value)})
		set[deref(x.Key)] = deref(x.Value)
	}
	if err := elb.ValidateLoadBalancerAttributes(lb.Type, attrs); err != nil {
		return nil, err
	}
	res, err := a.propose(ctx, wire.ModifyLoadBalancer{Meta: call.meta(), ARN: lb.ARN, Attributes: set})
	if err != nil {
		return nil, err
	}
	now := res.(*state.LoadBalancer)
	return &elbshape.ModifyLoadBalancerAttributesResponse{Attributes: lbAttributesOut(elb.LoadBalancerAttributes(now.Type, now.Attributes))}, nil
}

// SetSubnets replaces a load balancer's subnets (stored and echoed).
func (a *API) SetSubnets(ctx context.Context, call *Call, in *elbshape.SetSubnetsRequest) (*elbshape.SetSubnetsResponse, error) {
	lb, err := a.loadBalancer(a.cfg.State.Snapshot(), in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	if in.EnablePrefixForIpv6SourceNat != "" && in.EnablePrefixForIpv6SourceNat != "off" {
		return nil, notSupported("EnablePrefixForIpv6SourceNat")
	}
	subnets, err := subnetsIn(in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	if subnets == nil {
		subnets = []string{}
	}
	cmd := wire.ModifyLoadBalancer{Meta: call.meta(), ARN: lb.ARN, Subnets: subnets}
	if in.IpAddressType != "" {
		cmd.IPAddressType = string(in.IpAddressType)
	}
	res, err := a.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := a.loadBalancerOut(res.(*state.LoadBalancer))
	return &elbshape.SetSubnetsResponse{AvailabilityZones: out.AvailabilityZones, IpAddressType: out.IpAddressType}, nil
}

// SetSecurityGroups replaces a load balancer's security groups (stored and echoed).
func (a *API) SetSecurityGroups(ctx context.Context, call *Call, in *elbshape.SetSecurityGroupsRequest) (*elbshape.SetSecurityGroupsResponse, error) {
	lb, err := a.loadBalancer(a.cfg.State.Snapshot(), in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	if in.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic != "" {
		return nil, notSupported("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
	}
	groups := slices.Clone(in.SecurityGroups)
	if groups == nil {
		groups = []string{}
	}
	res, err := a.propose(ctx, wire.ModifyLoadBalancer{Meta: call.meta(), ARN: lb.ARN, SecurityGroups: &groups})
	if err != nil {
		return nil, err
	}
	return &elbshape.SetSecurityGroupsResponse{SecurityGroupIds: append([]string{}, res.(*state.LoadBalancer).SecurityGroups...)}, nil
}

// SetIpAddressType sets a load balancer's IP address type (ipv4 only).
func (a *API) SetIpAddressType(ctx context.Context, call *Call, in *elbshape.SetIpAddressTypeRequest) (*elbshape.SetIpAddressTypeResponse, error) {
	lb, err := a.loadBalancer(a.cfg.State.Snapshot(), in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	if in.IpAddressType == "" {
		return nil, elb.Validationf("An IP address type must be specified")
	}
	res, err := a.propose(ctx, wire.ModifyLoadBalancer{Meta: call.meta(), ARN: lb.ARN, IPAddressType: string(in.IpAddressType)})
	if err != nil {
		return nil, err
	}
	return &elbshape.SetIpAddressTypeResponse{IpAddressType: elbshape.IpAddressType(res.(*state.LoadBalancer).IPAddressType)}, nil
}

// DescribeCapacityReservation answers an empty reservation (berth has no
// capacity units), as Terraform reads it for every ALB and NLB.
func (a *API) DescribeCapacityReservation(ctx context.Context, call *Call, in *elbshape.DescribeCapacityReservationRequest) (*elbshape.DescribeCapacityReservationResponse, error) {
	if _, err := a.loadBalancer(a.cfg.State.Snapshot(), in.LoadBalancerArn); err != nil {
		return nil, err
	}
	return &elbshape.DescribeCapacityReservationResponse{CapacityReservationState: []elbshape.ZonalCapacityReservationState{}, DecreaseRequestsRemaining: ptr(int32(0))}, nil
}
