package ecsapi

import (
	"encoding/json"
	"regexp"
	"strconv"
	"sync"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/cql"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

var (
	attrNamePattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9\-_./\\@:]{1,128}$`) })
	attrValuePattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-zA-Z0-9\-_.@/\\:]([a-zA-Z0-9\-_.@/\\: ]{0,126}[a-zA-Z0-9\-_.@/\\:])?$`)
	})
)

func validateAttribute(a shape.Attribute) error {
	name := deref(a.Name)
	if !attrNamePattern().MatchString(name) {
		return apierr.InvalidParameterf("Attribute name %q is not valid: use 1 to 128 letters, numbers, hyphens, underscores, periods, at signs, colons, forward slashes or back slashes.", name)
	}
	if a.Value != nil && !attrValuePattern().MatchString(*a.Value) {
		return apierr.InvalidParameterf("The value of attribute %s is not valid: use 1 to 128 letters, numbers, hyphens, underscores, periods, at signs, colons, forward slashes, back slashes or spaces (not first or last).", name)
	}
	return nil
}

// identityDocument is the part of an EC2 instance identity document berth
// reads; berth agents send the same fields for the host they run on.
type identityDocument struct {
	InstanceID       string `json:"instanceId"`
	AvailabilityZone string `json:"availabilityZone"`
	InstanceType     string `json:"instanceType"`
	ImageID          string `json:"imageId"`
	Region           string `json:"region"`
}

// builtinAttributes are the attributes ECS itself derives from the instance
// identity document (the agent does not send them): ecs.ami-id,
// ecs.availability-zone and ecs.instance-type, as DescribeContainerInstances
// shows them for every EC2 instance. Attributes the caller sent win.
func (d identityDocument) builtinAttributes(sent []shape.Attribute) []shape.Attribute {
	has := map[string]bool{}
	for _, a := range sent {
		has[deref(a.Name)] = true
	}
	out := append([]shape.Attribute{}, sent...)
	for _, kv := range [][2]string{
		{"ecs.ami-id", d.ImageID},
		{"ecs.availability-zone", d.AvailabilityZone},
		{"ecs.instance-type", d.InstanceType},
	} {
		if kv[1] != "" && !has[kv[0]] {
			out = append(out, shape.Attribute{Name: ptr(kv[0]), Value: ptr(kv[1])})
		}
	}
	return out
}

// withTypes returns rs with each resource's type filled in when the caller
// left it out (ECS always shows it). Call after validateResources.
func withTypes(rs []shape.Resource) []shape.Resource {
	if rs == nil {
		return nil
	}
	out := make([]shape.Resource, len(rs))
	for i, r := range rs {
		out[i] = r
		if r.Type == nil {
			out[i].Type = ptr(resourceTypes[deref(r.Name)])
		}
	}
	return out
}

var resourceTypes = map[string]string{"CPU": "INTEGER", "MEMORY": "INTEGER", "PORTS": "STRINGSET", "PORTS_UDP": "STRINGSET", "GPU": "STRINGSET"}

func validateResources(rs []shape.Resource) error {
	seen := map[string]bool{}
	for _, r := range rs {
		name := deref(r.Name)
		want, ok := resourceTypes[name]
		switch {
		case !ok:
			return apierr.InvalidParameterf("Resource name %q is not valid: use CPU, MEMORY, PORTS, PORTS_UDP or GPU.", name)
		case seen[name]:
			return apierr.InvalidParameterf("Resource %s appears more than once.", name)
		case r.Type != nil && *r.Type != want:
			return apierr.InvalidParameterf("Resource %s must have type %s.", name, want)
		case want == "INTEGER" && r.IntegerValue < 0:
			return apierr.InvalidParameterf("Resource %s cannot be negative.", name)
		case name == "PORTS" || name == "PORTS_UDP":
			if len(r.StringSetValue) > 100 {
				return apierr.InvalidParameterf("A container instance can reserve at most 100 ports.")
			}
			for _, p := range r.StringSetValue {
				n, err := strconv.Atoi(p)
				if err != nil || n < 1 || n > 65535 {
					return apierr.InvalidParameterf("Reserved port %q is not a port number.", p)
				}
			}
		}
		seen[name] = true
	}
	return nil
}

