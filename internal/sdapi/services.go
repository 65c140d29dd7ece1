package sdapi

import (
	"context"
	"maps"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/sd"
	"berth.dev/berth/internal/sdshape"
	"berth.dev/berth/internal/state"
)

const healthCheckRefused = "HealthCheckConfig (Route 53 health checks) is supported only for services in public DNS namespaces, which berth does not serve: use HealthCheckCustomConfig."

func serviceByID(snap *state.Snapshot, id *string, member string) (*state.SDService, error) {
	if id == nil {
		return nil, sd.Missing(member)
	}
	if err := sd.ValidateResourceID(*id, member); err != nil {
		return nil, err
	}
	s := snap.SDService(*id)
	if s == nil {
		return nil, fsm.ErrSDServiceNotFound(*id)
	}
	return s, nil
}

func instanceCount(snap *state.Snapshot, serviceID string) int32 {
	var n int32
	snap.SDInstances(serviceID, "", func(*state.SDInstance) bool { n++; return true })
	return n
}

func dnsConfigOut(s *state.SDService) *sdshape.DnsConfig {
	if s.DNS == nil {
		return nil
	}
	out := &sdshape.DnsConfig{RoutingPolicy: sdshape.RoutingPolicy(s.DNS.RoutingPolicy), NamespaceId: str(s.NamespaceID), DnsRecords: []sdshape.DnsRecord{}}
	for _, r := range s.DNS.Records {
		ttl := r.TTL
		out.DnsRecords = append(out.DnsRecords, sdshape.DnsRecord{Type: sdshape.RecordType(r.Type), TTL: &ttl})
	}
	return out
}

func (a *API) serviceOut(snap *state.Snapshot, s *state.SDService) *sdshape.Service {
	out := &sdshape.Service{Id: str(s.ID), Arn: str(s.ARN), Name: str(s.Name), NamespaceId: str(s.NamespaceID),
		Description: optStr(s.Description), Type: sdshape.ServiceType(s.Type), CreateDate: ts(s.CreatedAt),
		CreatorRequestId: optStr(s.CreatorRequestID), DnsConfig: dnsConfigOut(s), ResourceOwner: str(a.cfg.Account),
		CreatedByAccount: str(a.cfg.Account)}
	if s.CustomHealth != nil {
		ft := s.CustomHealth.FailureThreshold
		out.HealthCheckCustomConfig = &sdshape.HealthCheckCustomConfig{FailureThreshold: &ft}
	}
	c := instanceCount(snap, s.ID)
	out.InstanceCount = &c
	return out
}

func (a *API) createService(ctx context.Context, req *awsproto.Request, in *sdshape.CreateServiceRequest) (*sdshape.CreateServiceResponse, error) {
	if in.Name == nil {
		return nil, sd.Missing("name")
	}
	if err := sd.ValidateServiceName(*in.Name); err != nil {
		return nil, err
	}
	c := wire.CreateSDService{Meta: meta(req), Name: *in.Name}
	nsID := in.NamespaceId
	if nsID == nil && in.DnsConfig != nil {
		nsID = in.DnsConfig.NamespaceId // deprecated, still sent
	}
	if nsID == nil {
		return nil, sd.Invalid("NamespaceId is required.")
	}
	snap := a.cfg.State.Snapshot()
	ns, err := namespaceByID(snap, nsID)
	if err != nil {
		return nil, err
	}
	c.NamespaceID = ns.ID
	if in.DnsConfig != nil && in.DnsConfig.NamespaceId != nil && in.NamespaceId != nil && *in.DnsConfig.NamespaceId != *in.NamespaceId {
		return nil, sd.Invalid("DnsConfig.NamespaceId and NamespaceId name different namespaces.")
	}
	if in.CreatorRequestId != nil {
		if err := sd.ValidateCreatorRequestID(*in.CreatorRequestId); err != nil {
			return nil, err
		}
		c.CreatorRequestID = *in.CreatorRequestId
	}
	if in.Description != nil {
		if err := sd.ValidateDescription(*in.Description); err != nil {
			return nil, err
		}
		c.Description = *in.Description
	}
	if in.HealthCheckConfig != nil {
		return nil, sd.Invalid(healthCheckRefused)
	}
	if in.HealthCheckCustomConfig != nil {
		ft := int32(1)
		if in.HealthCheckCustomConfig.FailureThreshold != nil {
			ft = *in.HealthCheckCustomConfig.FailureThreshold
			if ft < 1 || ft > 10 {
				return nil, sd.Constraint(itoa32(ft), "healthCheckCustomConfig.failureThreshold", "Member must have value between 1 and 10")
			}
		}
		c.CustomHealth = &ft
	}
	switch in.Type {
	case "":
	case sdshape.ServiceTypeOptionHttp:
		if in.DnsConfig != nil {
			return nil, sd.Invalid("A service of Type HTTP cannot have a DnsConfig.")
		}
		c.ServiceType = string(in.Type)
	default:
		return nil, sd.Constraint(string(in.Type), "type", "Member must satisfy enum value set: [HTTP]")
	}
	if in.DnsConfig != nil {
		if ns.Type == sd.NamespaceHTTP {
			return nil, sd.Invalid("Namespace %s is an HTTP namespace: its services cannot have a DnsConfig.", ns.ID)
		}
		recs := make([]sd.DNSRecord, 0, len(in.DnsConfig.DnsRecords))
		for i, r := range in.DnsConfig.DnsRecords {
			if r.TTL == nil {
				return nil, sd.Missing("dnsConfig.dnsRecords." + itoa32(int32(i+1)) + ".member.tTL")
			}
			recs = append(recs, sd.DNSRecord{Type: string(r.Type), TTL: *r.TTL})
		}
		if err := sd.ValidateDNSConfig(string(in.DnsConfig.RoutingPolicy), recs); err != nil {
			return nil, err
		}
		routing := string(in.DnsConfig.RoutingPolicy)
		if routing == "" {
			routing = sd.RoutingMultivalue
		}
		c.DNS = &wire.SDDNSConfig{RoutingPolicy: routing}
		for _, r := range recs {
			c.DNS.Records = append(c.DNS.Records, wire.SDDNSRecord{Type: r.Type, TTL: r.TTL})
		}
	}
	if c.Tags, err = tagsIn(in.Tags); err != nil {
		return nil, err
	}
	if c.ID, err = sd.NewServiceID(a.cfg.Rand); err != nil {
		return nil, err
	}
	c.ARN = a.namer.Service(c.ID)
	v, err := a.apply(ctx, req, c)
	if err != nil {
		return nil, err
	}
	s, _ := v.(*state.SDService)
	if s == nil {
		return nil, awsproto.WithStatus(500, "InternalFailure", "The service was not recorded. Request ID: "+req.RequestID)
	}
	return &sdshape.CreateServiceResponse{Service: a.serviceOut(a.cfg.State.Snapshot(), s)}, nil
}

