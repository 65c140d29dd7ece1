package elbapi

import (
	"context"
	"strconv"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/elbshape"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// CreateRule creates a listener rule.
func (a *API) CreateRule(ctx context.Context, call *Call, in *elbshape.CreateRuleRequest) (*elbshape.CreateRuleResponse, error) {
	l, _, err := a.listener(a.cfg.State.Snapshot(), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	if len(in.Transforms) > 0 {
		return nil, notSupported("Transforms")
	}
	if in.Priority == nil {
		return nil, elb.Validationf("A priority must be specified")
	}
	conditions, err := conditionsIn(in.Conditions)
	if err != nil {
		return nil, err
	}
	if _, err := elb.NormalizeConditions(conditions); err != nil {
		return nil, err
	}
	actions, err := actionsIn(in.Actions)
	if err != nil {
		return nil, err
	}
	tags, err := tagsIn(in.Tags)
	if err != nil {
		return nil, err
	}
	res, err := a.propose(ctx, wire.CreateRule{Meta: call.meta(), ID: a.cfg.NewID(), ListenerARN: l.ARN, Priority: int(*in.Priority),
		Conditions: conditions, Actions: actions, Tags: tags})
	if err != nil {
		return nil, err
	}
	return &elbshape.CreateRuleResponse{Rules: []elbshape.Rule{ruleOut(res.(*state.Rule))}}, nil
}

// DescribeRules describes rules by ARN or of a listener (default rule last), paged.
func (a *API) DescribeRules(ctx context.Context, call *Call, in *elbshape.DescribeRulesRequest) (*elbshape.DescribeRulesResponse, error) {
	if (len(in.RuleArns) > 0) == (in.ListenerArn != nil) {
		return nil, elb.Validationf("You must specify either rule ARNs or a listener ARN")
	}
	snap := a.cfg.State.Snapshot()
	var rules []*state.Rule
	if in.ListenerArn != nil {
		if snap.Listener(*in.ListenerArn) == nil {
			return nil, elb.ListenersNotFound()
		}
		snap.Rules(*in.ListenerArn, func(r *state.Rule) bool { rules = append(rules, r); return true })
		SortRules(rules)
	} else {
		for _, v := range in.RuleArns {
			r := snap.Rule(v)
			if r == nil {
				return nil, elb.RulesNotFound()
			}
			rules = append(rules, r)
		}
	}
	// Pages follow the listing order: the marker is the position.
	n, err := pageSize(in.PageSize)
	if err != nil {
		return nil, err
	}
	start := 0
	if m, err := decodeMarker(in.Marker); err != nil {
		return nil, err
	} else if m != "" {
		if start, err = strconv.Atoi(m); err != nil || start < 0 || start > len(rules) {
			return nil, elb.Validationf("The marker '%s' is not valid", *in.Marker)
		}
	}
	rules = rules[start:]
	out := &elbshape.DescribeRulesResponse{Rules: []elbshape.Rule{}}
	if len(rules) > n {
		rules = rules[:n]
		out.NextMarker = encodeMarker(strconv.Itoa(start + n))
	}
	for _, r := range rules {
		out.Rules = append(out.Rules, ruleOut(r))
	}
	return out, nil
}

// ModifyRule replaces a rule's conditions and/or actions.
func (a *API) ModifyRule(ctx context.Context, call *Call, in *elbshape.ModifyRuleRequest) (*elbshape.ModifyRuleResponse, error) {
	v, err := required(in.RuleArn, "RuleArn")
	if err != nil {
		return nil, err
	}
	if len(in.Transforms) > 0 || deref(in.ResetTransforms) {
		return nil, notSupported("Transforms")
	}
	cmd := wire.ModifyRule{Meta: call.meta(), ARN: v}
	if len(in.Conditions) > 0 {
		if cmd.Conditions, err = conditionsIn(in.Conditions); err != nil {
			return nil, err
		}
	}
	if len(in.Actions) > 0 {
		if cmd.Actions, err = actionsIn(in.Actions); err != nil {
			return nil, err
		}
	}
	res, err := a.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return &elbshape.ModifyRuleResponse{Rules: []elbshape.Rule{ruleOut(res.(*state.Rule))}}, nil
}

// SetRulePriorities changes rule priorities atomically.
func (a *API) SetRulePriorities(ctx context.Context, call *Call, in *elbshape.SetRulePrioritiesRequest) (*elbshape.SetRulePrioritiesResponse, error) {
	cmd := wire.SetRulePriorities{Meta: call.meta()}
	for _, p := range in.RulePriorities {
		if p.RuleArn == nil || p.Priority == nil {
			return nil, elb.Validationf("A rule ARN and a priority must be specified")
		}
		cmd.Priorities = append(cmd.Priorities, wire.RulePriority{ARN: *p.RuleArn, Priority: int(*p.Priority)})
	}
	res, err := a.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := &elbshape.SetRulePrioritiesResponse{Rules: []elbshape.Rule{}}
	for _, r := range res.([]*state.Rule) {
		out.Rules = append(out.Rules, ruleOut(r))
	}
	return out, nil
}

// DeleteRule deletes a non-default rule.
func (a *API) DeleteRule(ctx context.Context, call *Call, in *elbshape.DeleteRuleRequest) (*elbshape.DeleteRuleResponse, error) {
	v, err := required(in.RuleArn, "RuleArn")
	if err != nil {
		return nil, err
	}
	if _, err := a.propose(ctx, wire.DeleteRule{Meta: call.meta(), ARN: v}); err != nil {
		return nil, err
	}
	return &elbshape.DeleteRuleResponse{}, nil
}
