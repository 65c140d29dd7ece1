package fsm

import (
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Conversions between the persisted format (wire) and the domain records
// (state). Empty slices become nil both ways, so a record reads the same
// whether it was applied live or restored from a snapshot.

// DeploymentsToWire converts a deployments array for a log entry.
func DeploymentsToWire(ds []state.Deployment) []wire.Deployment {
	if len(ds) == 0 {
		return []wire.Deployment{}
	}
	out := make([]wire.Deployment, len(ds))
	for i := range ds {
		out[i] = DeploymentToWire(ds[i])
	}
	return out
}

// DeploymentToWire converts one deployment.
func DeploymentToWire(d state.Deployment) wire.Deployment {
	out := wire.Deployment{
		ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition, HealthChecks: d.HealthChecks,
		DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
		RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Rollback: d.Rollback, ReachedRunning: d.ReachedRunning, LastFailureAt: d.LastFailureAt,
		LaunchFailures: d.LaunchFailures, LastLaunchFailureAt: d.LastLaunchFailureAt, Counted: nilIfEmpty(d.Counted),
	}
	if d.Placement != nil {
		p := wire.PlacementFailure(*d.Placement)
		out.Placement = &p
	}
	return out
}

func deploymentsFromWire(ds []wire.Deployment) []state.Deployment {
	if len(ds) == 0 {
		return nil
	}
	out := make([]state.Deployment, len(ds))
	for i := range ds {
		out[i] = deploymentFromWire(ds[i])
	}
	return out
}

func deploymentFromWire(d wire.Deployment) state.Deployment {
	out := state.Deployment{
		ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition, HealthChecks: d.HealthChecks,
		DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
		RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Rollback: d.Rollback, ReachedRunning: d.ReachedRunning, LastFailureAt: d.LastFailureAt,
		LaunchFailures: d.LaunchFailures, LastLaunchFailureAt: d.LastLaunchFailureAt, Counted: nilIfEmpty(d.Counted),
	}
	if d.Placement != nil {
		p := state.PlacementFailure(*d.Placement)
		out.Placement = &p
	}
	return out
}

func optionalDeploymentFromWire(d *wire.Deployment) *state.Deployment {
	if d == nil {
		return nil
	}
	out := deploymentFromWire(*d)
	return &out
}

// OptionalDeploymentToWire converts a deployment that may be absent.
func OptionalDeploymentToWire(d *state.Deployment) *wire.Deployment {
	if d == nil {
		return nil
	}
	out := DeploymentToWire(*d)
	return &out
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
