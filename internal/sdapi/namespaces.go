package sdapi

import (
	"context"
	"slices"
	"strings"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/sd"
	"berth.dev/berth/internal/sdshape"
	"berth.dev/berth/internal/state"
)

var errPublicDNS = sd.Invalid("Public DNS namespaces are not supported by berth: create a private DNS namespace (CreatePrivateDnsNamespace) or an HTTP namespace (CreateHttpNamespace).")

func (a *API) createPublicDnsNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.CreatePublicDnsNamespaceRequest) (*sdshape.CreatePublicDnsNamespaceResponse, error) {
	if in.Name == nil {
		return nil, sd.Missing("name")
	}
	return nil, errPublicDNS
}

func (a *API) updatePublicDnsNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.UpdatePublicDnsNamespaceRequest) (*sdshape.UpdatePublicDnsNamespaceResponse, error) {
	if in.Id == nil {
		return nil, sd.Missing("id")
	}
	return nil, errPublicDNS
}

func tagsIn(tags []sdshape.Tag) ([]wire.SDTag, error) {
	if len(tags) > sd.MaxTagsPerRequest {
		return nil, sd.Constraint("[...]", "tags", "Member must have length less than or equal to 200")
	}
	var out []wire.SDTag
	for i, t := range tags {
		k := ""
		if t.Key != nil {
			k = *t.Key
		}
		if err := sd.ValidateTag(i, k, t.Value); err != nil {
			return nil, err
		}
		out = append(out, wire.SDTag{Key: k, Value: *t.Value})
	}
	return out, nil
}

func (a *API) createNamespace(ctx context.Context, req *awsproto.Request, typ string, name, creator, desc *string, vpc string, soa *int64, tags []sdshape.Tag) (*string, error) {
	if name == nil {
		return nil, sd.Missing("name")
	}
	if err := sd.ValidateNamespaceName(*name, typ); err != nil {
		return nil, err
	}
	c := wire.CreateSDNamespace{Meta: meta(req), Name: *name, NamespaceType: typ, Vpc: vpc, SOATTL: soa}
	if creator != nil {
		if err := sd.ValidateCreatorRequestID(*creator); err != nil {
			return nil, err
		}
		c.CreatorRequestID = *creator
	}
	if desc != nil {
		if err := sd.ValidateDescription(*desc); err != nil {
			return nil, err
		}
		c.Description = *desc
	}
	if soa != nil {
		if err := sd.ValidateTTL(*soa, "properties.dnsProperties.sOA.tTL"); err != nil {
			return nil, err
		}
	}
	t, err := tagsIn(tags)
	if err != nil {
		return nil, err
	}
	c.Tags = t
	if c.ID, err = sd.NewNamespaceID(a.cfg.Rand); err != nil {
		return nil, err
	}
	c.ARN = a.namer.Namespace(c.ID)
	if c.SDOp, err = a.newOp(); err != nil {
		return nil, err
	}
	return a.applyOp(ctx, req, c)
}

func (a *API) createPrivateDnsNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.CreatePrivateDnsNamespaceRequest) (*sdshape.CreatePrivateDnsNamespaceResponse, error) {
	if in.Vpc == nil {
		if in.Name == nil {
			return nil, sd.Missing("name")
		}
		return nil, sd.Missing("vpc")
	}
	if len(*in.Vpc) > 64 {
		return nil, sd.Constraint(*in.Vpc, "vpc", "Member must have length less than or equal to 64")
	}
	var soa *int64
	if p := in.Properties; p != nil && p.DnsProperties != nil {
		if p.DnsProperties.SOA == nil {
			return nil, sd.Missing("properties.dnsProperties.sOA")
		}
		if p.DnsProperties.SOA.TTL == nil {
			return nil, sd.Missing("properties.dnsProperties.sOA.tTL")
		}
		soa = p.DnsProperties.SOA.TTL
	}
	id, err := a.createNamespace(ctx, req, sd.NamespaceDNSPrivate, in.Name, in.CreatorRequestId, in.Description, *in.Vpc, soa, in.Tags)
	if err != nil {
		return nil, err
	}
	return &sdshape.CreatePrivateDnsNamespaceResponse{OperationId: id}, nil
}

func (a *API) createHttpNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.CreateHttpNamespaceRequest) (*sdshape.CreateHttpNamespaceResponse, error) {
	id, err := a.createNamespace(ctx, req, sd.NamespaceHTTP, in.Name, in.CreatorRequestId, in.Description, "", nil, in.Tags)
	if err != nil {
		return nil, err
	}
	return &sdshape.CreateHttpNamespaceResponse{OperationId: id}, nil
}

