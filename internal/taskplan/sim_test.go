package taskplan

import (
	"fmt"
	"reflect"
	"slices"
	"time"
)

// t0 is the tests' task creation time. Real clocks never give the zero time,
// and the planner relies on that.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// sim plays the shell: it holds the task, applies events to it the way the
// agent's shell would, and marks the planner's actions as under way.
type sim struct {
	task Task
	now  time.Time
}

func newSim(specs []ContainerSpec, agent AgentConfig) *sim {
	return &sim{
		task: Task{
			Desired:    DesiredRunning,
			Containers: specs,
			States:     make([]ContainerState, len(specs)),
			CreatedAt:  t0,
			Agent:      agent,
		},
		now: t0,
	}
}

func (s *sim) index(name string) (int, error) {
	for i, c := range s.task.Containers {
		if c.Name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no container %q", name)
}

// next calls the planner twice on a copy of the task, checks that it is
// deterministic and leaves its input alone, and marks the returned actions
// as under way.
func (s *sim) next() (Decision, error) {
	before := cloneTask(s.task)
	d := Next(s.task, s.now)
	if again := Next(s.task, s.now); !reflect.DeepEqual(d, again) {
		return d, fmt.Errorf("Next is not deterministic:\n%+v\n%+v", d, again)
	}
	if !reflect.DeepEqual(before, s.task) {
		return d, fmt.Errorf("Next modified its input")
	}
	for _, a := range d.Actions {
		st := &s.task.States[a.Container]
		if a.Kind == Stop {
			st.StopSentAt = s.now
		} else {
			st.Applying = a.Kind
		}
	}
	return d, nil
}

// complete finishes the action under way on container i, successfully.
func (s *sim) complete(i int, kind ActionKind) error {
	st := &s.task.States[i]
	if st.Applying != kind {
		return fmt.Errorf("%s: no %s under way (applying %s)", s.task.Containers[i].Name, kind, st.Applying)
	}
	st.Applying = 0
	switch kind {
	case Pull:
		st.Phase = PhasePulled
	case Create:
		st.Phase = PhaseCreated
	case Start:
		st.Phase, st.StartedAt = PhaseRunning, s.now
	}
	return nil
}

// fail ends the action under way on container i with an error.
func (s *sim) fail(i int, kind ActionKind, msg string) error {
	st := &s.task.States[i]
	if st.Applying != kind {
		return fmt.Errorf("%s: no %s under way (applying %s)", s.task.Containers[i].Name, kind, st.Applying)
	}
	st.Applying, st.Err, st.FinishedAt = 0, msg, s.now
	return nil
}

// exit records that running container i exited.
func (s *sim) exit(i int, code int, reason string) error {
	st := &s.task.States[i]
	if st.Phase != PhaseRunning {
		return fmt.Errorf("%s is not running (%s)", s.task.Containers[i].Name, st.Phase)
	}
	st.Phase, st.ExitCode, st.FinishedAt = PhaseStopped, &code, s.now
	if reason != "" {
		st.Err = reason
	}
	return nil
}

// health records a health check result for running container i.
func (s *sim) health(i int, h Health) error {
	st := &s.task.States[i]
	if st.Phase != PhaseRunning || !s.task.Containers[i].HealthCheck {
		return fmt.Errorf("%s has no running health check", s.task.Containers[i].Name)
	}
	st.Health = h
	if h == HealthHealthy && st.HealthyAt.IsZero() {
		st.HealthyAt = s.now
	}
	return nil
}

// desireStopped records the control plane's stop request.
func (s *sim) desireStopped(code, reason string) {
	if s.task.Desired == DesiredStopped {
		return
	}
	s.task.Desired, s.task.StopCode, s.task.StopReason, s.task.StoppingAt = DesiredStopped, code, reason, s.now
}

func cloneTask(t Task) Task {
	c := t
	c.Containers = slices.Clone(t.Containers)
	for i := range c.Containers {
		c.Containers[i].DependsOn = slices.Clone(c.Containers[i].DependsOn)
	}
	c.States = slices.Clone(t.States)
	for i := range c.States {
		if e := c.States[i].ExitCode; e != nil {
			v := *e
			c.States[i].ExitCode = &v
		}
	}
	return c
}