func registerContainerInstance(a *API, c *call, in *shape.RegisterContainerInstanceRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cmd := wire.RegisterContainerInstance{Meta: c.meta(), Cluster: cluster, NewID: NewID(),
		TotalResources: in.TotalResources, VersionInfo: in.VersionInfo, Attributes: in.Attributes,
		PlatformDevices: in.PlatformDevices, Tags: in.Tags}
	if in.ContainerInstanceArn != nil {
		id, ok := a.resourceID(arn.TypeContainerInstance, cluster, *in.ContainerInstanceArn)
		if !ok {
			return nil, apierr.InvalidParameterf("containerInstanceArn %s does not name a container instance of cluster %s.", *in.ContainerInstanceArn, cluster)
		}
		cmd.PreviousID = id
	}
	if err := validateResources(in.TotalResources); err != nil {
		return nil, err
	}
	cmd.TotalResources = withTypes(in.TotalResources)
	if doc := deref(in.InstanceIdentityDocument); doc != "" {
		var d identityDocument
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, apierr.InvalidParameterf("instanceIdentityDocument is not a JSON document: %v", err)
		}
		cmd.EC2InstanceID = d.InstanceID
		cmd.Attributes = d.builtinAttributes(in.Attributes)
	}
	for _, at := range cmd.Attributes {
		if err := validateAttribute(at); err != nil {
			return nil, err
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	for _, at := range cmd.Attributes {
		if deref(at.Name) == fsm.AttrTaskENI && a.cfg.TaskRange != "" {
			cmd.TaskRange, cmd.TaskSubnetBits = a.cfg.TaskRange, a.cfg.TaskSubnetBits
		}
	}
	v, err := a.apply(c, cmd)
	if err != nil {
		return nil, err
	}
	return &shape.RegisterContainerInstanceResponse{ContainerInstance: a.renderInstance(a.snapshot(), v.(*state.ContainerInstance), true, false)}, nil
}

func deregisterContainerInstance(a *API, c *call, in *shape.DeregisterContainerInstanceRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	ref, err := required("containerInstance", in.ContainerInstance)
	if err != nil {
		return nil, err
	}
	id, ok := a.resourceID(arn.TypeContainerInstance, cluster, ref)
	if !ok {
		// An unknown cluster is reported as such, whatever the reference.
		if _, err := fsm.ActiveCluster(a.snapshot(), cluster); err != nil {
			return nil, err
		}
		return nil, fsm.ErrInstanceNotFound(ref)
	}
	v, err := a.apply(c, wire.DeregisterContainerInstance{Meta: c.meta(), Cluster: cluster, ID: id, Force: in.Force != nil && *in.Force})
	if err != nil {
		return nil, err
	}
	return &shape.DeregisterContainerInstanceResponse{ContainerInstance: a.renderInstance(a.snapshot(), v.(*state.ContainerInstance), true, false)}, nil
}

func describeContainerInstances(a *API, c *call, in *shape.DescribeContainerInstancesRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkCount("containerInstances", len(in.ContainerInstances), 1, 100); err != nil {
		return nil, err
	}
	if err := checkEnums("include", in.Include); err != nil {
		return nil, err
	}
	tags, health := false, false
	for _, f := range in.Include {
		tags = tags || f == shape.ContainerInstanceFieldTags
		health = health || f == shape.ContainerInstanceFieldContainerInstanceHealth
	}
	snap := a.snapshot()
	if _, err := fsm.ActiveCluster(snap, cluster); err != nil {
		return nil, err
	}
	out := &shape.DescribeContainerInstancesResponse{ContainerInstances: []shape.ContainerInstance{}, Failures: []shape.Failure{}}
	for _, ref := range in.ContainerInstances {
		id, ok := a.resourceID(arn.TypeContainerInstance, cluster, ref)
		var ci *state.ContainerInstance
		if ok {
			ci = snap.Instance(id)
		}
		if ci == nil || ci.Cluster != cluster {
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(a.failureARN(arn.TypeContainerInstance, cluster, ref)), Reason: ptr("MISSING")})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, *a.renderInstance(snap, ci, tags, health))
	}
	return out, nil
}

