package ecsapi

import (
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// MaxServiceRegistries is ECS's limit of service registries per service.
const MaxServiceRegistries = 1

// serviceRegistries validates a service's serviceRegistries against the
// Cloud Map state and the task definition the service runs, with ECS's
// rules (ecs-semantics §6.8, traffic.md D.9): bridge and host tasks are
// found by SRV records, so they need containerName and containerPort;
// awsvpc tasks with A records need no port; with SRV records they need
// either containerName and containerPort or port, not both. It returns the
// registries as the service stores them.
func serviceRegistries(snap *state.Snapshot, td *state.TaskDefinition, regs []shape.ServiceRegistry) ([]shape.ServiceRegistry, error) {
	if len(regs) > MaxServiceRegistries {
		return nil, apierr.InvalidParameterf("A service can have at most %d service registry; %d were given.", MaxServiceRegistries, len(regs))
	}
	out := make([]shape.ServiceRegistry, 0, len(regs))
	for _, r := range regs {
		arn := deref(r.RegistryArn)
		if arn == "" {
			return nil, apierr.InvalidParameterf("registryArn can not be blank.")
		}
		if !strings.HasPrefix(arn, "arn:aws:servicediscovery:") || !strings.Contains(arn, ":service/srv-") {
			return nil, apierr.InvalidParameterf("The service registry ARN %s is not the ARN of a Cloud Map service.", echo(arn))
		}
		sd := snap.SDServiceByARN(arn)
		if sd == nil {
			return nil, apierr.InvalidParameterf("The service registry %s does not exist.", arn)
		}
		name, cport, port := deref(r.ContainerName), r.ContainerPort, r.Port
		if (name == "") != (cport == nil) {
			return nil, apierr.InvalidParameterf("containerName and containerPort must be specified together in serviceRegistries.")
		}
		if port != nil && (*port < 0 || *port > 65535) {
			return nil, apierr.InvalidParameterf("The port %d of a service registry must be between 0 and 65535.", *port)
		}
		if name != "" {
			if err := loadBalancerContainer(td, name, *cport); err != nil {
				return nil, err
			}
		}
		mode := td.Def.NetworkMode
		if mode == "" {
			mode = shape.NetworkModeBridge
		}
		srv, a := recordTypes(sd)
		switch {
		case mode == shape.NetworkModeNone:
			return nil, apierr.InvalidParameterf("Service discovery is not supported for tasks that use the none network mode.")
		case sd.DNS == nil:
			// An HTTP namespace's service: discovered through the API only;
			// the port, when known, is an attribute.
			if port != nil && name != "" {
				return nil, apierr.InvalidParameterf("Specify either containerName and containerPort or port for the service registry %s, not both.", arn)
			}
		case mode != shape.NetworkModeAwsvpc:
			if !srv {
				return nil, apierr.InvalidParameterf("The service registry %s has no SRV record: tasks that use the %s network mode can only be registered with SRV records.", arn, mode)
			}
			if name == "" {
				return nil, apierr.InvalidParameterf("When specifying '%s' network mode, 'containerName' and 'containerPort' must be specified in the service registry %s.", mode, arn)
			}
			if port != nil {
				return nil, apierr.InvalidParameterf("A port was provided but is not required by the specified service registry")
			}
		case srv:
			switch {
			case name != "" && port != nil:
				return nil, apierr.InvalidParameterf("Specify either containerName and containerPort or port for the service registry %s, not both.", arn)
			case name == "" && port == nil:
				return nil, apierr.InvalidParameterf("The service registry %s has an SRV record: specify containerName and containerPort, or port.", arn)
			}
		case a:
			if port != nil {
				return nil, apierr.InvalidParameterf("A port was provided but is not required by the specified service registry")
			}
			if cport != nil {
				return nil, apierr.InvalidParameterf("The values specified for serviceRegistries do not require a value for 'containerPort'. Remove the value and retry.")
			}
		}
		out = append(out, shape.ServiceRegistry{RegistryArn: ptr(arn), ContainerName: r.ContainerName, ContainerPort: cport, Port: port})
	}
	return out, nil
}

// recordTypes reports whether a Cloud Map service has an SRV record and
// whether it has an address record (A or AAAA).
func recordTypes(sd *state.SDService) (srv, addr bool) {
	if sd.DNS == nil {
		return false, false
	}
	for _, r := range sd.DNS.Records {
		switch r.Type {
		case "SRV":
			srv = true
		case "A", "AAAA":
			addr = true
		}
	}
	return srv, addr
}

// listServicesByNamespace lists the services, of every cluster, whose
// service registry is a Cloud Map service of the namespace (given by name
// or ARN), in cluster and service name order.
func listServicesByNamespace(a *API, c *call, in *shape.ListServicesByNamespaceRequest) (any, error) {
	ref, err := required("namespace", in.Namespace)
	if err != nil {
		return nil, err
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 10, 100)
	if err != nil {
		return nil, err
	}
	snap := a.snapshot()
	ns := snap.SDNamespaceByARN(ref)
	if ns == nil {
		snap.SDNamespacesByName(ref, func(n *state.SDNamespace) bool {
			ns = n
			return false
		})
	}
	if ns == nil {
		return nil, apierr.Newf(apierr.NamespaceNotFound, "The specified namespace %s was not found.", echo(ref))
	}
	out := &shape.ListServicesByNamespaceResponse{ServiceArns: []string{}}
	afterCluster, afterService, _ := strings.Cut(after, "/")
	last := ""
	snap.Clusters("", func(cl *shape.Cluster) bool {
		name := deref(cl.ClusterName)
		if after != "" && name < afterCluster {
			return true
		}
		from := ""
		if name == afterCluster {
			from = afterService
		}
		more := true
		snap.Services(name, from, func(svc *state.Service) bool {
			if from != "" && svc.Name <= from || deref(svc.Shape.Status) != "ACTIVE" || !inNamespace(snap, svc, ns.ID) {
				return true
			}
			if len(out.ServiceArns) == limit {
				out.NextToken = nextToken(c.op, last)
				more = false
				return false
			}
			out.ServiceArns = append(out.ServiceArns, deref(svc.Shape.ServiceArn))
			last = name + "/" + svc.Name
			return true
		})
		return more
	})
	return out, nil
}

// inNamespace reports whether a service's registry lies in the namespace.
func inNamespace(snap *state.Snapshot, svc *state.Service, nsID string) bool {
	for _, r := range svc.Shape.ServiceRegistries {
		if sd := snap.SDServiceByARN(deref(r.RegistryArn)); sd != nil && sd.NamespaceID == nsID {
			return true
		}
	}
	return false
}
