package taskplan

import (
	"strings"
	"testing"
	"time"
)

func TestNext_EdgeInputs(t *testing.T) {
	running := ContainerState{Phase: PhaseRunning, StartedAt: t0}
	tests := []struct {
		name       string
		task       Task
		wantStatus string
		wantCode   string
		wantAction []Action
		wantReason string // substring of container 1's reason
	}{{
		name:       "missing states read as zero",
		task:       Task{Containers: []ContainerSpec{{Name: "a", Essential: true}}},
		wantStatus: StatusPending,
		wantAction: []Action{{Kind: Pull, Container: 0, Timeout: DefaultPullTimeout}},
	}, {
		name: "unknown dependency fails an essential dependent",
		task: Task{
			Containers: []ContainerSpec{{Name: "a", Essential: true}, {Name: "b", Essential: true, DependsOn: []Dependency{{"ghost", ConditionStart}}}},
			States:     []ContainerState{running, {}},
		},
		wantStatus: StatusPending, // b is essential and never ran
		wantCode:   StopCodeTaskFailedToStart,
		wantAction: []Action{{Kind: Stop, Container: 0, Timeout: DefaultStopTimeout}},
		wantReason: "does not exist",
	}, {
		name: "HEALTHY on a container without a health check can never be met",
		task: Task{
			Containers: []ContainerSpec{{Name: "a", Essential: true}, {Name: "b", DependsOn: []Dependency{{"a", ConditionHealthy}}}},
			States:     []ContainerState{running, {}},
		},
		wantStatus: StatusRunning,
		wantReason: "has no health check",
	}, {
		name: "a dependency cycle only waits",
		task: Task{Containers: []ContainerSpec{
			{Name: "a", Essential: true, DependsOn: []Dependency{{"b", ConditionStart}}},
			{Name: "b", Essential: true, DependsOn: []Dependency{{"a", ConditionStart}}},
		}},
		wantStatus: StatusPending,
	}, {
		name: "a stop request with no code is UserInitiated",
		task: Task{
			Desired:    DesiredStopped,
			Containers: []ContainerSpec{{Name: "a", Essential: true, StopTimeout: 7 * time.Second}},
			States:     []ContainerState{running},
			Agent:      AgentConfig{StopTimeout: time.Minute},
		},
		wantStatus: StatusRunning,
		wantCode:   StopCodeUserInitiated,
		wantAction: []Action{{Kind: Stop, Container: 0, Timeout: 7 * time.Second}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Next(tc.task, t0.Add(time.Minute))
			if d.Status != tc.wantStatus || d.StopCode != tc.wantCode {
				t.Errorf("got status %s code %q, want %s %q", d.Status, d.StopCode, tc.wantStatus, tc.wantCode)
			}
			if len(d.Actions) != len(tc.wantAction) {
				t.Fatalf("got actions %v, want %v", d.Actions, tc.wantAction)
			}
			for i := range d.Actions {
				if d.Actions[i] != tc.wantAction[i] {
					t.Errorf("got action %v, want %v", d.Actions[i], tc.wantAction[i])
				}
			}
			if tc.wantReason != "" && !strings.Contains(d.Containers[1].Reason, tc.wantReason) {
				t.Errorf("got reason %q, want it to contain %q", d.Containers[1].Reason, tc.wantReason)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{PhaseNone.String(), "NONE"},
		{PhaseStopped.String(), "STOPPED"},
		{Phase(9).String(), "Phase(?)"},
		{Pull.String(), "pull"},
		{Stop.String(), "stop"},
		{ActionKind(0).String(), "none"},
		{ActionKind(-1).String(), "ActionKind(?)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
