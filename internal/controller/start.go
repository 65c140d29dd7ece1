package controller

import (
	"context"
	"strings"
	"time"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/scheduler"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// defaultStrategies is how ECS places service tasks by default: balanced
// across availability zones, then fewest tasks of the service per instance.
var defaultStrategies = []scheduler.Strategy{
	{Type: "spread", Field: "attribute:ecs.availability-zone"},
	{Type: "spread", Field: "instanceId"},
}

// starts places the starts of one pass against one snapshot taken after
// the pass's rounds committed. Each cluster's view is built once and takes
// every placement of the pass, so that starts of different services never
// compete for the same resources; the state machine re-checks each
// placement when its RunTask commits all the same.
type starts struct {
	s      *Services
	snap   *state.Snapshot
	views  map[string][]*scheduler.Instance // by cluster
	placed []*placedStart
}

// placedStart is one start of a round: its RunTask (nil when nothing was
// placed), and once committed the tasks started or the first failure.
type placedStart struct {
	r       *round
	st      deploy.Start
	cmd     *wire.RunTask
	failure *deploy.PlacementFailure
	started []string
}

func (s *Services) newStarts() *starts {
	return &starts{s: s, snap: s.cfg.State.Snapshot(), views: map[string][]*scheduler.Instance{}}
}

// plan places one start request of round r.
func (b *starts) plan(r *round, st deploy.Start) {
	s, svc := b.s, r.svc
	now := s.cfg.Now()
	cv := r.in.ClusterVersion
	p := &placedStart{r: r, st: st}
	fail := func(reason, instance string) {
		p.failure = &deploy.PlacementFailure{At: now, Reason: reason, InstanceID: instance, ClusterVersion: cv}
		b.placed = append(b.placed, p)
	}
	fam, rev := fsm.FamilyRevision(st.TaskDefinition)
	td := b.snap.TaskDefinition(fam, rev)
	if td == nil {
		fail("TaskDefinition not found.", "")
		return
	}
	if msg := b.roleProblem(td.Def); msg != "" {
		fail(msg, "")
		return
	}
	reserved := fsm.Reservation(td.Def, nil)
	req := scheduler.Request{
		Count: st.Count, Task: fsm.SchedulerTask(reserved, fsm.TaskENIs(td.Def)), Group: fsm.ServiceGroup(svc.Name),
		Constraints: append(memberOf(td.Def.PlacementConstraints), serviceConstraints(svc.Shape.PlacementConstraints)...),
		Strategies:  defaultStrategies,
	}
	for _, a := range td.Def.RequiresAttributes {
		req.RequiredAttributes = append(req.RequiredAttributes, scheduler.Attribute{Name: deref(a.Name), Value: a.Value})
	}
	if len(svc.Shape.PlacementStrategy) > 0 {
		req.Strategies = nil
		for _, ps := range svc.Shape.PlacementStrategy {
			req.Strategies = append(req.Strategies, scheduler.Strategy{Type: string(ps.Type), Field: deref(ps.Field)})
		}
	}
	if len(st.Instances) > 0 {
		req.Instances, req.Count, req.Strategies = st.Instances, len(st.Instances), nil
	}
	if rule, err := b.placementRule(svc, td); err != nil {
		fail(err.Error(), "")
		return
	} else if rule != nil {
		req.Constraints = append(req.Constraints, *rule)
	}
	if req.Count == 0 {
		return
	}
	if err := req.Validate(); err != nil {
		fail(err.Error(), "")
		return
	}
	instances, ok := b.views[svc.Cluster]
	if !ok {
		instances = s.views.Cluster(b.snap, svc.Cluster)
		b.views[svc.Cluster] = instances
	}
	if len(instances) == 0 {
		fail("", "") // no container instances
		return
	}
	plan := scheduler.Place(instances, req, s.rng)
	if len(plan.Failures) > 0 {
		f := plan.Failures[0]
		p.failure = &deploy.PlacementFailure{At: now, Reason: f.Reason, InstanceID: instanceID(f.ARN), ClusterVersion: cv}
	}
	if len(plan.Placements) > 0 {
		cmd := &wire.RunTask{
			Meta: wire.Meta{Now: now}, Cluster: svc.Cluster, Family: fam, Revision: rev,
			Group: req.Group, StartedBy: st.DeploymentID, Tags: serviceTaskTags(svc, td), Reserved: wire.Reservation(reserved),
			EnableExecuteCommand: svc.Shape.EnableExecuteCommand, AllowInactive: true,
		}
		if td.Def.NetworkMode == shape.NetworkModeAwsvpc {
			cmd.Network = fsm.AwsVpcOf(svc.Shape.NetworkConfiguration)
		}
		strategy := fsm.ServiceProviders(svc.Shape)
		var providers []string
		if strategy != nil {
			cmd.LaunchType = string(shape.LaunchTypeFargate)
			cmd.PlatformVersion = fsm.FargatePlatform(deref(svc.Shape.PlatformVersion))
			providers = scheduler.Providers(strategy, b.providerCounts(svc), len(plan.Placements))
		} else if svc.Shape.LaunchType == shape.LaunchTypeExternal {
			cmd.LaunchType = string(shape.LaunchTypeExternal)
		}
		for _, c := range req.Constraints {
			cmd.DistinctInstance = cmd.DistinctInstance || c.Type == "distinctInstance"
		}
		byID := make(map[string]*scheduler.Instance, len(instances))
		for _, inst := range instances {
			byID[inst.ID] = inst
		}
		for i, pl := range plan.Placements {
			nt := wire.NewTask{ID: s.cfg.NewTaskID(), InstanceID: pl.InstanceID}
			if i < len(providers) {
				nt.CapacityProvider = providers[i]
			}
			for range td.Def.ContainerDefinitions {
				nt.ContainerIDs = append(nt.ContainerIDs, s.cfg.NewUUID())
			}
			cmd.Tasks = append(cmd.Tasks, nt)
			if inst := byID[pl.InstanceID]; inst != nil {
				fsm.AddPlanned(inst, req.Task, req.Group) // the next placements of the pass see it
			}
		}
		p.cmd = cmd
	}
	b.placed = append(b.placed, p)
}

// commit proposes every planned RunTask at once.
func (b *starts) commit(ctx context.Context) {
	var cmds []wire.Command
	var with []*placedStart
	for _, p := range b.placed {
		if p.cmd != nil {
			cmds = append(cmds, *p.cmd)
			with = append(with, p)
		}
	}
	for i, out := range b.s.applyAll(ctx, cmds) {
		p := with[i]
		if out.err != nil {
			p.r.err = out.err
			continue
		}
		res := out.value.(*fsm.RunTaskResult)
		for _, t := range res.Tasks {
			p.started = append(p.started, t.ID)
		}
		if p.failure == nil && len(res.Failures) > 0 {
			f := res.Failures[0]
			p.failure = &deploy.PlacementFailure{At: p.cmd.Now, Reason: deref(f.Reason), InstanceID: instanceID(deref(f.Arn)), ClusterVersion: p.r.in.ClusterVersion}
		}
	}
}

// outcome is the start's ServicePlacement command: the first placement
// failure (nil clears the last one) and the "has started" event.
func (p *placedStart) outcome(now time.Time) wire.ServicePlacement {
	event := ""
	if len(p.started) > 0 {
		event = deploy.StartedMessage(p.r.svc.Name, p.started, p.st.ReplacesUnhealthy)
	}
	return wire.ServicePlacement{Meta: wire.Meta{Now: now}, Cluster: p.r.svc.Cluster, Name: p.r.svc.Name,
		Generation: p.r.gen, Deployment: p.st.DeploymentID, Failure: placementToWire(p.failure), Event: event}
}

// serviceTaskTags are the tags a service's tasks get: propagated from the
// service or the task definition, plus ECS's managed tags when enabled.
func serviceTaskTags(svc *state.Service, td *state.TaskDefinition) []shape.Tag {
	var tags []shape.Tag
	switch svc.Shape.PropagateTags {
	case shape.PropagateTagsService:
		tags = append(tags, svc.Shape.Tags...)
	case shape.PropagateTagsTaskDefinition:
		tags = append(tags, td.Tags...)
	}
	if svc.Shape.EnableECSManagedTags {
		cl := svc.Cluster
		tags = append(tags, shape.Tag{Key: ptr("aws:ecs:clusterName"), Value: ptr(cl)},
			shape.Tag{Key: ptr("aws:ecs:serviceName"), Value: ptr(svc.Name)})
	}
	return orEmpty(tags)
}

func instanceID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func ptr[T any](v T) *T { return &v }

// providerCounts counts the service's tasks that hold resources by
// capacity provider, for the base and weights of its strategy.
func (b *starts) providerCounts(svc *state.Service) map[string]int {
	group := fsm.ServiceGroup(svc.Name)
	counts := map[string]int{}
	b.snap.Tasks(svc.Cluster, "", func(t *state.Task) bool {
		if t.HoldsResources() && deref(t.Shape.Group) == group {
			if p := deref(t.Shape.CapacityProviderName); p != "" {
				counts[p]++
			}
		}
		return true
	})
	return counts
}

// placementRule is berth's own constraint for the service's tasks (see
// fsm.PlacementRule), nil when nothing limits them.
func (b *starts) placementRule(svc *state.Service, td *state.TaskDefinition) (*scheduler.Constraint, error) {
	var subnets []string
	if td.Def.NetworkMode == shape.NetworkModeAwsvpc {
		if v := fsm.AwsVpcOf(svc.Shape.NetworkConfiguration); v != nil {
			subnets = v.Subnets
		}
	}
	return fsm.PlacementRuleConstraint(b.snap.Cluster(svc.Cluster), subnets, fsm.ServiceProviders(svc.Shape) != nil)
}

// roleProblem is ECS's reason for not launching a task of def whose task
// or execution role ECS tasks cannot assume, "" when both can be.
func (b *starts) roleProblem(def *shape.TaskDefinition) string {
	if b.s.cfg.Roles == nil {
		return ""
	}
	for _, role := range []string{deref(def.TaskRoleArn), deref(def.ExecutionRoleArn)} {
		if role == "" {
			continue
		}
		if err := b.s.cfg.Roles.CheckTaskRole(role); err != nil {
			return deploy.UnassumableRole(role)
		}
	}
	return ""
}
