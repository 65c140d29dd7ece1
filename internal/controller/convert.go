package controller

import (
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// The reconciler (package deploy) has types of its own; these convert its
// input from the state's records and its result to the round's command.

func deploymentToDeploy(d state.Deployment) deploy.Deployment {
	out := deploy.Deployment{
		ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition, HealthChecks: d.HealthChecks,
		DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
		RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Rollback: d.Rollback, ReachedRunning: d.ReachedRunning, LastFailureAt: d.LastFailureAt,
		LaunchFailures: d.LaunchFailures, LastLaunchFailureAt: d.LastLaunchFailureAt, Counted: d.Counted,
	}
	if d.Placement != nil {
		p := deploy.PlacementFailure(*d.Placement)
		out.Placement = &p
	}
	return out
}

func deploymentsToDeploy(ds []state.Deployment) []deploy.Deployment {
	out := make([]deploy.Deployment, len(ds))
	for i := range ds {
		out[i] = deploymentToDeploy(ds[i])
	}
	return out
}

func optionalToDeploy(d *state.Deployment) *deploy.Deployment {
	if d == nil {
		return nil
	}
	out := deploymentToDeploy(*d)
	return &out
}

func eventsToDeploy(es []state.Event) []deploy.Event {
	out := make([]deploy.Event, len(es))
	for i, e := range es {
		out[i] = deploy.Event(e)
	}
	return out
}

func deploymentToWire(d deploy.Deployment) wire.Deployment {
	out := wire.Deployment{
		ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition, HealthChecks: d.HealthChecks,
		DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
		RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Rollback: d.Rollback, ReachedRunning: d.ReachedRunning, LastFailureAt: d.LastFailureAt,
		LaunchFailures: d.LaunchFailures, LastLaunchFailureAt: d.LastLaunchFailureAt, Counted: d.Counted,
	}
	if d.Placement != nil {
		out.Placement = placementToWire(d.Placement)
	}
	return out
}

func placementToWire(p *deploy.PlacementFailure) *wire.PlacementFailure {
	if p == nil {
		return nil
	}
	out := wire.PlacementFailure(*p)
	return &out
}

// roundCommand is the ServiceRound command of a reconciler result: what
// the state machine applies, nothing else (Starts are placed and
// committed separately; Wake and Changed stay with the controller).
func roundCommand(svc *state.Service, gen int64, res deploy.Result, meta wire.Meta) wire.ServiceRound {
	c := wire.ServiceRound{Meta: meta, Cluster: svc.Cluster, Name: svc.Name, Generation: gen,
		Deployments: make([]wire.Deployment, len(res.Deployments)), DesiredCount: res.DesiredCount, Events: res.Events}
	for _, s := range res.Lost {
		c.Lost = append(c.Lost, wire.TaskStop(s))
	}
	for _, s := range res.Stops {
		c.Stops = append(c.Stops, wire.TaskStop(s))
	}
	for i, d := range res.Deployments {
		c.Deployments[i] = deploymentToWire(d)
	}
	if res.LastCompleted != nil {
		d := deploymentToWire(*res.LastCompleted)
		c.LastCompleted = &d
	}
	return c
}