func listContainerInstances(a *API, c *call, in *shape.ListContainerInstancesRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkEnum("status", in.Status); err != nil {
		return nil, err
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 100, 100)
	if err != nil {
		return nil, err
	}
	var filter *cql.Expr
	if f := deref(in.Filter); f != "" {
		filter, err = cql.Parse(f)
		if err != nil {
			return nil, apierr.InvalidParameterf("The filter expression is not valid: %v", err)
		}
	}
	snap := a.snapshot()
	if _, err := fsm.ActiveCluster(snap, cluster); err != nil {
		return nil, err
	}
	out := &shape.ListContainerInstancesResponse{ContainerInstanceArns: []string{}}
	last := ""
	snap.Instances(cluster, after, func(ci *state.ContainerInstance) bool {
		status := deref(ci.Shape.Status)
		if in.Status != "" && status != string(in.Status) || in.Status == "" && status == "INACTIVE" {
			return true
		}
		if filter != nil && !filter.Match(a.queryTarget(snap, ci)) {
			return true
		}
		if len(out.ContainerInstanceArns) == limit {
			out.NextToken = nextToken(c.op, last)
			return false
		}
		out.ContainerInstanceArns = append(out.ContainerInstanceArns, deref(ci.Shape.ContainerInstanceArn))
		last = ci.ID
		return true
	})
	return out, nil
}

func updateContainerInstancesState(a *API, c *call, in *shape.UpdateContainerInstancesStateRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkCount("containerInstances", len(in.ContainerInstances), 1, 10); err != nil {
		return nil, err
	}
	if in.Status == "" {
		return nil, apierr.InvalidParameterf("status cannot be empty.")
	}
	if err := checkEnum("status", in.Status); err != nil {
		return nil, err
	}
	if in.Status != shape.ContainerInstanceStatusActive && in.Status != shape.ContainerInstanceStatusDraining {
		return nil, apierr.InvalidParameterf("Container instances can only be set to ACTIVE or DRAINING, not %s.", in.Status)
	}
	// Every reference goes to the state machine, which answers in input
	// order; one that cannot name an instance (ID "") comes back MISSING.
	cmd := wire.UpdateContainerInstancesState{Meta: c.meta(), Cluster: cluster, Status: string(in.Status)}
	failures := []shape.Failure{}
	resolved := 0
	for _, ref := range in.ContainerInstances {
		id, ok := a.resourceID(arn.TypeContainerInstance, cluster, ref)
		if !ok {
			id = ""
			failures = append(failures, shape.Failure{Arn: ptr(a.failureARN(arn.TypeContainerInstance, cluster, ref)), Reason: ptr("MISSING")})
		} else {
			resolved++
		}
		cmd.Refs = append(cmd.Refs, wire.InstanceRef{Input: ref, ID: id})
	}
	out := &shape.UpdateContainerInstancesStateResponse{ContainerInstances: []shape.ContainerInstance{}, Failures: failures}
	if resolved == 0 {
		if _, err := fsm.ActiveCluster(a.snapshot(), cluster); err != nil {
			return nil, err
		}
		return out, nil
	}
	v, err := a.apply(c, cmd)
	if err != nil {
		return nil, err
	}
	r := v.(*fsm.InstancesResult)
	snap := a.snapshot()
	for _, ci := range r.Instances {
		out.ContainerInstances = append(out.ContainerInstances, *a.renderInstance(snap, ci, false, false))
	}
	out.Failures = r.Failures
	return out, nil
}
