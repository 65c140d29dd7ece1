package ecsapi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/cql"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/scheduler"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// runParams is what RunTask and StartTask share.
type runParams struct {
	cluster       string
	td            *state.TaskDefinition
	group         string
	startedBy     string
	overrides     *shape.TaskOverride
	tags          []shape.Tag
	reserved      state.Reservation
	enableExec    bool
	constraints   []scheduler.Constraint
	strategies    []scheduler.Strategy
	requiredAttrs []scheduler.Attribute
	network       *wire.AwsVpc // awsvpc task definitions only
	launch        *launch
	rule          []scheduler.Constraint // berth's own (fsm.PlacementRule), after the caller's
}

var startedByPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9\-/_]{1,128}$`) })
var groupPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9\-_:]{1,255}$`) })

// commonRunParams validates the members RunTask and StartTask share.
func (a *API) commonRunParams(snap *state.Snapshot, clusterIn, taskDefIn, group, startedBy *string, overrides *shape.TaskOverride,
	tags []shape.Tag, propagate shape.PropagateTags, managedTags, enableExec bool, netcfg *shape.NetworkConfiguration,
	lt shape.LaunchType, cps []shape.CapacityProviderStrategyItem, platform *string) (*runParams, error) {
	cluster, err := a.clusterName(clusterIn)
	if err != nil {
		return nil, err
	}
	ref, err := required("taskDefinition", taskDefIn)
	if err != nil {
		return nil, err
	}
	cl, err := fsm.ActiveCluster(snap, cluster)
	if err != nil {
		return nil, err
	}
	td, err := a.lookupTaskDefinition(snap, ref)
	if err != nil {
		return nil, apierr.Clientf("TaskDefinition not found.")
	}
	if td.Def.Status != shape.TaskDefinitionStatusActive {
		return nil, apierr.Clientf("TaskDefinition is inactive")
	}
	how, err := resolveLaunch(cl, td, lt, cps, platform)
	if err != nil {
		return nil, err
	}
	network, err := awsvpcNetwork(td.Def.NetworkMode, netcfg, how.Type)
	if err != nil {
		return nil, err
	}
	if enableExec {
		return nil, errExecUnsupported
	}
	p := &runParams{cluster: cluster, td: td, enableExec: enableExec, network: network, launch: how}
	if p.rule, err = placementRule(cl, network, how); err != nil {
		return nil, err
	}
	p.group = "family:" + td.Family
	if group != nil {
		if !groupPattern().MatchString(*group) {
			return nil, apierr.InvalidParameterf("group %s is not valid: use up to 255 letters, numbers, hyphens, underscores and colons.", echo(*group))
		}
		p.group = *group
	}
	if startedBy != nil {
		if !startedByPattern().MatchString(*startedBy) {
			return nil, apierr.InvalidParameterf("startedBy %s is not valid: use up to 128 letters, numbers, hyphens, forward slashes and underscores.", echo(*startedBy))
		}
		p.startedBy = *startedBy
	}
	if err := validateOverrides(td.Def, overrides); err != nil {
		return nil, err
	}
	if err := a.checkRoles(td.Def, overrides); err != nil {
		return nil, err
	}
	p.overrides = overrides
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	if err := checkEnum("propagateTags", propagate); err != nil {
		return nil, err
	}
	switch propagate {
	case shape.PropagateTagsService:
		return nil, apierr.InvalidParameterf("The propagateTags value SERVICE is only valid for tasks a service starts.")
	case shape.PropagateTagsTaskDefinition:
		tags = fsm.MergeTags(td.Tags, tags)
	}
	if managedTags {
		tags = append(append([]shape.Tag{}, tags...), shape.Tag{Key: ptr("aws:ecs:clusterName"), Value: ptr(cluster)})
	}
	if len(tags) > fsm.MaxTags+1 {
		return nil, apierr.InvalidParameterf("A task can have at most %d tags.", fsm.MaxTags)
	}
	p.tags = tags
	p.reserved = fsm.Reservation(td.Def, overrides)
	for _, at := range td.Def.RequiresAttributes {
		p.requiredAttrs = append(p.requiredAttrs, scheduler.Attribute{Name: deref(at.Name), Value: at.Value})
	}
	for _, pc := range td.Def.PlacementConstraints {
		expr, err := cql.Parse(deref(pc.Expression))
		if err != nil {
			return nil, apierr.InvalidParameterf("The task definition's memberOf expression is not valid: %v", err)
		}
		p.constraints = append(p.constraints, scheduler.Constraint{Type: "memberOf", Expression: expr})
	}
	return p, nil
}

