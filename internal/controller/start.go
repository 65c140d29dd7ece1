package controller

import (
	"context"
	"strings"

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

// start places a round's start request and commits the tasks, then records
// the outcome (the started event, or the first placement failure).
func (s *Services) start(ctx context.Context, svc *state.Service, gen int64, st deploy.Start, clusterVersion uint64) error {
	now := s.cfg.Now()
	snap := s.cfg.State.Snapshot()
	fam, rev := fsm.FamilyRevision(st.TaskDefinition)
	td := snap.TaskDefinition(fam, rev)
	if td == nil {
		return s.recordPlacement(ctx, svc, gen, st.DeploymentID, &deploy.PlacementFailure{At: now, Reason: "TaskDefinition not found.", ClusterVersion: clusterVersion}, "")
	}
	reserved := fsm.Reservation(td.Def, nil)
	req := scheduler.Request{
		Count: st.Count, Task: fsm.SchedulerTask(reserved), Group: fsm.ServiceGroup(svc.Name),
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
	if req.Count == 0 {
		return nil
	}
	if err := req.Validate(); err != nil {
		return s.recordPlacement(ctx, svc, gen, st.DeploymentID, &deploy.PlacementFailure{At: now, Reason: err.Error(), ClusterVersion: clusterVersion}, "")
	}
	instances := s.views.Cluster(snap, svc.Cluster)
	if len(instances) == 0 {
		return s.recordPlacement(ctx, svc, gen, st.DeploymentID, &deploy.PlacementFailure{At: now, Reason: scheduler.NoContainerInstancesMessage, ClusterVersion: clusterVersion}, "")
	}
	plan := scheduler.Place(instances, req, s.rng)
	var failure *deploy.PlacementFailure
	if len(plan.Failures) > 0 {
		f := plan.Failures[0]
		failure = &deploy.PlacementFailure{At: now, Reason: f.Reason, InstanceID: instanceID(f.ARN), ClusterVersion: clusterVersion}
	}
	var started []string
	if len(plan.Placements) > 0 {
		cmd := wire.RunTask{
			Meta: wire.Meta{Now: now}, Cluster: svc.Cluster, Family: fam, Revision: rev,
			Group: req.Group, StartedBy: st.DeploymentID, Tags: serviceTaskTags(svc, td), Reserved: wire.Reservation(reserved),
			EnableExecuteCommand: svc.Shape.EnableExecuteCommand, AllowInactive: true,
		}
		for _, c := range req.Constraints {
			cmd.DistinctInstance = cmd.DistinctInstance || c.Type == "distinctInstance"
		}
		for _, pl := range plan.Placements {
			nt := wire.NewTask{ID: s.cfg.NewTaskID(), InstanceID: pl.InstanceID}
			for range td.Def.ContainerDefinitions {
				nt.ContainerIDs = append(nt.ContainerIDs, s.cfg.NewUUID())
			}
			cmd.Tasks = append(cmd.Tasks, nt)
		}
		v, err := s.cfg.Proposer.Apply(ctx, cmd)
		if err != nil {
			return err
		}
		r := v.(*fsm.RunTaskResult)
		for _, t := range r.Tasks {
			started = append(started, t.ID)
		}
		if failure == nil && len(r.Failures) > 0 {
			f := r.Failures[0]
			failure = &deploy.PlacementFailure{At: now, Reason: deref(f.Reason), InstanceID: instanceID(deref(f.Arn)), ClusterVersion: clusterVersion}
		}
	}
	event := ""
	if len(started) > 0 {
		event = deploy.StartedMessage(svc.Name, started, st.ReplacesUnhealthy)
	}
	return s.recordPlacement(ctx, svc, gen, st.DeploymentID, failure, event)
}

func (s *Services) recordPlacement(ctx context.Context, svc *state.Service, gen int64, deployment string, failure *deploy.PlacementFailure, event string) error {
	_, err := s.cfg.Proposer.Apply(ctx, wire.ServicePlacement{Meta: wire.Meta{Now: s.cfg.Now()}, Cluster: svc.Cluster, Name: svc.Name,
		Generation: gen, Deployment: deployment, Failure: placementToWire(failure), Event: event})
	return err
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
