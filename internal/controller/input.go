package controller

import (
	"slices"
	"time"

	"berth.dev/berth/internal/cql"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/scheduler"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// input builds the reconciler's view of svc from a snapshot; views caches
// what it reads from svc's cluster for the other services of the same pass.
func (s *Services) input(snap *state.Snapshot, views clusterViews, svc *state.Service, now time.Time) deploy.Input {
	sh := svc.Shape
	dc := sh.DeploymentConfiguration
	in := deploy.Input{
		Now: now,
		Service: deploy.Service{
			Name: svc.Name, SchedulingStrategy: string(sh.SchedulingStrategy), DesiredCount: int(sh.DesiredCount),
			MinimumHealthyPercent: int(deref32(dc.MinimumHealthyPercent)), MaximumPercent: int(deref32(dc.MaximumPercent)),
			LastCompleted: optionalToDeploy(svc.LastCompleted),
		},
		Deployments: deploymentsToDeploy(svc.Deployments),
		Events:      eventsToDeploy(svc.Events),
		Config:      *s.cfg.Deploy,
	}
	if cb := dc.DeploymentCircuitBreaker; cb != nil {
		in.Service.CircuitBreaker = deploy.CircuitBreaker{Enable: cb.Enable, Rollback: cb.Rollback}
	}
	if g := sh.HealthCheckGracePeriodSeconds; g != nil {
		in.Service.HealthCheckGracePeriod = time.Duration(*g) * time.Second
	}
	if in.Service.SchedulingStrategy == "" {
		in.Service.SchedulingStrategy = deploy.Replica
	}
	cv := views.of(snap, svc.Cluster, s.leaderSince)
	in.ClusterVersion = cv.version
	in.Tasks = cv.tasks[fsm.ServiceGroup(svc.Name)] // this service's alone: not shared
	if n := targetGroups(sh.LoadBalancers); n > 0 {
		in.Service.TargetGroups = n
		for i := range in.Tasks {
			s.taskTargets(snap, &in.Tasks[i], now)
		}
	}
	in.Instances = slices.Clone(cv.instances) // the reconciler may write to its copy
	if in.Service.SchedulingStrategy == deploy.Daemon {
		eligible := s.daemonEligibility(snap, svc)
		for i := range in.Instances {
			in.Instances[i].Eligible = eligible(cv.records[i])
		}
	}
	return in
}

// clusterViews holds, for one pass over the services, what the
// reconciler's inputs take from each cluster, read once per cluster from
// the pass's snapshot instead of once per service.
type clusterViews map[string]*clusterView

type clusterView struct {
	// version changes with any task or container instance of the cluster
	// (the reconciler's ClusterVersion).
	version uint64
	// tasks by group ("service:NAME").
	tasks map[string][]deploy.Task
	// instances not deregistered, and their records (same order).
	instances []deploy.Instance
	records   []*state.ContainerInstance
}

// of returns cluster's view, reading it on first use.
func (v clusterViews) of(snap *state.Snapshot, cluster string, leaderSince time.Time) *clusterView {
	if cv, ok := v[cluster]; ok {
		return cv
	}
	cv := &clusterView{tasks: map[string][]deploy.Task{}}
	snap.Tasks(cluster, "", func(t *state.Task) bool {
		cv.version += uint64(t.Shape.Version) + 1
		ts := t.Shape
		group := deref(ts.Group)
		cv.tasks[group] = append(cv.tasks[group], deploy.Task{
			ID: t.ID, DeploymentID: deref(ts.StartedBy), InstanceID: t.InstanceID, AvailabilityZone: deref(ts.AvailabilityZone),
			LastStatus: deref(ts.LastStatus), DesiredStatus: deref(ts.DesiredStatus), Health: string(ts.HealthStatus),
			CreatedAt: ts.CreatedAt.Time(), StartedAt: ts.StartedAt.Time(), StoppingAt: ts.StoppingAt.Time(), StoppedAt: ts.StoppedAt.Time(),
			StopCode: string(ts.StopCode), StoppedReason: deref(ts.StoppedReason),
		})
		return true
	})
	snap.Instances(cluster, "", func(ci *state.ContainerInstance) bool {
		cv.version += uint64(ci.Shape.Version) + 1
		st := deref(ci.Shape.Status)
		if st == "INACTIVE" {
			return true // deregistered: its tasks count as on a missing instance
		}
		inst := deploy.Instance{ID: ci.ID, Status: st, Connected: ci.Shape.AgentConnected, DisconnectedAt: ci.DisconnectedAt}
		for _, a := range ci.Shape.Attributes {
			if deref(a.Name) == "ecs.availability-zone" {
				inst.AvailabilityZone = deref(a.Value)
			}
		}
		if !inst.Connected && inst.DisconnectedAt.Before(leaderSince) {
			// This leader has not heard from the agent since it started
			// leading: it counts the disconnection from then (Run).
			inst.DisconnectedAt = leaderSince
		}
		cv.instances = append(cv.instances, inst)
		cv.records = append(cv.records, ci)
		return true
	})
	v[cluster] = cv
	return cv
}

// daemonEligibility returns whether an instance matches a DAEMON
// service's constraints and its task definition's required attributes,
// whatever its resources: the scheduler decides, on a copy of the instance
// that is ACTIVE and connected, for a task that needs nothing.
func (s *Services) daemonEligibility(snap *state.Snapshot, svc *state.Service) func(*state.ContainerInstance) bool {
	var req scheduler.Request
	req.Group = fsm.ServiceGroup(svc.Name)
	if len(svc.Deployments) > 0 {
		fam, rev := fsm.FamilyRevision(svc.Deployments[0].TaskDefinition)
		if td := snap.TaskDefinition(fam, rev); td != nil {
			for _, a := range td.Def.RequiresAttributes {
				req.RequiredAttributes = append(req.RequiredAttributes, scheduler.Attribute{Name: deref(a.Name), Value: a.Value})
			}
			req.Constraints = append(req.Constraints, memberOf(td.Def.PlacementConstraints)...)
		}
	}
	req.Constraints = append(req.Constraints, serviceConstraints(svc.Shape.PlacementConstraints)...)
	return func(ci *state.ContainerInstance) bool {
		inst := fsm.RecordInstance(ci) // what its tasks hold does not matter here
		inst.Status, inst.Connected = "ACTIVE", true
		r := req
		r.Instances, r.Count = []string{ci.ID}, 1
		plan := scheduler.Place([]*scheduler.Instance{inst}, r, s.rng)
		return len(plan.Placements) == 1
	}
}

// memberOf parses a task definition's memberOf constraints.
func memberOf(pcs []shape.TaskDefinitionPlacementConstraint) []scheduler.Constraint {
	var out []scheduler.Constraint
	for _, pc := range pcs {
		if expr, err := cql.Parse(deref(pc.Expression)); err == nil {
			out = append(out, scheduler.Constraint{Type: "memberOf", Expression: expr})
		}
	}
	return out
}

// serviceConstraints parses a service's placement constraints (validated
// when the service was created or updated).
func serviceConstraints(pcs []shape.PlacementConstraint) []scheduler.Constraint {
	var out []scheduler.Constraint
	for _, pc := range pcs {
		switch pc.Type {
		case shape.PlacementConstraintTypeDistinctInstance:
			out = append(out, scheduler.Constraint{Type: "distinctInstance"})
		case shape.PlacementConstraintTypeMemberOf:
			if expr, err := cql.Parse(deref(pc.Expression)); err == nil {
				out = append(out, scheduler.Constraint{Type: "memberOf", Expression: expr})
			}
		}
	}
	return out
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// targetGroups counts the distinct target groups of a service's load
// balancers.
func targetGroups(lbs []shape.LoadBalancer) int {
	seen := map[string]bool{}
	for _, lb := range lbs {
		if arn := deref(lb.TargetGroupArn); arn != "" {
			seen[arn] = true
		}
	}
	return len(seen)
}

// taskTargets fills t.Targets: the health of the targets registered for a
// live task, as the load-balancer nodes report it (initial until one
// does); for a STOPPED task, the last health this leader saw of its
// targets before they were deregistered (deploy's breaker judges a task
// that stopped on its own by it).
func (s *Services) taskTargets(snap *state.Snapshot, t *deploy.Task, now time.Time) {
	s.seenTasks[t.ID] = true
	if t.LastStatus == deploy.TaskStopped {
		t.Targets = slices.Clone(s.lastTargets[t.ID])
		return
	}
	rec := snap.Task(t.ID)
	if rec == nil || len(rec.Targets) == 0 {
		return
	}
	out := make([]deploy.Target, 0, len(rec.Targets))
	for _, tt := range rec.Targets {
		dt := deploy.Target{TargetGroupARN: tt.TargetGroupARN, ID: tt.ID, Port: tt.Port, State: deploy.TargetInitial,
			Reason: "Elb.RegistrationInProgress", Description: "Target registration is in progress"}
		switch {
		case !rec.DrainUntil.IsZero():
			dt.State, dt.Reason, dt.Description = deploy.TargetDraining, "Target.DeregistrationInProgress", "Target deregistration is in progress"
		case s.cfg.TargetHealth != nil:
			if h, ok := s.cfg.TargetHealth.TargetHealth(tt.TargetGroupARN, tt.ID, tt.Port); ok {
				dt.State, dt.Reason, dt.Description = h.State, h.Reason, h.Description
			}
		}
		out = append(out, dt)
	}
	t.Targets = out
	if rec.DrainUntil.IsZero() {
		s.lastTargets[t.ID] = out
	}
}