// validateOverrides checks a TaskOverride against the definition.
func validateOverrides(def *shape.TaskDefinition, ov *shape.TaskOverride) error {
	if ov == nil {
		return nil
	}
	if b, _ := json.Marshal(ov); len(b) > 8192 {
		return apierr.InvalidParameterf("Container Overrides length must be at most 8192.")
	}
	names := map[string]bool{}
	for _, cd := range def.ContainerDefinitions {
		names[deref(cd.Name)] = true
	}
	for _, co := range ov.ContainerOverrides {
		if co.Name == nil {
			return apierr.InvalidParameterf("Container Overrides must specify a container name.")
		}
		if !names[*co.Name] {
			return apierr.InvalidParameterf("Override for container named %s is not a container in the TaskDefinition.", echo(*co.Name))
		}
		if co.Memory != nil && *co.Memory < 6 || co.MemoryReservation != nil && *co.MemoryReservation < 6 {
			return apierr.InvalidParameterf("The memory override for container %s must be at least 6 MiB.", *co.Name)
		}
		if co.Memory != nil && co.MemoryReservation != nil && *co.MemoryReservation > *co.Memory {
			return apierr.InvalidParameterf("The memoryReservation override for container %s cannot be greater than its memory override.", *co.Name)
		}
		if co.Cpu != nil && *co.Cpu < 0 {
			return apierr.InvalidParameterf("The cpu override for container %s cannot be negative.", *co.Name)
		}
		for _, kv := range co.Environment {
			if deref(kv.Name) == "" {
				return apierr.InvalidParameterf("Environment variable names in the overrides of container %s cannot be empty.", *co.Name)
			}
		}
	}
	for name, v := range map[string]*string{"cpu": ov.Cpu, "memory": ov.Memory} {
		if v == nil {
			continue
		}
		if n, err := strconv.Atoi(*v); err != nil || n <= 0 {
			return apierr.InvalidParameterf("The task %s override %s must be a positive integer.", name, echo(*v))
		}
	}
	return nil
}

// placementConstraints parses runtime constraints (≤ 10 with the
// definition's).
func placementConstraints(p *runParams, in []shape.PlacementConstraint) error {
	if len(in)+len(p.constraints) > 10 {
		return apierr.InvalidParameterf("Placement constraints can have at most 10 items, counting the task definition's.")
	}
	for _, pc := range in {
		if err := checkEnum("placementConstraints.member.type", pc.Type); err != nil {
			return err
		}
		switch pc.Type {
		case shape.PlacementConstraintTypeDistinctInstance:
			if pc.Expression != nil {
				return apierr.InvalidParameterf("A distinctInstance placement constraint cannot have an expression.")
			}
			p.constraints = append(p.constraints, scheduler.Constraint{Type: "distinctInstance"})
		case shape.PlacementConstraintTypeMemberOf:
			e := deref(pc.Expression)
			if e == "" {
				return apierr.InvalidParameterf("A memberOf placement constraint needs an expression.")
			}
			expr, err := cql.Parse(e)
			if err != nil {
				return apierr.InvalidParameterf("The memberOf expression is not valid: %v", err)
			}
			p.constraints = append(p.constraints, scheduler.Constraint{Type: "memberOf", Expression: expr})
		default:
			return apierr.InvalidParameterf("A placement constraint needs a type: distinctInstance or memberOf.")
		}
	}
	return nil
}

// placementStrategies validates ≤ 5 strategies.
func placementStrategies(p *runParams, in []shape.PlacementStrategy) error {
	if len(in) > 5 {
		return apierr.InvalidParameterf("Placement strategies can have at most 5 items.")
	}
	for _, ps := range in {
		if err := checkEnum("placementStrategy.member.type", ps.Type); err != nil {
			return err
		}
		field := deref(ps.Field)
		switch ps.Type {
		case shape.PlacementStrategyTypeRandom:
			if field != "" {
				return apierr.InvalidParameterf("The random placement strategy takes no field.")
			}
		case shape.PlacementStrategyTypeBinpack:
			if field != "cpu" && field != "memory" && field != "CPU" && field != "MEMORY" {
				return apierr.InvalidParameterf("The binpack placement strategy needs the field cpu or memory, not %s.", echo(field))
			}
		case shape.PlacementStrategyTypeSpread:
			if field == "" {
				return apierr.InvalidParameterf("The spread placement strategy needs a field: instanceId, host or attribute:<name>.")
			}
		default:
			return apierr.InvalidParameterf("A placement strategy needs a type: random, spread or binpack.")
		}
		p.strategies = append(p.strategies, scheduler.Strategy{Type: string(ps.Type), Field: field})
	}
	return nil
}

