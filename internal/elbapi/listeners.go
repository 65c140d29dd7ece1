package elbapi

import (
	"context"
	"strings"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/elbshape"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// checkCertificate refuses a certificate the CertificateSource does not know.
func (a *API) checkCertificate(arnValue string) error {
	if !strings.HasPrefix(arnValue, "arn:aws:acm:") && !strings.Contains(arnValue, ":acm:") {
		return elb.Errorf(elb.CodeCertificateNotFound, "Certificate '%s' not found", arnValue)
	}
	if a.cfg.Certificates == nil {
		return elb.Errorf(elb.CodeCertificateNotFound, "Certificate '%s' not found", arnValue)
	}
	if _, _, ok := a.cfg.Certificates.Certificate(arnValue); !ok {
		return elb.Errorf(elb.CodeCertificateNotFound, "Certificate '%s' not found", arnValue)
	}
	return nil
}

func (a *API) certificatesIn(in []elbshape.Certificate) ([]string, error) {
	var out []string
	for _, c := range in {
		v := deref(c.CertificateArn)
		if v == "" {
			return nil, elb.Validationf("A certificate ARN must be specified")
		}
		if err := a.checkCertificate(v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func mutualAuthOff(m *elbshape.MutualAuthenticationAttributes) bool {
	return m == nil || m.Mode == nil || *m.Mode == "off"
}

// CreateListener creates a listener with its default rule.
func (a *API) CreateListener(ctx context.Context, call *Call, in *elbshape.CreateListenerRequest) (*elbshape.CreateListenerResponse, error) {
	snap := a.cfg.State.Snapshot()
	lb, err := a.loadBalancer(snap, in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	if !mutualAuthOff(in.MutualAuthentication) {
		return nil, notSupported("MutualAuthentication")
	}
	if len(in.DefaultActions) == 0 {
		return nil, elb.Validationf("A default action must be specified")
	}
	certs, err := a.certificatesIn(in.Certificates)
	if err != nil {
		return nil, err
	}
	port := int(deref(in.Port))
	if _, err := elb.ValidateListener(elb.ListenerInput{LBType: lb.Type, Protocol: string(in.Protocol), Port: port,
		SSLPolicy: deref(in.SslPolicy), Certificates: certs, ALPNPolicy: in.AlpnPolicy}); err != nil {
		return nil, err
	}
	actions, err := actionsIn(in.DefaultActions)
	if err != nil {
		return nil, err
	}
	tags, err := tagsIn(in.Tags)
	if err != nil {
		return nil, err
	}
	res, err := a.propose(ctx, wire.CreateListener{Meta: call.meta(), ID: a.cfg.NewID(), RuleID: a.cfg.NewID(), LoadBalancerARN: lb.ARN,
		Port: port, Protocol: string(in.Protocol), SSLPolicy: deref(in.SslPolicy), Certificates: certs, ALPNPolicy: in.AlpnPolicy,
		DefaultActions: actions, Tags: tags})
	if err != nil {
		return nil, err
	}
	return &elbshape.CreateListenerResponse{Listeners: []elbshape.Listener{a.listenerOut(a.cfg.State.Snapshot(), res.(*state.Listener))}}, nil
}

// DescribeListeners describes listeners by ARN or of a load balancer, paged.
func (a *API) DescribeListeners(ctx context.Context, call *Call, in *elbshape.DescribeListenersRequest) (*elbshape.DescribeListenersResponse, error) {
	if (len(in.ListenerArns) > 0) == (in.LoadBalancerArn != nil) {
		return nil, elb.Validationf("You must specify either listener ARNs or a load balancer ARN")
	}
	snap := a.cfg.State.Snapshot()
	var ls []*state.Listener
	if in.LoadBalancerArn != nil {
		if snap.LoadBalancer(*in.LoadBalancerArn) == nil {
			return nil, elb.LoadBalancersNotFound()
		}
		snap.Listeners(*in.LoadBalancerArn, func(l *state.Listener) bool { ls = append(ls, l); return true })
	} else {
		for _, v := range in.ListenerArns {
			l := snap.Listener(v)
			if l == nil {
				return nil, elb.ListenersNotFound()
			}
			ls = append(ls, l)
		}
	}
	ls, next, err := page(ls, func(l *state.Listener) string { return l.ARN }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbshape.DescribeListenersResponse{Listeners: []elbshape.Listener{}, NextMarker: next}
	for _, l := range ls {
		out.Listeners = append(out.Listeners, a.listenerOut(snap, l))
	}
	return out, nil
}

func (a *API) listener(snap *state.Snapshot, arnValue *string) (*state.Listener, *state.LoadBalancer, error) {
	v, err := required(arnValue, "ListenerArn")
	if err != nil {
		return nil, nil, err
	}
	l := snap.Listener(v)
	if l == nil {
		return nil, nil, elb.ListenerNotFound(v)
	}
	lb := snap.LoadBalancer(l.LoadBalancerARN)
	if lb == nil {
		return nil, nil, elb.ListenerNotFound(v)
	}
	return l, lb, nil
}

// ModifyListener changes a listener's port, protocol, certificate, policies or default actions.
func (a *API) ModifyListener(ctx context.Context, call *Call, in *elbshape.ModifyListenerRequest) (*elbshape.ModifyListenerResponse, error) {
	l, _, err := a.listener(a.cfg.State.Snapshot(), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	if !mutualAuthOff(in.MutualAuthentication) {
		return nil, notSupported("MutualAuthentication")
	}
	certs, err := a.certificatesIn(in.Certificates)
	if err != nil {
		return nil, err
	}
	var actions []elb.Action
	if len(in.DefaultActions) > 0 {
		if actions, err = actionsIn(in.DefaultActions); err != nil {
			return nil, err
		}
	}
	res, err := a.propose(ctx, wire.ModifyListener{Meta: call.meta(), ARN: l.ARN, Port: int(deref(in.Port)), Protocol: string(in.Protocol),
		SSLPolicy: deref(in.SslPolicy), Certificates: certs, ALPNPolicy: in.AlpnPolicy, DefaultActions: actions})
	if err != nil {
		return nil, err
	}
	return &elbshape.ModifyListenerResponse{Listeners: []elbshape.Listener{a.listenerOut(a.cfg.State.Snapshot(), res.(*state.Listener))}}, nil
}

// DeleteListener deletes a listener and its rules.
func (a *API) DeleteListener(ctx context.Context, call *Call, in *elbshape.DeleteListenerRequest) (*elbshape.DeleteListenerResponse, error) {
	v, err := required(in.ListenerArn, "ListenerArn")
	if err != nil {
		return nil, err
	}
	if _, err := a.propose(ctx, wire.DeleteListener{Meta: call.meta(), ARN: v}); err != nil {
		return nil, err
	}
	return &elbshape.DeleteListenerResponse{}, nil
}

func listenerAttributesOut(attrs []elb.Attribute) []elbshape.ListenerAttribute {
	out := make([]elbshape.ListenerAttribute, 0, len(attrs))
	for _, x := range attrs {
		out = append(out, elbshape.ListenerAttribute{Key: ptr(x.Key), Value: ptr(x.Value)})
	}
	return out
}

// DescribeListenerAttributes returns a listener's attributes (tcp.idle_timeout.seconds on NLB TCP listeners).
func (a *API) DescribeListenerAttributes(ctx context.Context, call *Call, in *elbshape.DescribeListenerAttributesRequest) (*elbshape.DescribeListenerAttributesResponse, error) {
	l, lb, err := a.listener(a.cfg.State.Snapshot(), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	return &elbshape.DescribeListenerAttributesResponse{Attributes: listenerAttributesOut(elb.ListenerAttributes(lb.Type, l.Protocol, l.Attributes))}, nil
}

// ModifyListenerAttributes sets a listener's attributes.
func (a *API) ModifyListenerAttributes(ctx context.Context, call *Call, in *elbshape.ModifyListenerAttributesRequest) (*elbshape.ModifyListenerAttributesResponse, error) {
	l, lb, err := a.listener(a.cfg.State.Snapshot(), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	attrs := make([]elb.Attribute, 0, len(in.Attributes))
	set := map[string]string{}
	for _, x := range in.Attributes {
		attrs = append(attrs, elb.Attribute{Key: deref(x.Key), Value: deref(x.Value)})
		set[deref(x.Key)] = deref(x.Value)
	}
	if err := elb.ValidateListenerAttributes(lb.Type, l.Protocol, attrs); err != nil {
		return nil, err
	}
	res, err := a.propose(ctx, wire.ModifyListener{Meta: call.meta(), ARN: l.ARN, Attributes: set})
	if err != nil {
		return nil, err
	}
	now := res.(*state.Listener)
	return &elbshape.ModifyListenerAttributesResponse{Attributes: listenerAttributesOut(elb.ListenerAttributes(lb.Type, now.Protocol, now.Attributes))}, nil
}

// AddListenerCertificates adds SNI certificates to an HTTPS or TLS listener.
func (a *API) AddListenerCertificates(ctx context.Context, call *Call, in *elbshape.AddListenerCertificatesRequest) (*elbshape.AddListenerCertificatesResponse, error) {
	l, _, err := a.listener(a.cfg.State.Snapshot(), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	certs, err := a.certificatesIn(in.Certificates)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, elb.Validationf("At least one certificate must be specified")
	}
	if _, err := a.propose(ctx, wire.ModifyListener{Meta: call.meta(), ARN: l.ARN, AddCertificates: certs}); err != nil {
		return nil, err
	}
	out := &elbshape.AddListenerCertificatesResponse{}
	for _, c := range certs {
		out.Certificates = append(out.Certificates, elbshape.Certificate{CertificateArn: ptr(c), IsDefault: ptr(false)})
	}
	return out, nil
}

// RemoveListenerCertificates removes SNI certificates.
func (a *API) RemoveListenerCertificates(ctx context.Context, call *Call, in *elbshape.RemoveListenerCertificatesRequest) (*elbshape.RemoveListenerCertificatesResponse, error) {
	l, _, err := a.listener(a.cfg.State.Snapshot(), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	var certs []string
	for _, c := range in.Certificates {
		certs = append(certs, deref(c.CertificateArn))
	}
	if len(certs) == 0 {
		return nil, elb.Validationf("At least one certificate must be specified")
	}
	if _, err := a.propose(ctx, wire.ModifyListener{Meta: call.meta(), ARN: l.ARN, RemoveCertificates: certs}); err != nil {
		return nil, err
	}
	return &elbshape.RemoveListenerCertificatesResponse{}, nil
}

// DescribeListenerCertificates lists a listener's certificates, the default marked.
func (a *API) DescribeListenerCertificates(ctx context.Context, call *Call, in *elbshape.DescribeListenerCertificatesRequest) (*elbshape.DescribeListenerCertificatesResponse, error) {
	l, _, err := a.listener(a.cfg.State.Snapshot(), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	certs, next, err := page(l.Certificates, func(s string) string { return s }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbshape.DescribeListenerCertificatesResponse{Certificates: []elbshape.Certificate{}, NextMarker: next}
	for _, c := range certs {
		out.Certificates = append(out.Certificates, elbshape.Certificate{CertificateArn: ptr(c), IsDefault: ptr(len(l.Certificates) > 0 && c == l.Certificates[0])})
	}
	return out, nil
}