func namespaceByID(snap *state.Snapshot, id *string) (*state.SDNamespace, error) {
	if id == nil {
		return nil, sd.Missing("id")
	}
	if err := sd.ValidateResourceID(*id, "id"); err != nil {
		return nil, err
	}
	n := snap.SDNamespace(*id)
	if n == nil {
		return nil, fsm.ErrSDNamespaceNotFound(*id)
	}
	return n, nil
}

func serviceCount(snap *state.Snapshot, nsID string) int32 {
	var n int32
	snap.SDNamespaceServices(nsID, func(*state.SDService) bool { n++; return true })
	return n
}

func (a *API) namespaceOut(snap *state.Snapshot, n *state.SDNamespace) *sdshape.Namespace {
	out := &sdshape.Namespace{Id: str(n.ID), Arn: str(n.ARN), Name: str(n.Name), Type: sdshape.NamespaceType(n.Type),
		Description: optStr(n.Description), CreateDate: ts(n.CreatedAt), CreatorRequestId: optStr(n.CreatorRequestID),
		ResourceOwner: str(a.cfg.Account), Properties: namespaceProperties(n)}
	c := serviceCount(snap, n.ID)
	out.ServiceCount = &c
	return out
}

func namespaceProperties(n *state.SDNamespace) *sdshape.NamespaceProperties {
	p := &sdshape.NamespaceProperties{HttpProperties: &sdshape.HttpProperties{HttpName: str(n.HTTPName)}}
	if n.Type != sd.NamespaceHTTP {
		ttl := int64(sd.DefaultSOATTL)
		if n.SOATTL != nil {
			ttl = *n.SOATTL
		}
		p.DnsProperties = &sdshape.DnsProperties{HostedZoneId: optStr(n.HostedZoneID), SOA: &sdshape.SOA{TTL: &ttl}}
	}
	return p
}

func (a *API) getNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.GetNamespaceRequest) (*sdshape.GetNamespaceResponse, error) {
	snap := a.cfg.State.Snapshot()
	n, err := namespaceByID(snap, in.Id)
	if err != nil {
		return nil, err
	}
	return &sdshape.GetNamespaceResponse{Namespace: a.namespaceOut(snap, n)}, nil
}

// condition checks a filter's condition against the allowed ones (the
// first is the default) and its number of values.
func condition(c sdshape.FilterCondition, values []string, allowed ...sdshape.FilterCondition) (sdshape.FilterCondition, error) {
	if c == "" {
		c = allowed[0]
	}
	if !slices.Contains(allowed, c) {
		return "", sd.Invalid("The filter condition %s is not supported for this filter.", c)
	}
	switch {
	case len(values) == 0:
		return "", sd.Invalid("A filter needs at least one value.")
	case (c == sdshape.FilterConditionEq || c == sdshape.FilterConditionBeginsWith) && len(values) != 1:
		return "", sd.Invalid("A filter with condition %s takes exactly one value.", c)
	case c == sdshape.FilterConditionBetween && len(values) != 2:
		return "", sd.Invalid("A filter with condition BETWEEN takes exactly two values.")
	}
	return c, nil
}

func matchCond(c sdshape.FilterCondition, values []string, v string) bool {
	switch c {
	case sdshape.FilterConditionBeginsWith:
		return strings.HasPrefix(v, values[0])
	default:
		return slices.Contains(values, v)
	}
}

