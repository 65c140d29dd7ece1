package fsm

import (
	"testing"

	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func TestTaskHealth(t *testing.T) {
	hc := &shape.HealthCheck{Command: []string{"CMD", "true"}}
	def := func(cds ...shape.ContainerDefinition) *state.TaskDefinition {
		return &state.TaskDefinition{Def: &shape.TaskDefinition{ContainerDefinitions: cds}}
	}
	cd := func(name string, essential bool, check bool) shape.ContainerDefinition {
		c := shape.ContainerDefinition{Name: ptr(name), Essential: ptr(essential)}
		if check {
			c.HealthCheck = hc
		}
		return c
	}
	ct := func(name string, h shape.HealthStatus) shape.Container {
		return shape.Container{Name: ptr(name), HealthStatus: h}
	}
	U, H, X := shape.HealthStatusUnknown, shape.HealthStatusHealthy, shape.HealthStatusUnhealthy
	cases := []struct {
		name       string
		td         *state.TaskDefinition
		containers []shape.Container
		want       shape.HealthStatus
	}{
		{"no health checks", def(cd("app", true, false)), []shape.Container{ct("app", U)}, U},
		{"essential healthy", def(cd("app", true, true)), []shape.Container{ct("app", H)}, H},
		{"essential still unknown", def(cd("app", true, true)), []shape.Container{ct("app", U)}, U},
		{"essential unhealthy", def(cd("app", true, true), cd("db", true, true)), []shape.Container{ct("app", H), ct("db", X)}, X},
		{"unhealthy wins over unknown", def(cd("a", true, true), cd("b", true, true)), []shape.Container{ct("a", U), ct("b", X)}, X},
		{"an essential sidecar without a check does not count", def(cd("app", true, true), cd("proxy", true, false)), []shape.Container{ct("app", H), ct("proxy", U)}, H},
		{"non-essential ignored when an essential has a check", def(cd("app", true, true), cd("job", false, true)), []shape.Container{ct("app", H), ct("job", X)}, H},
		{"non-essential decides when no essential has a check", def(cd("app", true, false), cd("job", false, true)), []shape.Container{ct("app", U), ct("job", X)}, X},
		{"non-essential healthy decides", def(cd("app", true, false), cd("job", false, true)), []shape.Container{ct("app", U), ct("job", H)}, H},
		{"unknown definition", nil, []shape.Container{ct("app", H)}, U},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := taskHealth(tc.td, tc.containers); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}