func itoa32(n int32) string {
	b := []byte{}
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

func (a *API) getService(ctx context.Context, req *awsproto.Request, in *sdshape.GetServiceRequest) (*sdshape.GetServiceResponse, error) {
	snap := a.cfg.State.Snapshot()
	s, err := serviceByID(snap, in.Id, "id")
	if err != nil {
		return nil, err
	}
	return &sdshape.GetServiceResponse{Service: a.serviceOut(snap, s)}, nil
}

func (a *API) listServices(ctx context.Context, req *awsproto.Request, in *sdshape.ListServicesRequest) (*sdshape.ListServicesResponse, error) {
	size, err := pageSize(in.MaxResults, sd.MaxListResults, sd.MaxListResults)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var nsValues []string
	var nsCond sdshape.FilterCondition
	for _, f := range in.Filters {
		switch f.Name {
		case sdshape.ServiceFilterNameNamespaceId:
			if nsCond, err = condition(f.Condition, f.Values, sdshape.FilterConditionEq, sdshape.FilterConditionIn); err != nil {
				return nil, err
			}
			nsValues = f.Values
		case sdshape.ServiceFilterNameResourceOwner:
			// Every service is the account's own (SELF); none is shared.
			if _, err := condition(f.Condition, f.Values, sdshape.FilterConditionEq); err != nil {
				return nil, err
			}
			if f.Values[0] != "SELF" {
				return &sdshape.ListServicesResponse{Services: []sdshape.ServiceSummary{}}, nil
			}
		case "":
			return nil, sd.Missing("filters.member.name")
		default:
			return nil, sd.Constraint(string(f.Name), "filters.member.name", "Member must satisfy enum value set: [NAMESPACE_ID, RESOURCE_OWNER]")
		}
	}
	snap := a.cfg.State.Snapshot()
	out := &sdshape.ListServicesResponse{Services: []sdshape.ServiceSummary{}}
	snap.SDServices(after, func(s *state.SDService) bool {
		if nsValues != nil && !matchCond(nsCond, nsValues, s.NamespaceID) {
			return true
		}
		if len(out.Services) == size {
			out.NextToken = encodeToken(*out.Services[size-1].Id)
			return false
		}
		f := a.serviceOut(snap, s)
		out.Services = append(out.Services, sdshape.ServiceSummary{Id: f.Id, Arn: f.Arn, Name: f.Name, Description: f.Description,
			Type: f.Type, CreateDate: f.CreateDate, DnsConfig: f.DnsConfig, HealthCheckCustomConfig: f.HealthCheckCustomConfig,
			InstanceCount: f.InstanceCount, ResourceOwner: f.ResourceOwner, CreatedByAccount: f.CreatedByAccount})
		return true
	})
	return out, nil
}

func (a *API) updateService(ctx context.Context, req *awsproto.Request, in *sdshape.UpdateServiceRequest) (*sdshape.UpdateServiceResponse, error) {
	s, err := serviceByID(a.cfg.State.Snapshot(), in.Id, "id")
	if err != nil {
		return nil, err
	}
	if in.Service == nil {
		return nil, sd.Missing("service")
	}
	c := wire.UpdateSDService{Meta: meta(req), ID: s.ID, Description: in.Service.Description}
	if in.Service.HealthCheckConfig != nil {
		return nil, sd.Invalid(healthCheckRefused)
	}
	if c.Description != nil {
		if err := sd.ValidateDescription(*c.Description); err != nil {
			return nil, err
		}
	}
	if d := in.Service.DnsConfig; d != nil {
		if len(d.DnsRecords) == 0 {
			return nil, sd.Missing("service.dnsConfig.dnsRecords")
		}
		for i, r := range d.DnsRecords {
			if r.TTL == nil {
				return nil, sd.Missing("service.dnsConfig.dnsRecords." + itoa32(int32(i+1)) + ".member.tTL")
			}
			if err := sd.ValidateTTL(*r.TTL, "service.dnsConfig.dnsRecords."+itoa32(int32(i+1))+".member.tTL"); err != nil {
				return nil, err
			}
			c.Records = append(c.Records, wire.SDDNSRecord{Type: string(r.Type), TTL: *r.TTL})
		}
	}
	if c.SDOp, err = a.newOp(); err != nil {
		return nil, err
	}
	id, err := a.applyOp(ctx, req, c)
	if err != nil {
		return nil, err
	}
	return &sdshape.UpdateServiceResponse{OperationId: id}, nil
}

func (a *API) deleteService(ctx context.Context, req *awsproto.Request, in *sdshape.DeleteServiceRequest) (*sdshape.DeleteServiceResponse, error) {
	s, err := serviceByID(a.cfg.State.Snapshot(), in.Id, "id")
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.DeleteSDService{Meta: meta(req), ID: s.ID}); err != nil {
		return nil, err
	}
	return &sdshape.DeleteServiceResponse{}, nil
}

