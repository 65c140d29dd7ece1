package taskdef

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// checkDependencies validates dependsOn: the dependency must be another
// container of the definition, COMPLETE and SUCCESS cannot wait on an essential
// container, HEALTHY needs a health check, and the graph has no cycle.
func (b *builder) checkDependencies() *apierr.Error {
	for _, c := range b.td.ContainerDefinitions {
		for _, d := range c.DependsOn {
			target := deref(d.ContainerName)
			if target == *c.Name {
				return clientf("Container '%s' cannot depend on itself.", target)
			}
			dep, ok := b.byName[target]
			if !ok {
				if d.ContainerName == nil {
					target = "null"
				}
				return clientf("Container '%s' cannot depend on container '%s' because it does not exist in the task definition.", *c.Name, target)
			}
			switch d.Condition {
			case shape.ContainerConditionComplete, shape.ContainerConditionSuccess:
				if dep.Essential == nil || *dep.Essential {
					return clientf("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container")
				}
			case shape.ContainerConditionHealthy:
				if dep.HealthCheck == nil {
					return clientf("A dependency container with HEALTHY condition must have a health check configured. Container '%s' has none.", target)
				}
			}
		}
	}
	return b.checkDependencyCycles()
}

func (b *builder) checkDependencyCycles() *apierr.Error {
	const (
		visiting = iota + 1
		done
	)
	state := map[string]int{}
	var visit func(name string) bool
	visit = func(name string) bool {
		switch state[name] {
		case visiting:
			return true
		case done:
			return false
		}
		state[name] = visiting
		for _, d := range b.byName[name].DependsOn {
			if visit(*d.ContainerName) {
				return true
			}
		}
		state[name] = done
		return false
	}
	for _, c := range b.td.ContainerDefinitions {
		if visit(*c.Name) {
			return clientf("The container dependencies of the task definition contain a cycle.")
		}
	}
	return nil
}
