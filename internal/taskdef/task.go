package taskdef

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// Ephemeral storage bounds (GiB).
const (
	minEphemeralGiB = 21
	maxEphemeralGiB = 200
)

// checkTaskOptions validates the task-level members not covered elsewhere.
func (b *builder) checkTaskOptions() *apierr.Error {
	td := b.td
	if len(td.PlacementConstraints) > maxPlacementConstraints {
		return clientf("Too many placement constraints. A task definition can have at most %d.", maxPlacementConstraints)
	}
	for _, p := range td.PlacementConstraints {
		if p.Type == shape.TaskDefinitionPlacementConstraintTypeMemberOf && deref(p.Expression) == "" {
			return clientf("A memberOf placement constraint requires an expression.")
		}
	}
	if e := td.EphemeralStorage; e != nil && (e.SizeInGiB < minEphemeralGiB || e.SizeInGiB > maxEphemeralGiB) {
		return clientf("Invalid 'ephemeralStorage.sizeInGiB' setting for task. It must be between %d and %d.", minEphemeralGiB, maxEphemeralGiB)
	}
	if p := td.ProxyConfiguration; p != nil {
		name := deref(p.ContainerName)
		if name == "" {
			return clientf("proxyConfiguration.containerName should not be null or empty.")
		}
		if _, ok := b.byName[name]; !ok {
			return clientf("proxyConfiguration.containerName '%s' does not name a container of the task definition.", name)
		}
	}
	if deref(td.ExecutionRoleArn) == "" {
		for _, c := range td.ContainerDefinitions {
			if len(c.Secrets) > 0 {
				// The agent fetches secrets with the execution role.
				return clientf("When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.")
			}
		}
	}
	for _, a := range td.InferenceAccelerators {
		if deref(a.DeviceName) == "" || deref(a.DeviceType) == "" {
			return clientf("inferenceAccelerators need a deviceName and a deviceType.")
		}
	}
	return nil
}

// checkRequiredCompatibilities verifies the definition against every launch
// type named in requiresCompatibilities.
func (b *builder) checkRequiredCompatibilities() *apierr.Error {
	if b.requires(shape.CompatibilityFargate) {
		if err := b.fargateProblem(); err != nil {
			return err
		}
	}
	if b.requires(shape.CompatibilityExternal) {
		if err := b.externalProblem(); err != nil {
			return err
		}
	}
	if b.requires(shape.CompatibilityManagedInstances) {
		if err := b.managedInstancesProblem(); err != nil {
			return err
		}
	}
	return nil
}
