package ecsapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"regexp"
	"sync"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

var serviceNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9\-_]{1,255}$`) })

// newDeploymentID returns an ECS deployment ID: ecs-svc/ and 19 digits.
func newDeploymentID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e18))
	return deploymentID(n)
}

// deploymentID is ecs-svc/ and 10^18 + n, for n in [0, 9×10^18): 19
// digits, the first not 0. (The sum does not fit an int64, whose largest
// value is about 9.2×10^18: it is computed with big.Int.)
func deploymentID(n *big.Int) string {
	return "ecs-svc/" + new(big.Int).Add(n, big.NewInt(1e18)).String()
}

// serviceName resolves a service parameter (name or ARN) in cluster.
func (a *API) serviceName(cluster string, in *string) (string, error) {
	s, err := required("service", in)
	if err != nil {
		return "", err
	}
	if !arn.IsARN(s) {
		if !serviceNamePattern().MatchString(s) {
			return "", apierr.InvalidParameterf("Service must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %s", echo(s))
		}
		return s, nil
	}
	p, err := arn.Parse(s)
	if err != nil || p.Type != arn.TypeService {
		return "", apierr.InvalidParameterf("Service ARN %s is not valid.", echo(s))
	}
	if !a.cfg.Namer.Owns(p) {
		return "", fsm.ErrServiceNotFound()
	}
	switch len(p.Path) {
	case 1:
		return p.Path[0], nil
	case 2:
		if p.Path[0] != cluster {
			return "", fsm.ErrServiceNotFound()
		}
		return p.Path[1], nil
	}
	return "", apierr.InvalidParameterf("Service ARN %s is not valid.", echo(s))
}

// deploymentConfig validates a deployment configuration and fills ECS's
// defaults (REPLICA 100/200, DAEMON 0/100, circuit breaker off).
func deploymentConfig(in *shape.DeploymentConfiguration, daemon bool) (*shape.DeploymentConfiguration, error) {
	out := shape.DeploymentConfiguration{}
	if in != nil {
		out = *in
	}
	if out.Strategy != "" && out.Strategy != shape.DeploymentStrategyRolling {
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth supports the ROLLING deployment strategy only, not %s.", out.Strategy)
	}
	if out.Alarms != nil && out.Alarms.Enable {
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth does not support deployment alarms yet.")
	}
	minDef, maxDef := int32(100), int32(200)
	if daemon {
		minDef, maxDef = 0, 100
	}
	if out.MinimumHealthyPercent == nil {
		out.MinimumHealthyPercent = ptr(minDef)
	}
	if out.MaximumPercent == nil {
		out.MaximumPercent = ptr(maxDef)
	}
	min, max := *out.MinimumHealthyPercent, *out.MaximumPercent
	if min < 0 || min > 100 {
		return nil, apierr.InvalidParameterf("minimumHealthyPercent must be between 0 and 100, but was %d.", min)
	}
	if max < 100 {
		return nil, apierr.InvalidParameterf("maximumPercent must be at least 100, but was %d.", max)
	}
	if daemon && max != 100 {
		return nil, apierr.InvalidParameterf("The maximumPercent of a DAEMON service must be 100.")
	}
	if out.DeploymentCircuitBreaker == nil {
		out.DeploymentCircuitBreaker = &shape.DeploymentCircuitBreaker{}
	}
	return &out, nil
}

// unsupportedServiceMembers refuses what berth cannot do for services yet.
func unsupportedServiceMembers(launch shape.LaunchType, cps []shape.CapacityProviderStrategyItem,
	net *shape.NetworkConfiguration, sc *shape.ServiceConnectConfiguration, enableExec bool) error {
	switch {
	case enableExec:
		return errExecUnsupported
	case launch != "" && launch != shape.LaunchTypeEc2 && launch != shape.LaunchTypeExternal:
		if err := checkEnum("launchType", launch); err != nil {
			return err
		}
		return apierr.Newf(apierr.UnsupportedFeature, "berth runs services on container instances; launchType %s is not supported.", launch)
	case len(cps) > 0:
		return apierr.Newf(apierr.UnsupportedFeature, "berth does not change a service's capacity provider strategy yet; create a new service with the strategy.")
	case sc != nil && sc.Enabled:
		return apierr.Newf(apierr.UnsupportedFeature, "berth does not support Service Connect yet.")
	}
	return nil
}

func createService(a *API, c *call, in *shape.CreateServiceRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	name, err := required("serviceName", in.ServiceName)
	if err != nil {
		return nil, err
	}
	if !serviceNamePattern().MatchString(name) {
		return nil, apierr.InvalidParameterf("serviceName must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %s", echo(name))
	}
	if in.DeploymentController != nil && in.DeploymentController.Type != "" && in.DeploymentController.Type != shape.DeploymentControllerTypeEcs {
		if err := checkEnum("deploymentController.type", in.DeploymentController.Type); err != nil {
			return nil, err
		}
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth supports the ECS deployment controller only, not %s.", in.DeploymentController.Type)
	}
	if err := checkEnum("schedulingStrategy", in.SchedulingStrategy); err != nil {
		return nil, err
	}
	daemon := in.SchedulingStrategy == shape.SchedulingStrategyDaemon
	if err := unsupportedServiceMembers("", nil, in.NetworkConfiguration, in.ServiceConnectConfiguration, in.EnableExecuteCommand); err != nil {
		return nil, err
	}
	if err := refuse(unsupportedServiceMember(in.DeploymentConfiguration, in.AvailabilityZoneRebalancing, in.Monitoring)); err != nil {
		return nil, err
	}
	if len(in.VolumeConfigurations) > 0 || len(in.VpcLatticeConfigurations) > 0 || len(in.GatewayConnectors) > 0 {
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth does not support volume, VPC Lattice or gateway configurations for services yet.")
	}
	desired := int32(0)
	switch {
	case daemon && in.DesiredCount != nil:
		return nil, apierr.InvalidParameterf("The daemon scheduling strategy does not support a desired count for services.")
	case daemon && len(in.PlacementStrategy) > 0:
		return nil, apierr.InvalidParameterf("The daemon scheduling strategy does not support placement strategies.")
	case !daemon && in.DesiredCount == nil:
		return nil, apierr.InvalidParameterf("desiredCount is required for a service with the REPLICA scheduling strategy.")
	case in.DesiredCount != nil:
		desired = *in.DesiredCount
		if desired < 0 {
			return nil, apierr.InvalidParameterf("desiredCount cannot be negative.")
		}
	}
	dc, err := deploymentConfig(in.DeploymentConfiguration, daemon)
	if err != nil {
		return nil, err
	}
	if g := in.HealthCheckGracePeriodSeconds; g != nil && *g < 0 {
		return nil, apierr.InvalidParameterf("healthCheckGracePeriodSeconds cannot be negative.")
	}
	if in.ClientToken != nil && (len(*in.ClientToken) > 36 || !clientTokenPattern().MatchString(*in.ClientToken)) {
		return nil, apierr.InvalidParameterf("clientToken must be 1 to 36 printable ASCII characters.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkEnum("propagateTags", in.PropagateTags); err != nil {
		return nil, err
	}
	ref, err := required("taskDefinition", in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	snap := a.snapshot()
	cl, err := fsm.ActiveCluster(snap, cluster)
	if err != nil {
		return nil, err
	}
	td, err := a.lookupTaskDefinition(snap, ref)
	if err != nil {
		return nil, apierr.Clientf("TaskDefinition not found.")
	}
	how, err := resolveLaunch(cl, td, in.LaunchType, in.CapacityProviderStrategy, in.PlatformVersion)
	if err != nil {
		return nil, err
	}
	if daemon && how.Type == shape.LaunchTypeFargate {
		return nil, apierr.InvalidParameterf("The daemon scheduling strategy is not supported with the FARGATE launch type.")
	}
	network, err := a.serviceNetwork(td.Def.NetworkMode, in.NetworkConfiguration, how.Type)
	if err != nil {
		return nil, err
	}
	lbs, err := serviceLoadBalancers(snap, td, in.LoadBalancers)
	if err != nil {
		return nil, err
	}
	regs, err := serviceRegistries(snap, td, in.ServiceRegistries)
	if err != nil {
		return nil, err
	}
	p := &runParams{td: td}
	if err := placementConstraints(p, in.PlacementConstraints); err != nil {
		return nil, err
	}
	if err := placementStrategies(p, in.PlacementStrategy); err != nil {
		return nil, err
	}
	sh := &shape.Service{
		DesiredCount: desired, LaunchType: shape.LaunchTypeEc2, DeploymentConfiguration: dc,
		DeploymentController: &shape.DeploymentController{Type: shape.DeploymentControllerTypeEcs},
		PlacementConstraints: orEmpty(in.PlacementConstraints), PlacementStrategy: orEmpty(in.PlacementStrategy),
		SchedulingStrategy: shape.SchedulingStrategyReplica, HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		EnableECSManagedTags: in.EnableECSManagedTags, PropagateTags: in.PropagateTags, EnableExecuteCommand: in.EnableExecuteCommand,
		LoadBalancers: lbs, ServiceRegistries: regs, Tags: orEmpty(in.Tags),
		RoleArn: in.Role, NetworkConfiguration: fsm.ServiceNetwork(network),
	}
	switch {
	case how.Type == shape.LaunchTypeFargate && in.LaunchType == "":
		// A strategy (given, or the cluster's default) chose FARGATE: the
		// service shows the strategy, not a launch type.
		sh.LaunchType = ""
		sh.CapacityProviderStrategy = in.CapacityProviderStrategy
		if len(sh.CapacityProviderStrategy) == 0 {
			sh.CapacityProviderStrategy = cl.DefaultCapacityProviderStrategy
		}
	case how.Type != "":
		sh.LaunchType = how.Type
	}
	if how.Type == shape.LaunchTypeFargate {
		sh.PlatformVersion, sh.PlatformFamily = ptr(how.RequestedPlatform), ptr("Linux")
	}
	if daemon {
		sh.SchedulingStrategy = shape.SchedulingStrategyDaemon
	}
	if sh.PropagateTags == "" {
		sh.PropagateTags = shape.PropagateTagsNone
	}
	fp := *in
	fp.ClientToken = nil
	b, _ := json.Marshal(fp)
	sum := sha256.Sum256(b)
	v, err := a.apply(c, wire.CreateService{Meta: c.meta(), Cluster: cluster, Name: name, Shape: sh,
		Family: td.Family, Revision: td.Revision, DeploymentID: newDeploymentID(), Fingerprint: hex.EncodeToString(sum[:])})
	if err != nil {
		return nil, err
	}
	return &shape.CreateServiceResponse{Service: a.renderService(a.snapshot(), v.(*state.Service), true)}, nil
}

func updateService(a *API, c *call, in *shape.UpdateServiceRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	name, err := a.serviceName(cluster, in.Service)
	if err != nil {
		return nil, err
	}
	if in.DeploymentController != nil {
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth does not support changing the deployment controller.")
	}
	if err := unsupportedServiceMembers("", in.CapacityProviderStrategy, in.NetworkConfiguration, in.ServiceConnectConfiguration, in.EnableExecuteCommand != nil && *in.EnableExecuteCommand); err != nil {
		return nil, err
	}
	if err := refuse(unsupportedServiceMember(in.DeploymentConfiguration, in.AvailabilityZoneRebalancing, in.Monitoring)); err != nil {
		return nil, err
	}
	if len(in.VolumeConfigurations) > 0 || len(in.VpcLatticeConfigurations) > 0 || len(in.GatewayConnectors) > 0 {
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth does not support volume, VPC Lattice or gateway configurations for services yet.")
	}
	snap := a.snapshot()
	if _, err := fsm.ActiveCluster(snap, cluster); err != nil {
		return nil, err
	}
	svc := snap.Service(cluster, name)
	if svc == nil {
		return nil, fsm.ErrServiceNotFound()
	}
	if in.PlatformVersion != nil && deref(in.PlatformVersion) != deref(svc.Shape.PlatformVersion) {
		if svc.Shape.PlatformVersion == nil {
			return nil, apierr.InvalidParameterf("The platform version must be null when specifying an %s launch type.", svc.Shape.LaunchType)
		}
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth does not change a service's platform version yet (it runs %s).", fargatePlatform)
	}
	daemon := svc.Shape.SchedulingStrategy == shape.SchedulingStrategyDaemon
	cmd := wire.UpdateService{Meta: c.meta(), Cluster: cluster, Name: name, DesiredCount: in.DesiredCount,
		HealthCheckGracePeriod: in.HealthCheckGracePeriodSeconds, EnableECSManagedTags: in.EnableECSManagedTags,
		PropagateTags: in.PropagateTags, EnableExecuteCommand: in.EnableExecuteCommand,
		ForceNewDeployment: in.ForceNewDeployment, DeploymentID: newDeploymentID()}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, apierr.InvalidParameterf("desiredCount cannot be negative.")
	}
	if in.DeploymentConfiguration != nil {
		merged := *svc.Shape.DeploymentConfiguration
		if in.DeploymentConfiguration.MinimumHealthyPercent != nil {
			merged.MinimumHealthyPercent = in.DeploymentConfiguration.MinimumHealthyPercent
		}
		if in.DeploymentConfiguration.MaximumPercent != nil {
			merged.MaximumPercent = in.DeploymentConfiguration.MaximumPercent
		}
		if in.DeploymentConfiguration.DeploymentCircuitBreaker != nil {
			merged.DeploymentCircuitBreaker = in.DeploymentConfiguration.DeploymentCircuitBreaker
		}
		merged.Strategy, merged.Alarms = in.DeploymentConfiguration.Strategy, in.DeploymentConfiguration.Alarms
		dc, err := deploymentConfig(&merged, daemon)
		if err != nil {
			return nil, err
		}
		cmd.DeploymentConfig = dc
	}
	if err := checkEnum("propagateTags", in.PropagateTags); err != nil {
		return nil, err
	}
	if g := in.HealthCheckGracePeriodSeconds; g != nil && *g < 0 {
		return nil, apierr.InvalidParameterf("healthCheckGracePeriodSeconds cannot be negative.")
	}
	var td *state.TaskDefinition
	if in.TaskDefinition != nil {
		td, err = a.lookupTaskDefinition(snap, *in.TaskDefinition)
		if err != nil {
			return nil, apierr.Clientf("TaskDefinition not found.")
		}
		cmd.Family, cmd.Revision = td.Family, td.Revision
	} else {
		td = snap.TaskDefinition(fsm.FamilyRevision(deref(svc.Shape.TaskDefinition)))
	}
	if td != nil {
		if err := a.updateServiceNetwork(&cmd, svc, td, in.NetworkConfiguration); err != nil {
			return nil, err
		}
		switch {
		case in.LoadBalancers != nil:
			// A new list (empty: none) replaces the service's.
			lbs, err := serviceLoadBalancers(snap, td, in.LoadBalancers)
			if err != nil {
				return nil, err
			}
			cmd.LoadBalancers = &lbs
		case in.TaskDefinition != nil && len(svc.Shape.LoadBalancers) > 0:
			// The new task definition must still have the containers and
			// ports the service's load balancers name.
			if _, err := serviceLoadBalancers(snap, td, svc.Shape.LoadBalancers); err != nil {
				return nil, err
			}
		}
		switch {
		case in.ServiceRegistries != nil:
			// A new list (empty: none) replaces the service's.
			regs, err := serviceRegistries(snap, td, in.ServiceRegistries)
			if err != nil {
				return nil, err
			}
			cmd.ServiceRegistries = &regs
		case in.TaskDefinition != nil && len(svc.Shape.ServiceRegistries) > 0:
			// The new task definition must still suit the registries.
			if _, err := serviceRegistries(snap, td, svc.Shape.ServiceRegistries); err != nil {
				return nil, err
			}
		}
	}
	if in.PlacementConstraints != nil || in.PlacementStrategy != nil {
		if daemon && len(in.PlacementStrategy) > 0 {
			return nil, apierr.InvalidParameterf("The daemon scheduling strategy does not support placement strategies.")
		}
		p := &runParams{}
		if err := placementConstraints(p, in.PlacementConstraints); err != nil {
			return nil, err
		}
		if err := placementStrategies(p, in.PlacementStrategy); err != nil {
			return nil, err
		}
		cmd.PlacementConstraints, cmd.PlacementStrategy = in.PlacementConstraints, in.PlacementStrategy
	}
	v, err := a.apply(c, cmd)
	if err != nil {
		return nil, err
	}
	return &shape.UpdateServiceResponse{Service: a.renderService(a.snapshot(), v.(*state.Service), false)}, nil
}

func deleteService(a *API, c *call, in *shape.DeleteServiceRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	name, err := a.serviceName(cluster, in.Service)
	if err != nil {
		return nil, err
	}
	v, err := a.apply(c, wire.DeleteService{Meta: c.meta(), Cluster: cluster, Name: name, Force: in.Force != nil && *in.Force})
	if err != nil {
		return nil, err
	}
	return &shape.DeleteServiceResponse{Service: a.renderService(a.snapshot(), v.(*state.Service), false)}, nil
}

func describeServices(a *API, c *call, in *shape.DescribeServicesRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkCount("services", len(in.Services), 1, 10); err != nil {
		return nil, err
	}
	if err := checkEnums("include", in.Include); err != nil {
		return nil, err
	}
	tags := false
	for _, f := range in.Include {
		tags = tags || f == shape.ServiceFieldTags
	}
	snap := a.snapshot()
	if snap.Cluster(cluster) == nil {
		return nil, fsm.ErrClusterNotFound()
	}
	out := &shape.DescribeServicesResponse{Services: []shape.Service{}, Failures: []shape.Failure{}}
	for _, ref := range in.Services {
		name, err := a.serviceName(cluster, &ref)
		var svc *state.Service
		if err == nil {
			svc = snap.Service(cluster, name)
		}
		if svc == nil {
			failArn := ref
			if !arn.IsARN(ref) {
				failArn = a.cfg.Namer.Service(cluster, ref)
			}
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(echo(failArn)), Reason: ptr("MISSING")})
			continue
		}
		out.Services = append(out.Services, *a.renderService(snap, svc, tags))
	}
	return out, nil
}

func listServices(a *API, c *call, in *shape.ListServicesRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkEnum("launchType", in.LaunchType); err != nil {
		return nil, err
	}
	if err := checkEnum("schedulingStrategy", in.SchedulingStrategy); err != nil {
		return nil, err
	}
	if in.ResourceManagementType != "" {
		if err := checkEnum("resourceManagementType", in.ResourceManagementType); err != nil {
			return nil, err
		}
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 10, 100)
	if err != nil {
		return nil, err
	}
	snap := a.snapshot()
	if _, err := fsm.ActiveCluster(snap, cluster); err != nil {
		return nil, err
	}
	out := &shape.ListServicesResponse{ServiceArns: []string{}}
	last := ""
	snap.Services(cluster, after, func(svc *state.Service) bool {
		sh := svc.Shape
		if deref(sh.Status) != "ACTIVE" ||
			in.LaunchType != "" && sh.LaunchType != in.LaunchType ||
			in.SchedulingStrategy != "" && sh.SchedulingStrategy != in.SchedulingStrategy ||
			in.ResourceManagementType == shape.ResourceManagementTypeEcs { // berth's services are all the customer's
			return true
		}
		if len(out.ServiceArns) == limit {
			out.NextToken = nextToken(c.op, last)
			return false
		}
		out.ServiceArns = append(out.ServiceArns, deref(sh.ServiceArn))
		last = svc.Name
		return true
	})
	return out, nil
}
