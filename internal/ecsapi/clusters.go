package ecsapi

import (
	"fmt"
	"slices"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func createCluster(a *API, c *call, in *shape.CreateClusterRequest) (any, error) {
	name := "default"
	if in.ClusterName != nil {
		name = *in.ClusterName
		if !namePattern().MatchString(name) {
			return nil, apierr.InvalidParameterf("Cluster name must be 1 to 255 characters: letters (upper and lower case), numbers, hyphens and underscores.")
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := validateStrategy(in.CapacityProviders, in.DefaultCapacityProviderStrategy); err != nil {
		return nil, err
	}
	if err := validateClusterConfiguration(in.Configuration); err != nil {
		return nil, err
	}
	v, err := a.apply(c, wire.CreateCluster{
		Meta: c.meta(), Name: name, Tags: in.Tags, Settings: in.Settings, Configuration: in.Configuration,
		CapacityProviders: in.CapacityProviders, DefaultCapacityProviderStrategy: in.DefaultCapacityProviderStrategy,
		ServiceConnectDefaults: serviceConnectDefaults(in.ServiceConnectDefaults),
	})
	if err != nil {
		return nil, err
	}
	return &shape.CreateClusterResponse{Cluster: a.renderCluster(a.snapshot(), v.(*shape.Cluster), allClusterFields)}, nil
}

func serviceConnectDefaults(in *shape.ClusterServiceConnectDefaultsRequest) *shape.ClusterServiceConnectDefaults {
	if in == nil {
		return nil
	}
	return &shape.ClusterServiceConnectDefaults{Namespace: in.Namespace}
}

func validateClusterSettings(s []shape.ClusterSetting) error {
	for _, x := range s {
		if err := checkEnum("settings.member.name", x.Name); err != nil {
			return err
		}
		if x.Name == "" {
			return apierr.InvalidParameterf("Cluster setting name cannot be empty.")
		}
		switch v := deref(x.Value); v {
		case "enabled", "disabled", "enhanced":
		default:
			return apierr.InvalidParameterf("Invalid value %q for cluster setting %s. Valid values are enabled, disabled and enhanced.", v, x.Name)
		}
	}
	return nil
}

func validateClusterConfiguration(cfg *shape.ClusterConfiguration) error {
	if cfg == nil || cfg.ExecuteCommandConfiguration == nil {
		return nil
	}
	return checkEnum("configuration.executeCommandConfiguration.logging", cfg.ExecuteCommandConfiguration.Logging)
}

func validateStrategy(providers []string, strategy []shape.CapacityProviderStrategyItem) error {
	if len(strategy) > 20 {
		return apierr.InvalidParameterf("defaultCapacityProviderStrategy can have at most 20 items.")
	}
	withBase := 0
	for _, s := range strategy {
		p := deref(s.CapacityProvider)
		if p == "" {
			return apierr.InvalidParameterf("capacityProvider cannot be empty in a capacity provider strategy.")
		}
		if !slices.Contains(providers, p) {
			return apierr.InvalidParameterf("The capacity provider %s in the default strategy is not associated with the cluster. Add it to capacityProviders first.", p)
		}
		if s.Weight < 0 || s.Weight > 1000 {
			return apierr.InvalidParameterf("The weight of capacity provider %s must be between 0 and 1000.", p)
		}
		if s.Base < 0 || s.Base > 100000 {
			return apierr.InvalidParameterf("The base of capacity provider %s must be between 0 and 100000.", p)
		}
		if s.Base > 0 {
			withBase++
		}
	}
	if withBase > 1 {
		return apierr.InvalidParameterf("Only one capacity provider in a capacity provider strategy can have a base defined.")
	}
	return nil
}

func updateCluster(a *API, c *call, in *shape.UpdateClusterRequest) (any, error) {
	name, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.Cluster == nil {
		return nil, apierr.InvalidParameterf("Cluster cannot be empty.")
	}
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := validateClusterConfiguration(in.Configuration); err != nil {
		return nil, err
	}
	v, err := a.apply(c, wire.UpdateCluster{Meta: c.meta(), Name: name, Settings: in.Settings, Configuration: in.Configuration,
		ServiceConnectDefaults: serviceConnectDefaults(in.ServiceConnectDefaults)})
	if err != nil {
		return nil, err
	}
	return &shape.UpdateClusterResponse{Cluster: a.renderCluster(a.snapshot(), v.(*shape.Cluster), allClusterFields)}, nil
}

func updateClusterSettings(a *API, c *call, in *shape.UpdateClusterSettingsRequest) (any, error) {
	if in.Cluster == nil {
		return nil, apierr.InvalidParameterf("Cluster cannot be empty.")
	}
	name, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.Settings == nil {
		return nil, apierr.InvalidParameterf("Settings cannot be empty.")
	}
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	v, err := a.apply(c, wire.UpdateCluster{Meta: c.meta(), Name: name, Settings: in.Settings})
	if err != nil {
		return nil, err
	}
	return &shape.UpdateClusterSettingsResponse{Cluster: a.renderCluster(a.snapshot(), v.(*shape.Cluster), allClusterFields)}, nil
}

func putClusterCapacityProviders(a *API, c *call, in *shape.PutClusterCapacityProvidersRequest) (any, error) {
	if in.Cluster == nil {
		return nil, apierr.InvalidParameterf("Cluster cannot be empty.")
	}
	name, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.CapacityProviders == nil {
		return nil, apierr.InvalidParameterf("capacityProviders cannot be null; pass an empty list to remove all capacity providers.")
	}
	if in.DefaultCapacityProviderStrategy == nil {
		return nil, apierr.InvalidParameterf("defaultCapacityProviderStrategy cannot be null; pass an empty list for none.")
	}
	if len(in.CapacityProviders) > 20 {
		return nil, apierr.InvalidParameterf("capacityProviders can have at most 20 items.")
	}
	if err := validateStrategy(in.CapacityProviders, in.DefaultCapacityProviderStrategy); err != nil {
		return nil, err
	}
	v, err := a.apply(c, wire.PutClusterCapacityProviders{Meta: c.meta(), Name: name,
		CapacityProviders: in.CapacityProviders, Strategy: in.DefaultCapacityProviderStrategy})
	if err != nil {
		return nil, err
	}
	return &shape.PutClusterCapacityProvidersResponse{Cluster: a.renderCluster(a.snapshot(), v.(*shape.Cluster), allClusterFields)}, nil
}

func deleteCluster(a *API, c *call, in *shape.DeleteClusterRequest) (any, error) {
	if in.Cluster == nil || *in.Cluster == "" {
		return nil, apierr.InvalidParameterf("Cluster cannot be empty.")
	}
	name, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	v, err := a.apply(c, wire.DeleteCluster{Meta: c.meta(), Name: name})
	if err != nil {
		return nil, err
	}
	return &shape.DeleteClusterResponse{Cluster: a.renderCluster(a.snapshot(), v.(*shape.Cluster), allClusterFields)}, nil
}

func describeClusters(a *API, c *call, in *shape.DescribeClustersRequest) (any, error) {
	if err := checkCount("clusters", len(in.Clusters), 0, 100); err != nil {
		return nil, err
	}
	if err := checkEnums("include", in.Include); err != nil {
		return nil, err
	}
	fields := clusterFields{}
	for _, f := range in.Include {
		switch f {
		case shape.ClusterFieldAttachments:
			fields.attachments = true
		case shape.ClusterFieldConfigurations:
			fields.configurations = true
		case shape.ClusterFieldSettings:
			fields.settings = true
		case shape.ClusterFieldStatistics:
			fields.statistics = true
		case shape.ClusterFieldTags:
			fields.tags = true
		}
	}
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	snap := a.snapshot()
	out := &shape.DescribeClustersResponse{Clusters: []shape.Cluster{}, Failures: []shape.Failure{}}
	for _, ref := range refs {
		name, err := a.clusterName(&ref)
		var cl *shape.Cluster
		if err == nil {
			cl = snap.Cluster(name)
		}
		if cl == nil {
			failArn := ref
			if !isARN(ref) {
				failArn = a.cfg.Namer.Cluster(ref)
			}
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(failArn), Reason: ptr("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, *a.renderCluster(snap, cl, fields))
	}
	return out, nil
}

func listClusters(a *API, c *call, in *shape.ListClustersRequest) (any, error) {
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 100, 100)
	if err != nil {
		return nil, err
	}
	out := &shape.ListClustersResponse{ClusterArns: []string{}}
	last := ""
	a.snapshot().Clusters(after, func(cl *shape.Cluster) bool {
		if deref(cl.Status) != "ACTIVE" {
			return true
		}
		if len(out.ClusterArns) == limit {
			out.NextToken = nextToken(c.op, last)
			return false
		}
		out.ClusterArns = append(out.ClusterArns, deref(cl.ClusterArn))
		last = deref(cl.ClusterName)
		return true
	})
	return out, nil
}

// clusterFields selects the optional members DescribeClusters includes.
type clusterFields struct {
	attachments, configurations, settings, statistics, tags bool
	// write marks the answer of a write, which shows every member (and
	// empty statistics) as ECS's write operations do.
	write bool
}

var allClusterFields = clusterFields{configurations: true, settings: true, tags: true, write: true}

// renderCluster returns the cluster as ECS shows it, with its counts.
func (a *API) renderCluster(snap *state.Snapshot, stored *shape.Cluster, f clusterFields) *shape.Cluster {
	cl := *stored
	name := deref(cl.ClusterName)
	snap.Instances(name, "", func(ci *state.ContainerInstance) bool {
		if s := deref(ci.Shape.Status); s == "ACTIVE" || s == "DRAINING" {
			cl.RegisteredContainerInstancesCount++
		}
		return true
	})
	snap.Tasks(name, "", func(t *state.Task) bool {
		switch deref(t.Shape.LastStatus) {
		case "RUNNING":
			cl.RunningTasksCount++
		case "PENDING", "PROVISIONING", "ACTIVATING":
			cl.PendingTasksCount++
		}
		return true
	})
	snap.Services(name, "", func(svc *state.Service) bool {
		if deref(svc.Shape.Status) == "ACTIVE" {
			cl.ActiveServicesCount++
		}
		return true
	})
	cl.CapacityProviders = orEmpty(cl.CapacityProviders)
	cl.DefaultCapacityProviderStrategy = orEmpty(cl.DefaultCapacityProviderStrategy)
	if !f.tags {
		cl.Tags = nil
	} else {
		cl.Tags = orEmpty(cl.Tags)
	}
	if !f.settings {
		cl.Settings = nil
	}
	if !f.configurations {
		cl.Configuration = nil
	}
	if f.attachments {
		cl.Attachments = orEmpty(cl.Attachments)
	} else if len(cl.Attachments) == 0 {
		cl.Attachments = nil
	}
	switch {
	case f.statistics:
		cl.Statistics = clusterStatistics(&cl)
	case f.write:
		cl.Statistics = []shape.KeyValuePair{}
	default:
		cl.Statistics = nil
	}
	return &cl
}

// clusterStatistics breaks the counts down by launch type, as ECS does.
// berth runs every task on container instances (the EC2 launch type).
func clusterStatistics(cl *shape.Cluster) []shape.KeyValuePair {
	kv := func(k string, v int32) shape.KeyValuePair {
		return shape.KeyValuePair{Name: ptr(k), Value: ptr(fmt.Sprint(v))}
	}
	return []shape.KeyValuePair{
		kv("runningEC2TasksCount", cl.RunningTasksCount),
		kv("runningFargateTasksCount", 0),
		kv("pendingEC2TasksCount", cl.PendingTasksCount),
		kv("pendingFargateTasksCount", 0),
		kv("runningExternalTasksCount", 0),
		kv("pendingExternalTasksCount", 0),
		kv("activeEC2ServiceCount", cl.ActiveServicesCount),
		kv("activeFargateServiceCount", 0),
		kv("drainingEC2ServiceCount", 0),
		kv("drainingFargateServiceCount", 0),
		kv("activeExternalServiceCount", 0),
		kv("drainingExternalServiceCount", 0),
	}
}
