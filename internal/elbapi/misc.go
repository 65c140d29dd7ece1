package elbapi

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/elbshape"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

func checkResources(arns []string, max int) error {
	if len(arns) == 0 {
		return elb.Validationf("At least one resource ARN must be specified")
	}
	if len(arns) > max {
		return elb.Validationf("A maximum of %d resource ARNs can be specified", max)
	}
	return nil
}

// AddTags adds or replaces tags on load balancers, target groups, listeners and rules.
func (a *API) AddTags(ctx context.Context, call *Call, in *elbshape.AddTagsRequest) (*elbshape.AddTagsResponse, error) {
	if err := checkResources(in.ResourceArns, 20); err != nil {
		return nil, err
	}
	tags, err := tagsIn(in.Tags)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, elb.Validationf("At least one tag must be specified")
	}
	if _, err := a.propose(ctx, wire.AddELBTags{Meta: call.meta(), ARNs: in.ResourceArns, Tags: tags}); err != nil {
		return nil, err
	}
	return &elbshape.AddTagsResponse{}, nil
}

// RemoveTags removes tag keys.
func (a *API) RemoveTags(ctx context.Context, call *Call, in *elbshape.RemoveTagsRequest) (*elbshape.RemoveTagsResponse, error) {
	if err := checkResources(in.ResourceArns, 20); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, elb.Validationf("At least one tag key must be specified")
	}
	if _, err := a.propose(ctx, wire.RemoveELBTags{Meta: call.meta(), ARNs: in.ResourceArns, Keys: in.TagKeys}); err != nil {
		return nil, err
	}
	return &elbshape.RemoveTagsResponse{}, nil
}

// DescribeTags returns the tags of up to 20 resources.
func (a *API) DescribeTags(ctx context.Context, call *Call, in *elbshape.DescribeTagsRequest) (*elbshape.DescribeTagsResponse, error) {
	if err := checkResources(in.ResourceArns, 20); err != nil {
		return nil, err
	}
	snap := a.cfg.State.Snapshot()
	out := &elbshape.DescribeTagsResponse{TagDescriptions: []elbshape.TagDescription{}}
	for _, v := range in.ResourceArns {
		tags, err := tagsOf(snap, v)
		if err != nil {
			return nil, err
		}
		out.TagDescriptions = append(out.TagDescriptions, elbshape.TagDescription{ResourceArn: ptr(v), Tags: tagsOut(tags)})
	}
	return out, nil
}

func tagsOf(snap *state.Snapshot, v string) ([]elb.Tag, error) {
	switch elb.ARNKind(v) {
	case "loadbalancer":
		if lb := snap.LoadBalancer(v); lb != nil {
			return lb.Tags, nil
		}
		return nil, elb.LoadBalancerNotFound(v)
	case "targetgroup":
		if tg := snap.TargetGroup(v); tg != nil {
			return tg.Tags, nil
		}
		return nil, elb.TargetGroupNotFound(v)
	case "listener":
		if l := snap.Listener(v); l != nil {
			return l.Tags, nil
		}
		return nil, elb.ListenerNotFound(v)
	case "listener-rule":
		if r := snap.Rule(v); r != nil {
			return r.Tags, nil
		}
		return nil, elb.RuleNotFound(v)
	}
	return nil, elb.Validationf("'%s' is not a valid load balancer, target group, listener or rule ARN", v)
}

// DescribeSSLPolicies lists the security policies berth supports.
func (a *API) DescribeSSLPolicies(ctx context.Context, call *Call, in *elbshape.DescribeSSLPoliciesRequest) (*elbshape.DescribeSSLPoliciesResponse, error) {
	var policies []elb.SSLPolicy
	if len(in.Names) > 0 {
		for _, n := range in.Names {
			p := elb.FindSSLPolicy(n)
			if p == nil {
				return nil, elb.Errorf(elb.CodeSSLPolicyNotFound, "SSL policy '%s' not found", n)
			}
			policies = append(policies, *p)
		}
	} else {
		policies = elb.SSLPolicies
	}
	if lt := string(in.LoadBalancerType); lt != "" && lt != elb.TypeApplication && lt != elb.TypeNetwork {
		return nil, elb.Validationf("Load balancer type '%s' must be one of '[application, network]'", lt)
	}
	policies = slices.Clone(policies)
	slices.SortFunc(policies, func(x, y elb.SSLPolicy) int { return strings.Compare(x.Name, y.Name) })
	policies, next, err := page(policies, func(p elb.SSLPolicy) string { return p.Name }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbshape.DescribeSSLPoliciesResponse{SslPolicies: []elbshape.SslPolicy{}, NextMarker: next}
	for _, p := range policies {
		sp := elbshape.SslPolicy{Name: ptr(p.Name), SslProtocols: p.Protocols, SupportedLoadBalancerTypes: []string{elb.TypeApplication, elb.TypeNetwork}}
		for i, c := range p.Ciphers {
			sp.Ciphers = append(sp.Ciphers, elbshape.Cipher{Name: ptr(c), Priority: ptr(int32(i + 1))})
		}
		out.SslPolicies = append(out.SslPolicies, sp)
	}
	return out, nil
}

// DescribeAccountLimits lists the quotas berth enforces or reports.
func (a *API) DescribeAccountLimits(ctx context.Context, call *Call, in *elbshape.DescribeAccountLimitsRequest) (*elbshape.DescribeAccountLimitsResponse, error) {
	limits := slices.Clone(elb.AccountLimits)
	slices.SortFunc(limits, func(x, y elb.Limit) int { return strings.Compare(x.Name, y.Name) })
	limits, next, err := page(limits, func(l elb.Limit) string { return l.Name }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbshape.DescribeAccountLimitsResponse{Limits: []elbshape.Limit{}, NextMarker: next}
	for _, l := range limits {
		out.Limits = append(out.Limits, elbshape.Limit{Name: ptr(l.Name), Max: ptr(strconv.Itoa(l.Max))})
	}
	return out, nil
}