func runTask(a *API, c *call, in *shape.RunTaskRequest) (any, error) {
	if err := refuse(unsupportedRunMember(in.Overrides, in.VolumeConfigurations, in.ReferenceId)); err != nil {
		return nil, err
	}
	snap := a.snapshot()
	p, err := a.commonRunParams(snap, in.Cluster, in.TaskDefinition, in.Group, in.StartedBy, in.Overrides, in.Tags,
		in.PropagateTags, in.EnableECSManagedTags, in.EnableExecuteCommand, in.NetworkConfiguration, in.LaunchType, in.CapacityProviderStrategy, in.PlatformVersion)
	if err != nil {
		return nil, err
	}
	count := 1
	if in.Count != nil {
		count = int(*in.Count)
		if count < 1 || count > 10 {
			return nil, apierr.InvalidParameterf("count must be between 1 and 10.")
		}
	}
	if in.ClientToken != nil && (len(*in.ClientToken) > 64 || !clientTokenPattern().MatchString(*in.ClientToken)) {
		return nil, apierr.InvalidParameterf("clientToken must be 1 to 64 printable ASCII characters.")
	}
	if err := placementConstraints(p, in.PlacementConstraints); err != nil {
		return nil, err
	}
	if err := placementStrategies(p, in.PlacementStrategy); err != nil {
		return nil, err
	}
	req := scheduler.Request{
		Count: count, Task: fsm.SchedulerTask(p.reserved, fsm.TaskENIs(p.td.Def)), Group: p.group,
		RequiredAttributes: p.requiredAttrs, Constraints: append(p.constraints, p.rule...), Strategies: p.strategies,
	}
	return a.placeAndRun(c, snap, p, req, deref(in.ClientToken), in)
}

var clientTokenPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\x21-\x7e]{1,64}$`) })

func startTask(a *API, c *call, in *shape.StartTaskRequest) (any, error) {
	if err := refuse(unsupportedRunMember(in.Overrides, in.VolumeConfigurations, in.ReferenceId)); err != nil {
		return nil, err
	}
	snap := a.snapshot()
	p, err := a.commonRunParams(snap, in.Cluster, in.TaskDefinition, in.Group, in.StartedBy, in.Overrides, in.Tags,
		in.PropagateTags, in.EnableECSManagedTags, in.EnableExecuteCommand, in.NetworkConfiguration, shape.LaunchTypeEc2, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := checkCount("containerInstances", len(in.ContainerInstances), 1, 10); err != nil {
		return nil, err
	}
	req := scheduler.Request{Task: fsm.SchedulerTask(p.reserved, fsm.TaskENIs(p.td.Def)), Group: p.group,
		RequiredAttributes: p.requiredAttrs, Constraints: append(p.constraints, p.rule...)}
	var pre []shape.Failure
	for _, ref := range in.ContainerInstances {
		id, ok := a.resourceID(arn.TypeContainerInstance, p.cluster, ref)
		if ci := snap.Instance(id); !ok || ci == nil || ci.Cluster != p.cluster {
			pre = append(pre, shape.Failure{Arn: ptr(a.failureARN(arn.TypeContainerInstance, p.cluster, ref)), Reason: ptr("MISSING")})
			continue
		}
		req.Instances = append(req.Instances, id)
	}
	req.Count = len(req.Instances)
	if req.Count == 0 {
		return &shape.StartTaskResponse{Tasks: []shape.Task{}, Failures: pre}, nil
	}
	out, err := a.placeAndRunWith(c, snap, p, req, "", nil, pre)
	if err != nil {
		return nil, err
	}
	return &shape.StartTaskResponse{Tasks: out.Tasks, Failures: out.Failures}, nil
}

func (a *API) placeAndRun(c *call, snap *state.Snapshot, p *runParams, req scheduler.Request, token string, in any) (any, error) {
	out, err := a.placeAndRunWith(c, snap, p, req, token, in, nil)
	if err != nil {
		return nil, err
	}
	return &shape.RunTaskResponse{Tasks: out.Tasks, Failures: out.Failures}, nil
}

type placed struct {
	Tasks    []shape.Task
	Failures []shape.Failure
}

func (a *API) placeAndRunWith(c *call, snap *state.Snapshot, p *runParams, req scheduler.Request, token string, in any, pre []shape.Failure) (*placed, error) {
	if err := req.Validate(); err != nil {
		return nil, apierr.InvalidParameterf("%v", err)
	}
	instances := a.views.Cluster(snap, p.cluster)
	if len(instances) == 0 {
		return nil, apierr.InvalidParameterf("No Container Instances were found in your cluster.")
	}
	rng := placementRand(c.requestID)
	plan := scheduler.Place(instances, req, rng)
	cmd := wire.RunTask{
		Meta: c.meta(), Cluster: p.cluster, Family: p.td.Family, Revision: p.td.Revision,
		Group: p.group, StartedBy: p.startedBy, Overrides: p.overrides, Tags: p.tags, Reserved: wire.Reservation(p.reserved),
		EnableExecuteCommand: p.enableExec, ClientToken: token, DistinctInstance: hasDistinct(p.constraints),
		Failures: append(append([]shape.Failure{}, pre...), schedulerFailures(plan.Failures)...),
		Network:  p.network,
	}
	var providers []string
	if l := p.launch; l != nil && l.Type != shape.LaunchTypeEc2 {
		cmd.LaunchType = string(l.Type)
		cmd.PlatformVersion = l.Platform
		if l.Type == shape.LaunchTypeFargate {
			providers = scheduler.Providers(l.Strategy, nil, len(plan.Placements))
		}
	}
	if token != "" {
		b, _ := json.Marshal(in)
		sum := sha256.Sum256(b)
		cmd.Fingerprint = hex.EncodeToString(sum[:])
	}
	for i, pl := range plan.Placements {
		nt := wire.NewTask{ID: NewID(), InstanceID: pl.InstanceID}
		for range p.td.Def.ContainerDefinitions {
			nt.ContainerIDs = append(nt.ContainerIDs, newUUID())
		}
		if i < len(providers) {
			nt.CapacityProvider = providers[i]
		}
		cmd.Tasks = append(cmd.Tasks, nt)
	}
	v, err := a.apply(c, cmd)
	if err != nil {
		return nil, err
	}
	r := v.(*fsm.RunTaskResult)
	out := &placed{Tasks: make([]shape.Task, 0, len(r.Tasks)), Failures: orEmpty(r.Failures)}
	for _, t := range r.Tasks {
		ts := taskView(t)
		ts.Tags = orEmpty(ts.Tags)
		out.Tasks = append(out.Tasks, ts)
	}
	return out, nil
}

func schedulerFailures(fs []scheduler.Failure) []shape.Failure {
	out := make([]shape.Failure, 0, len(fs))
	for _, f := range fs {
		sf := shape.Failure{Arn: optional(f.ARN), Reason: ptr(f.Reason)}
		if f.Detail != "" {
			sf.Detail = ptr(f.Detail)
		}
		out = append(out, sf)
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func hasDistinct(cs []scheduler.Constraint) bool {
	for _, c := range cs {
		if c.Type == "distinctInstance" {
			return true
		}
	}
	return false
}

// placementRand is the random source of one request's placement, seeded
// from its request ID alone: the request ID (logged with the request and
// returned to the caller) is enough to replay the placement on the same
// state.
func placementRand(requestID string) *rand.Rand {
	sum := sha256.Sum256([]byte(requestID))
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])))
}

// errExecUnsupported refuses enableExecuteCommand: berth has no ECS Exec
// (no execute-command session agent), so a task or service that asks for it
// would be stored and reported as exec-enabled while nobody could exec.
var errExecUnsupported = apierr.Newf(apierr.UnsupportedFeature, "berth does not support ECS Exec yet: enableExecuteCommand must be false.")

// checkRoles refuses a launch whose task or execution role (the
// definition's, or the override's) ECS tasks cannot assume, with ECS's
// message.
func (a *API) checkRoles(def *shape.TaskDefinition, ov *shape.TaskOverride) error {
	if a.cfg.Roles == nil {
		return nil
	}
	task, exec := deref(def.TaskRoleArn), deref(def.ExecutionRoleArn)
	if ov != nil {
		if r := deref(ov.TaskRoleArn); r != "" {
			task = r
		}
		if r := deref(ov.ExecutionRoleArn); r != "" {
			exec = r
		}
	}
	for _, role := range []string{task, exec} {
		if role == "" {
			continue
		}
		if err := a.cfg.Roles.CheckTaskRole(role); err != nil {
			a.log.Info("launch refused: a role cannot be assumed by tasks", "role", role, "reason", err.Error())
			return apierr.Clientf("%s", deploy.UnassumableRole(role))
		}
	}
	return nil
}