func (a *API) getServiceAttributes(ctx context.Context, req *awsproto.Request, in *sdshape.GetServiceAttributesRequest) (*sdshape.GetServiceAttributesResponse, error) {
	s, err := serviceByID(a.cfg.State.Snapshot(), in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	attrs := maps.Clone(s.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &sdshape.GetServiceAttributesResponse{ServiceAttributes: &sdshape.ServiceAttributes{ServiceArn: str(s.ARN),
		Attributes: attrs, ResourceOwner: str(a.cfg.Account)}}, nil
}

func (a *API) updateServiceAttributes(ctx context.Context, req *awsproto.Request, in *sdshape.UpdateServiceAttributesRequest) (*sdshape.UpdateServiceAttributesResponse, error) {
	s, err := serviceByID(a.cfg.State.Snapshot(), in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	if in.Attributes == nil {
		return nil, sd.Missing("attributes")
	}
	if len(in.Attributes) == 0 || len(in.Attributes) > sd.MaxServiceAttributes {
		return nil, sd.Constraint("{...}", "attributes", "Member must have length between 1 and 30")
	}
	for k, v := range in.Attributes {
		if k == "" || len(k) > sd.MaxAttributeKey {
			return nil, sd.Constraint(k, "attributes", "Map keys must have length between 1 and 255")
		}
		if len(v) > sd.MaxAttributeValue {
			return nil, sd.Constraint(v, "attributes", "Map values must have length less than or equal to 1024")
		}
	}
	if _, err := a.apply(ctx, req, wire.UpdateSDServiceAttributes{Meta: meta(req), ID: s.ID, Attributes: in.Attributes}); err != nil {
		return nil, err
	}
	return &sdshape.UpdateServiceAttributesResponse{}, nil
}

func (a *API) deleteServiceAttributes(ctx context.Context, req *awsproto.Request, in *sdshape.DeleteServiceAttributesRequest) (*sdshape.DeleteServiceAttributesResponse, error) {
	s, err := serviceByID(a.cfg.State.Snapshot(), in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	if in.Attributes == nil {
		return nil, sd.Missing("attributes")
	}
	if len(in.Attributes) == 0 || len(in.Attributes) > sd.MaxServiceAttributes {
		return nil, sd.Constraint("[...]", "attributes", "Member must have length between 1 and 30")
	}
	if _, err := a.apply(ctx, req, wire.DeleteSDServiceAttributes{Meta: meta(req), ID: s.ID, Keys: in.Attributes}); err != nil {
		return nil, err
	}
	return &sdshape.DeleteServiceAttributesResponse{}, nil
}
