package agent

import (
	"reflect"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/shape"
)

// The Docker runtime runs health checks itself; the agent only reads them.
var _ nativeHealth = (*docker.Driver)(nil)

func TestHealthSpec(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	for name, c := range map[string]struct {
		in   *shape.HealthCheck
		want *driver.HealthCheck
	}{
		"none":       {nil, nil},
		"no command": {&shape.HealthCheck{}, nil},
		"NONE":       {&shape.HealthCheck{Command: []string{"NONE"}}, nil},
		"bare shell": {&shape.HealthCheck{Command: []string{"CMD-SHELL"}}, nil},
		"ECS defaults": {&shape.HealthCheck{Command: []string{"CMD", "/probe", "x"}},
			&driver.HealthCheck{Test: []string{"CMD", "/probe", "x"}, Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 3}},
		"shell, all set": {&shape.HealthCheck{Command: []string{"CMD-SHELL", "curl -f localhost"}, Interval: i32(5), Timeout: i32(2), Retries: i32(1), StartPeriod: i32(60)},
			&driver.HealthCheck{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, Retries: 1, StartPeriod: time.Minute}},
		"argv without CMD": {&shape.HealthCheck{Command: []string{"/probe"}},
			&driver.HealthCheck{Test: []string{"CMD", "/probe"}, Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 3}},
	} {
		if got := healthSpec(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}
