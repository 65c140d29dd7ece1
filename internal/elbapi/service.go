package elbapi

import (
	"context"
	"slices"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/elbshape"
)

// Protocol facts of the ELBv2 API.
const (
	SigningName  = "elasticloadbalancing"
	Version      = "2015-12-01"
	XMLNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// op adapts a handler to the edge: the edge decodes the form strictly into
// In and encodes Out.
func op[In, Out any](f func(ctx context.Context, call *Call, in *In) (*Out, error)) awsproto.Operation {
	return awsproto.Handle(func(ctx context.Context, req *awsproto.Request, in *In) (*Out, error) {
		return f(ctx, &Call{Principal: req.Principal, Now: req.Now}, in)
	})
}

// Operations returns the served operations by name.
func (a *API) Operations() map[string]awsproto.Operation {
	return map[string]awsproto.Operation{
		"CreateLoadBalancer":             op(a.CreateLoadBalancer),
		"DescribeLoadBalancers":          op(a.DescribeLoadBalancers),
		"DeleteLoadBalancer":             op(a.DeleteLoadBalancer),
		"DescribeLoadBalancerAttributes": op(a.DescribeLoadBalancerAttributes),
		"ModifyLoadBalancerAttributes":   op(a.ModifyLoadBalancerAttributes),
		"SetSubnets":                     op(a.SetSubnets),
		"SetSecurityGroups":              op(a.SetSecurityGroups),
		"SetIpAddressType":               op(a.SetIpAddressType),
		"DescribeCapacityReservation":    op(a.DescribeCapacityReservation),
		"CreateTargetGroup":              op(a.CreateTargetGroup),
		"DescribeTargetGroups":           op(a.DescribeTargetGroups),
		"ModifyTargetGroup":              op(a.ModifyTargetGroup),
		"DeleteTargetGroup":              op(a.DeleteTargetGroup),
		"DescribeTargetGroupAttributes":  op(a.DescribeTargetGroupAttributes),
		"ModifyTargetGroupAttributes":    op(a.ModifyTargetGroupAttributes),
		"RegisterTargets":                op(a.RegisterTargets),
		"DeregisterTargets":              op(a.DeregisterTargets),
		"DescribeTargetHealth":           op(a.DescribeTargetHealth),
		"CreateListener":                 op(a.CreateListener),
		"DescribeListeners":              op(a.DescribeListeners),
		"ModifyListener":                 op(a.ModifyListener),
		"DeleteListener":                 op(a.DeleteListener),
		"DescribeListenerAttributes":     op(a.DescribeListenerAttributes),
		"ModifyListenerAttributes":       op(a.ModifyListenerAttributes),
		"AddListenerCertificates":        op(a.AddListenerCertificates),
		"RemoveListenerCertificates":     op(a.RemoveListenerCertificates),
		"DescribeListenerCertificates":   op(a.DescribeListenerCertificates),
		"CreateRule":                     op(a.CreateRule),
		"DescribeRules":                  op(a.DescribeRules),
		"ModifyRule":                     op(a.ModifyRule),
		"SetRulePriorities":              op(a.SetRulePriorities),
		"DeleteRule":                     op(a.DeleteRule),
		"AddTags":                        op(a.AddTags),
		"RemoveTags":                     op(a.RemoveTags),
		"DescribeTags":                   op(a.DescribeTags),
		"DescribeSSLPolicies":            op(a.DescribeSSLPolicies),
		"DescribeAccountLimits":          op(a.DescribeAccountLimits),
	}
}

// Service is the ELBv2 API on the protocol edge; the model's other
// operations are answered as not supported yet.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "ELBv2", SigningName: SigningName, Protocol: awsproto.Query, Version: Version, XMLNamespace: XMLNamespace,
		Operations: a.Operations(),
		Known:      func(name string) bool { return slices.Contains(elbshape.Operations, name) },
		MapError:   mapError,
	}
}

func mapError(err error) (*awsproto.Error, bool) {
	e, ok := ErrorFor(err)
	if !ok {
		return nil, false
	}
	return awsproto.WithStatus(e.HTTPStatus(), e.Code, e.Message), true
}
