package sdapi

import (
	"context"
	"maps"
	"strings"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/sd"
	"berth.dev/berth/internal/sdshape"
	"berth.dev/berth/internal/state"
)

func instanceID(id *string) (string, error) {
	if id == nil {
		return "", sd.Missing("instanceId")
	}
	return *id, sd.ValidateInstanceID(*id)
}

func (a *API) registerInstance(ctx context.Context, req *awsproto.Request, in *sdshape.RegisterInstanceRequest) (*sdshape.RegisterInstanceResponse, error) {
	s, err := serviceByID(a.cfg.State.Snapshot(), in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	id, err := instanceID(in.InstanceId)
	if err != nil {
		return nil, err
	}
	if err := sd.ValidateAttributes(in.Attributes); err != nil {
		return nil, err
	}
	if s.DNS != nil {
		recs := make([]sd.DNSRecord, 0, len(s.DNS.Records))
		for _, r := range s.DNS.Records {
			recs = append(recs, sd.DNSRecord{Type: r.Type, TTL: r.TTL})
		}
		if err := sd.ValidateInstanceForService(recs, in.Attributes); err != nil {
			return nil, err
		}
	}
	c := wire.RegisterSDInstance{Meta: meta(req), ServiceID: s.ID, ID: id, Attributes: maps.Clone(in.Attributes)}
	if in.CreatorRequestId != nil {
		if err := sd.ValidateCreatorRequestID(*in.CreatorRequestId); err != nil {
			return nil, err
		}
		c.CreatorRequestID = *in.CreatorRequestId
	}
	if c.SDOp, err = a.newOp(); err != nil {
		return nil, err
	}
	op, err := a.applyOp(ctx, req, c)
	if err != nil {
		return nil, err
	}
	return &sdshape.RegisterInstanceResponse{OperationId: op}, nil
}

func (a *API) deregisterInstance(ctx context.Context, req *awsproto.Request, in *sdshape.DeregisterInstanceRequest) (*sdshape.DeregisterInstanceResponse, error) {
	snap := a.cfg.State.Snapshot()
	s, err := serviceByID(snap, in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	id, err := instanceID(in.InstanceId)
	if err != nil {
		return nil, err
	}
	if snap.SDInstance(s.ID, id) == nil {
		return nil, fsm.ErrSDInstanceNotFound(s.ID, id)
	}
	op, err := a.newOp()
	if err != nil {
		return nil, err
	}
	opID, err := a.applyOp(ctx, req, wire.DeregisterSDInstance{Meta: meta(req), SDOp: op, ServiceID: s.ID, ID: id})
	if err != nil {
		return nil, err
	}
	return &sdshape.DeregisterInstanceResponse{OperationId: opID}, nil
}

func (a *API) getInstance(ctx context.Context, req *awsproto.Request, in *sdshape.GetInstanceRequest) (*sdshape.GetInstanceResponse, error) {
	snap := a.cfg.State.Snapshot()
	s, err := serviceByID(snap, in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	id, err := instanceID(in.InstanceId)
	if err != nil {
		return nil, err
	}
	i := snap.SDInstance(s.ID, id)
	if i == nil {
		return nil, fsm.ErrSDInstanceNotFound(s.ID, id)
	}
	return &sdshape.GetInstanceResponse{ResourceOwner: str(a.cfg.Account), Instance: &sdshape.Instance{Id: str(i.ID),
		Attributes: attrsOut(i.Attributes), CreatorRequestId: optStr(i.CreatorRequestID), CreatedByAccount: str(a.cfg.Account)}}, nil
}

func attrsOut(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

func (a *API) listInstances(ctx context.Context, req *awsproto.Request, in *sdshape.ListInstancesRequest) (*sdshape.ListInstancesResponse, error) {
	snap := a.cfg.State.Snapshot()
	s, err := serviceByID(snap, in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	size, err := pageSize(in.MaxResults, sd.MaxListResults, sd.MaxListResults)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &sdshape.ListInstancesResponse{Instances: []sdshape.InstanceSummary{}, ResourceOwner: str(a.cfg.Account)}
	snap.SDInstances(s.ID, after, func(i *state.SDInstance) bool {
		if len(out.Instances) == size {
			out.NextToken = encodeToken(*out.Instances[size-1].Id)
			return false
		}
		out.Instances = append(out.Instances, sdshape.InstanceSummary{Id: str(i.ID), Attributes: attrsOut(i.Attributes), CreatedByAccount: str(a.cfg.Account)})
		return true
	})
	return out, nil
}

func (a *API) getInstancesHealthStatus(ctx context.Context, req *awsproto.Request, in *sdshape.GetInstancesHealthStatusRequest) (*sdshape.GetInstancesHealthStatusResponse, error) {
	snap := a.cfg.State.Snapshot()
	s, err := serviceByID(snap, in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	size, err := pageSize(in.MaxResults, sd.MaxListResults, sd.MaxListResults)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if in.Instances != nil && len(in.Instances) == 0 {
		return nil, sd.Constraint("[]", "instances", "Member must have length greater than or equal to 1")
	}
	for _, id := range in.Instances {
		if err := sd.ValidateInstanceID(id); err != nil {
			return nil, err
		}
	}
	out := &sdshape.GetInstancesHealthStatusResponse{Status: map[string]sdshape.HealthStatus{}}
	last := ""
	snap.SDInstances(s.ID, after, func(i *state.SDInstance) bool {
		if in.Instances != nil && !contains(in.Instances, i.ID) {
			return true
		}
		if len(out.Status) == size {
			out.NextToken = encodeToken(last)
			return false
		}
		out.Status[i.ID] = sdshape.HealthStatus(sd.InstanceHealth(s.CustomHealth != nil, i.CustomHealth))
		last = i.ID
		return true
	})
	for _, id := range in.Instances {
		if snap.SDInstance(s.ID, id) == nil {
			return nil, fsm.ErrSDInstanceNotFound(s.ID, id)
		}
	}
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (a *API) updateInstanceCustomHealthStatus(ctx context.Context, req *awsproto.Request, in *sdshape.UpdateInstanceCustomHealthStatusRequest) (*sdshape.UpdateInstanceCustomHealthStatusResponse, error) {
	snap := a.cfg.State.Snapshot()
	s, err := serviceByID(snap, in.ServiceId, "serviceId")
	if err != nil {
		return nil, err
	}
	id, err := instanceID(in.InstanceId)
	if err != nil {
		return nil, err
	}
	switch in.Status {
	case sdshape.CustomHealthStatusHealthy, sdshape.CustomHealthStatusUnhealthy:
	case "":
		return nil, sd.Missing("status")
	default:
		return nil, sd.Constraint(string(in.Status), "status", "Member must satisfy enum value set: [HEALTHY, UNHEALTHY]")
	}
	if _, err := a.apply(ctx, req, wire.UpdateSDInstanceHealth{Meta: meta(req), ServiceID: s.ID, ID: id, Status: string(in.Status)}); err != nil {
		return nil, err
	}
	return &sdshape.UpdateInstanceCustomHealthStatusResponse{}, nil
}

// discoverTarget finds a service by its namespace's HttpName and its name.
func discoverTarget(snap *state.Snapshot, nsName, svcName *string, owner *string) (*state.SDNamespace, *state.SDService, error) {
	if nsName == nil {
		return nil, nil, sd.Missing("namespaceName")
	}
	if svcName == nil {
		return nil, nil, sd.Missing("serviceName")
	}
	if len(*nsName) > sd.MaxNameLength || !printableASCII(*nsName) {
		return nil, nil, sd.Constraint(*nsName, "namespaceName", "Member must satisfy regular expression pattern: ^[!-~]{1,1024}$")
	}
	if err := sd.ValidateServiceName(*svcName); err != nil {
		return nil, nil, sd.Constraint(*svcName, "serviceName", "Member must satisfy regular expression pattern: ((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\\.$)")
	}
	var ns *state.SDNamespace
	snap.SDNamespaces("", func(n *state.SDNamespace) bool {
		if n.HTTPName == *nsName || n.Type != sd.NamespaceHTTP && strings.EqualFold(strings.TrimSuffix(n.HTTPName, "."), strings.TrimSuffix(*nsName, ".")) {
			ns = n
			return false
		}
		return true
	})
	if ns == nil {
		return nil, nil, fsm.ErrSDNamespaceNotFound(*nsName)
	}
	svc := snap.SDServiceByName(ns.ID, *svcName)
	if svc == nil && ns.Type != sd.NamespaceHTTP {
		snap.SDNamespaceServices(ns.ID, func(s *state.SDService) bool {
			if strings.EqualFold(s.Name, *svcName) {
				svc = s
				return false
			}
			return true
		})
	}
	if svc == nil {
		return nil, nil, fsm.ErrSDServiceNotFound(*svcName)
	}
	return ns, svc, nil
}

func printableASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

func (a *API) discoverInstances(ctx context.Context, req *awsproto.Request, in *sdshape.DiscoverInstancesRequest) (*sdshape.DiscoverInstancesResponse, error) {
	snap := a.cfg.State.Snapshot()
	ns, svc, err := discoverTarget(snap, in.NamespaceName, in.ServiceName, in.OwnerAccount)
	if err != nil {
		return nil, err
	}
	size, err := pageSize(in.MaxResults, sd.MaxDiscoverResults, sd.DefaultDiscoverResults)
	if err != nil {
		return nil, err
	}
	switch in.HealthStatus {
	case "", sdshape.HealthStatusFilterHealthy, sdshape.HealthStatusFilterUnhealthy, sdshape.HealthStatusFilterAll, sdshape.HealthStatusFilterHealthyOrElseAll:
	default:
		return nil, sd.Constraint(string(in.HealthStatus), "healthStatus", "Member must satisfy enum value set: [HEALTHY, UNHEALTHY, ALL, HEALTHY_OR_ELSE_ALL]")
	}
	hasCheck := svc.CustomHealth != nil || svc.HealthCheck != nil
	var cands []sd.Candidate
	snap.SDInstances(svc.ID, "", func(i *state.SDInstance) bool {
		cands = append(cands, sd.Candidate{ID: i.ID, Attributes: i.Attributes, Health: sd.InstanceHealth(hasCheck, i.CustomHealth)})
		return true
	})
	found := sd.Discover(cands, in.QueryParameters, in.OptionalParameters, string(in.HealthStatus), hasCheck)
	if err := sd.Shuffle(a.cfg.Rand, found); err != nil {
		return nil, err
	}
	if len(found) > size {
		found = found[:size]
	}
	rev := svc.Revision
	out := &sdshape.DiscoverInstancesResponse{Instances: []sdshape.HttpInstanceSummary{}, InstancesRevision: &rev}
	for _, c := range found {
		out.Instances = append(out.Instances, sdshape.HttpInstanceSummary{InstanceId: str(c.ID), NamespaceName: str(ns.HTTPName),
			ServiceName: str(svc.Name), HealthStatus: sdshape.HealthStatus(c.Health), Attributes: attrsOut(c.Attributes)})
	}
	return out, nil
}

func (a *API) discoverInstancesRevision(ctx context.Context, req *awsproto.Request, in *sdshape.DiscoverInstancesRevisionRequest) (*sdshape.DiscoverInstancesRevisionResponse, error) {
	_, svc, err := discoverTarget(a.cfg.State.Snapshot(), in.NamespaceName, in.ServiceName, in.OwnerAccount)
	if err != nil {
		return nil, err
	}
	rev := svc.Revision
	return &sdshape.DiscoverInstancesRevisionResponse{InstancesRevision: &rev}, nil
}