func (a *API) listNamespaces(ctx context.Context, req *awsproto.Request, in *sdshape.ListNamespacesRequest) (*sdshape.ListNamespacesResponse, error) {
	size, err := pageSize(in.MaxResults, sd.MaxListResults, sd.MaxListResults)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	type filter struct {
		name   sdshape.NamespaceFilterName
		cond   sdshape.FilterCondition
		values []string
	}
	var filters []filter
	for _, f := range in.Filters {
		var c sdshape.FilterCondition
		switch f.Name {
		case sdshape.NamespaceFilterNameType:
			c, err = condition(f.Condition, f.Values, sdshape.FilterConditionEq, sdshape.FilterConditionIn)
		case sdshape.NamespaceFilterNameName, sdshape.NamespaceFilterNameHttpName:
			c, err = condition(f.Condition, f.Values, sdshape.FilterConditionEq, sdshape.FilterConditionBeginsWith)
		case sdshape.NamespaceFilterNameResourceOwner:
			// Every namespace is the account's own (SELF); none is shared.
			c, err = condition(f.Condition, f.Values, sdshape.FilterConditionEq)
		case "":
			return nil, sd.Missing("filters.member.name")
		default:
			return nil, sd.Constraint(string(f.Name), "filters.member.name", "Member must satisfy enum value set: [TYPE, NAME, HTTP_NAME, RESOURCE_OWNER]")
		}
		if err != nil {
			return nil, err
		}
		filters = append(filters, filter{f.Name, c, f.Values})
	}
	snap := a.cfg.State.Snapshot()
	out := &sdshape.ListNamespacesResponse{Namespaces: []sdshape.NamespaceSummary{}}
	snap.SDNamespaces(after, func(n *state.SDNamespace) bool {
		for _, f := range filters {
			v := map[sdshape.NamespaceFilterName]string{sdshape.NamespaceFilterNameType: n.Type, sdshape.NamespaceFilterNameName: n.Name,
				sdshape.NamespaceFilterNameHttpName: n.HTTPName, sdshape.NamespaceFilterNameResourceOwner: "SELF"}[f.name]
			if !matchCond(f.cond, f.values, v) {
				return true
			}
		}
		if len(out.Namespaces) == size {
			out.NextToken = encodeToken(*out.Namespaces[size-1].Id)
			return false
		}
		full := a.namespaceOut(snap, n)
		out.Namespaces = append(out.Namespaces, sdshape.NamespaceSummary{Id: full.Id, Arn: full.Arn, Name: full.Name, Type: full.Type,
			Description: full.Description, CreateDate: full.CreateDate, Properties: full.Properties, ServiceCount: full.ServiceCount,
			ResourceOwner: full.ResourceOwner})
		return true
	})
	return out, nil
}

func (a *API) deleteNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.DeleteNamespaceRequest) (*sdshape.DeleteNamespaceResponse, error) {
	n, err := namespaceByID(a.cfg.State.Snapshot(), in.Id)
	if err != nil {
		return nil, err
	}
	op, err := a.newOp()
	if err != nil {
		return nil, err
	}
	id, err := a.applyOp(ctx, req, wire.DeleteSDNamespace{Meta: meta(req), SDOp: op, ID: n.ID})
	if err != nil {
		return nil, err
	}
	return &sdshape.DeleteNamespaceResponse{OperationId: id}, nil
}

func (a *API) updateNamespace(ctx context.Context, req *awsproto.Request, id *string, typ string, present bool, desc *string, soa *int64) (*string, error) {
	n, err := namespaceByID(a.cfg.State.Snapshot(), id)
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, sd.Missing("namespace")
	}
	if n.Type != typ {
		return nil, sd.Invalid("Namespace %s is a %s namespace, not %s.", n.ID, n.Type, typ)
	}
	if desc != nil {
		if err := sd.ValidateDescription(*desc); err != nil {
			return nil, err
		}
	}
	if soa != nil {
		if err := sd.ValidateTTL(*soa, "namespace.properties.dnsProperties.sOA.tTL"); err != nil {
			return nil, err
		}
	}
	op, err := a.newOp()
	if err != nil {
		return nil, err
	}
	return a.applyOp(ctx, req, wire.UpdateSDNamespace{Meta: meta(req), SDOp: op, ID: n.ID, Description: desc, SOATTL: soa})
}

func (a *API) updatePrivateDnsNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.UpdatePrivateDnsNamespaceRequest) (*sdshape.UpdatePrivateDnsNamespaceResponse, error) {
	var desc *string
	var soa *int64
	if in.Namespace != nil {
		desc = in.Namespace.Description
		if p := in.Namespace.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
			if p.DnsProperties.SOA.TTL == nil {
				return nil, sd.Missing("namespace.properties.dnsProperties.sOA.tTL")
			}
			soa = p.DnsProperties.SOA.TTL
		}
	}
	id, err := a.updateNamespace(ctx, req, in.Id, sd.NamespaceDNSPrivate, in.Namespace != nil, desc, soa)
	if err != nil {
		return nil, err
	}
	return &sdshape.UpdatePrivateDnsNamespaceResponse{OperationId: id}, nil
}

func (a *API) updateHttpNamespace(ctx context.Context, req *awsproto.Request, in *sdshape.UpdateHttpNamespaceRequest) (*sdshape.UpdateHttpNamespaceResponse, error) {
	var desc *string
	if in.Namespace != nil {
		if in.Namespace.Description == nil {
			return nil, sd.Missing("namespace.description")
		}
		desc = in.Namespace.Description
	}
	id, err := a.updateNamespace(ctx, req, in.Id, sd.NamespaceHTTP, in.Namespace != nil, desc, nil)
	if err != nil {
		return nil, err
	}
	return &sdshape.UpdateHttpNamespaceResponse{OperationId: id}, nil
}
