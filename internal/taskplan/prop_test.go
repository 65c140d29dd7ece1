package taskplan

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genSpecs draws a valid container list: dependencies point to earlier
// containers (so there is no cycle), COMPLETE and SUCCESS only on
// non-essential ones, HEALTHY only on ones with a health check, and at
// least one container is essential (taskdef enforces all of this).
func genSpecs(t *rapid.T) []ContainerSpec {
	n := rapid.IntRange(1, 5).Draw(t, "containers")
	specs := make([]ContainerSpec, n)
	for i := range specs {
		c := ContainerSpec{
			Name:         fmt.Sprintf("c%d", i),
			Essential:    rapid.Bool().Draw(t, "essential"),
			HealthCheck:  rapid.Bool().Draw(t, "health"),
			StartTimeout: rapid.SampledFrom([]time.Duration{0, 0, 5 * time.Second, 40 * time.Second}).Draw(t, "startTimeout"),
			StopTimeout:  rapid.SampledFrom([]time.Duration{0, 10 * time.Second}).Draw(t, "stopTimeout"),
		}
		for j := 0; j < i; j++ {
			if !rapid.Bool().Draw(t, "dep") {
				continue
			}
			conds := []Condition{ConditionStart}
			if !specs[j].Essential {
				conds = append(conds, ConditionComplete, ConditionSuccess)
			}
			if specs[j].HealthCheck {
				conds = append(conds, ConditionHealthy)
			}
			cond := rapid.SampledFrom(conds).Draw(t, "cond")
			c.DependsOn = append(c.DependsOn, Dependency{Container: specs[j].Name, Condition: cond})
		}
		specs[i] = c
	}
	// The last container has no dependents, so making it essential keeps
	// the COMPLETE/SUCCESS rule.
	specs[n-1].Essential = specs[n-1].Essential || !anyEssential(specs)
	return specs
}

func anyEssential(specs []ContainerSpec) bool {
	for _, c := range specs {
		if c.Essential {
			return true
		}
	}
	return false
}

// refSatisfied is a naive reading of the dependsOn conditions against the
// current states, for checking that nothing advances early.
func refSatisfied(t Task, i int) bool {
	for _, dep := range t.Containers[i].DependsOn {
		var s ContainerState
		for j, c := range t.Containers {
			if c.Name == dep.Container {
				s = t.States[j]
			}
		}
		var ok bool
		switch dep.Condition {
		case ConditionStart:
			ok = s.Phase == PhaseRunning
		case ConditionComplete:
			ok = s.Phase == PhaseStopped && s.ExitCode != nil
		case ConditionSuccess:
			ok = s.Phase == PhaseStopped && s.ExitCode != nil && *s.ExitCode == 0
		case ConditionHealthy:
			ok = s.Health == HealthHealthy
		}
		if !ok {
			return false
		}
	}
	return true
}

// refHealth is the §5.5 rule computed from the inputs directly.
func refHealth(t Task) Health {
	h, seen := HealthHealthy, false
	for i, c := range t.Containers {
		if !c.Essential {
			continue
		}
		seen = true
		ch := HealthUnknown
		if c.HealthCheck && t.States[i].Health != "" {
			ch = t.States[i].Health
		}
		switch {
		case ch == HealthUnhealthy:
			return HealthUnhealthy
		case ch != HealthHealthy:
			h = HealthUnknown
		}
	}
	if !seen {
		return HealthUnknown
	}
	return h
}

// checker holds what earlier decisions imply about later ones.
type checker struct {
	stopping bool      // a decision said Desired STOPPED
	stopped  *Decision // the first STOPPED decision
	running  bool      // a decision said RUNNING
}

// check verifies one decision d made for s.task at s.now (before its
// actions were marked).
func (c *checker) check(s *sim, d Decision) error {
	t := s.task
	upfront := t.Agent.PullDependentContainersUpfront
	if t.Desired == DesiredStopped || c.stopping {
		if d.Desired != DesiredStopped {
			return fmt.Errorf("desired went back to %s", d.Desired)
		}
	}
	seen := map[int]bool{}
	for _, a := range d.Actions {
		if seen[a.Container] {
			return fmt.Errorf("two actions for container %d", a.Container)
		}
		seen[a.Container] = true
		st := t.States[a.Container]
		name := t.Containers[a.Container].Name
		if a.Kind == Stop {
			if st.Phase != PhaseRunning {
				return fmt.Errorf("stop of %s in phase %s", name, st.Phase)
			}
			if d.Desired != DesiredStopped {
				return fmt.Errorf("stop of %s while the task should run", name)
			}
			for j, other := range t.Containers {
				for _, dep := range other.DependsOn {
					if dep.Container == name && d.Containers[j].Status != StatusStopped {
						return fmt.Errorf("stop of %s before its dependent %s stopped", name, other.Name)
					}
				}
			}
			if !st.StopSentAt.IsZero() && s.now.Before(st.StopSentAt.Add(a.Timeout+StopRetryBuffer)) {
				return fmt.Errorf("stop of %s issued again too early", name)
			}
			continue
		}
		if d.Desired == DesiredStopped || t.Desired == DesiredStopped || c.stopping {
			return fmt.Errorf("%s of %s while stopping", a.Kind, name)
		}
		if st.Applying != 0 {
			return fmt.Errorf("%s of %s while %s is under way", a.Kind, name, st.Applying)
		}
		if a.Kind != nextStep(st.Phase) || st.Phase >= PhaseRunning || st.Err != "" {
			return fmt.Errorf("%s of %s in phase %s (err %q)", a.Kind, name, st.Phase, st.Err)
		}
		if (a.Kind != Pull || !upfront) && !refSatisfied(t, a.Container) {
			return fmt.Errorf("%s of %s before its dependencies are satisfied", a.Kind, name)
		}
	}
	allStopped := true
	for _, st := range t.States {
		if st.Phase != PhaseStopped {
			allStopped = false
		}
	}
	if allStopped && d.Status != StatusStopped {
		return fmt.Errorf("every container stopped but status %s", d.Status)
	}
	if c.stopped != nil {
		if d.Status != StatusStopped || d.StopCode != c.stopped.StopCode || d.StoppedReason != c.stopped.StoppedReason || len(d.Actions) > 0 {
			return fmt.Errorf("STOPPED task changed:\n%+v\nwas\n%+v", d, *c.stopped)
		}
	}
	if d.Status == StatusRunning {
		for i, spec := range t.Containers {
			if spec.Essential && t.States[i].StartedAt.IsZero() {
				return fmt.Errorf("RUNNING with essential %s never started", spec.Name)
			}
		}
	}
	if c.running && d.Status == StatusPending {
		return fmt.Errorf("RUNNING went back to PENDING")
	}
	if err := checkTimeouts(s, d); err != nil {
		return err
	}
	if h := refHealth(t); d.Health != h {
		return fmt.Errorf("health %s, want %s", d.Health, h)
	}
	if d.Desired == DesiredStopped && d.StopCode == "" {
		return fmt.Errorf("stopping without a stop code")
	}
	c.stopping = c.stopping || d.Desired == DesiredStopped
	c.running = c.running || d.Status == StatusRunning
	if d.Status == StatusStopped && c.stopped == nil {
		dd := d
		c.stopped = &dd
	}
	return nil
}

// event is one thing the simulated world can do next.
type event struct {
	name string
	do   func() error
}

// events lists what can happen in the current state. Successful steps are
// listed several times, so that runs get far enough to have containers
// depend on running ones.
func events(t *rapid.T, s *sim) []event {
	var evs []event
	for i := range s.task.Containers {
		i, st := i, s.task.States[i]
		if st.Applying != 0 {
			k := st.Applying
			ok := event{fmt.Sprintf("complete %s c%d", k, i), func() error { return s.complete(i, k) }}
			evs = append(evs, ok, ok, ok, ok,
				event{fmt.Sprintf("fail %s c%d", k, i), func() error { return s.fail(i, k, "Cannot"+k.String()+"ContainerError: boom") }})
		}
		if st.Phase == PhaseRunning {
			code := rapid.SampledFrom([]int{0, 1, 137, 143}).Draw(t, "code")
			evs = append(evs, event{fmt.Sprintf("exit c%d %d", i, code), func() error { return s.exit(i, code, "") }})
			if s.task.Containers[i].HealthCheck {
				h := rapid.SampledFrom([]Health{HealthHealthy, HealthHealthy, HealthUnhealthy}).Draw(t, "healthResult")
				ev := event{fmt.Sprintf("%s c%d", h, i), func() error { return s.health(i, h) }}
				evs = append(evs, ev, ev)
			}
		}
	}
	if s.task.Desired != DesiredStopped {
		evs = append(evs, event{"desire STOPPED", func() error { s.desireStopped("", ""); return nil }})
	}
	dur := rapid.SampledFrom([]time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 3 * time.Minute}).Draw(t, "advance")
	evs = append(evs, event{"advance " + dur.String(), func() error { s.now = s.now.Add(dur); return nil }})
	return evs
}

// TestProperties drives random tasks through random event sequences, then
// stops them, checking the planner's invariants after every event.
func TestProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := newSim(genSpecs(t), AgentConfig{PullDependentContainersUpfront: rapid.Bool().Draw(t, "upfront")})
		var c checker
		step := func(what string) {
			d := Next(s.task, s.now)
			if err := c.check(s, d); err != nil {
				t.Fatalf("after %s: %v", what, err)
			}
			if _, err := s.next(); err != nil {
				t.Fatalf("after %s: %v", what, err)
			}
		}
		step("start")
		steps := rapid.IntRange(0, 40).Draw(t, "steps")
		for k := 0; k < steps; k++ {
			// Distinct events get distinct timestamps, as from a real
			// clock; ties are covered by the golden tests.
			s.now = s.now.Add(time.Millisecond)
			evs := events(t, s)
			ev := evs[rapid.IntRange(0, len(evs)-1).Draw(t, "event")]
			if err := ev.do(); err != nil {
				t.Fatalf("%s: %v", ev.name, err)
			}
			step(ev.name)
		}
		// Stop it: actions under way finish, stopped containers exit.
		s.now = s.now.Add(time.Millisecond)
		s.desireStopped("", "")
		step("desire STOPPED")
		for round := 0; c.stopped == nil; round++ {
			if round > 4*len(s.task.Containers)+4 {
				t.Fatalf("task never reached STOPPED: %+v", Next(s.task, s.now))
			}
			for i, st := range s.task.States {
				switch {
				case st.Applying != 0:
					if err := s.complete(i, st.Applying); err != nil {
						t.Fatal(err)
					}
				case st.Phase == PhaseRunning && !st.StopSentAt.IsZero():
					if err := s.exit(i, 143, ""); err != nil {
						t.Fatal(err)
					}
				}
			}
			s.now = s.now.Add(time.Second)
			step(fmt.Sprintf("drain round %d", round))
		}
	})
}

// TestWakeIsHonoured checks that Wake covers every change that time alone
// brings: once the actions are under way, Next gives the same decision at
// any time before Wake as now.
func TestWakeIsHonoured(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := newSim(genSpecs(t), AgentConfig{})
		if _, err := s.next(); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 30; k++ {
			base := Next(s.task, s.now)
			limit := base.Wake
			if limit.IsZero() {
				limit = s.now.Add(time.Hour)
			}
			frac := rapid.IntRange(1, 999).Draw(t, "frac")
			probe := s.now.Add(limit.Sub(s.now) * time.Duration(frac) / 1000)
			if got := Next(s.task, probe); !reflect.DeepEqual(got, base) {
				t.Fatalf("decision changed at %v before wake %v:\n%+v\n%+v", probe, base.Wake, got, base)
			}
			if !base.Wake.IsZero() && rapid.Bool().Draw(t, "toWake") {
				s.now = base.Wake
			} else {
				s.now = probe
				evs := events(t, s)
				ev := evs[rapid.IntRange(0, len(evs)-1).Draw(t, "event")]
				if err := ev.do(); err != nil {
					t.Fatalf("%s: %v", ev.name, err)
				}
			}
			if _, err := s.next(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// checkTimeouts verifies, from a plain reading of startTimeout, that no
// container still waits for a COMPLETE, SUCCESS or HEALTHY dependency whose
// startTimeout ran out before the condition was met.
func checkTimeouts(s *sim, d Decision) error {
	t := s.task
	if d.Desired == DesiredStopped {
		return nil
	}
	for i, c := range t.Containers {
		st := t.States[i]
		if d.Containers[i].Status != StatusPending || st.Applying == Start {
			continue
		}
		for _, dep := range c.DependsOn {
			var ds ContainerState
			var spec ContainerSpec
			for j, other := range t.Containers {
				if other.Name == dep.Container {
					ds, spec = t.States[j], other
				}
			}
			if dep.Condition == ConditionStart || spec.StartTimeout == 0 || ds.StartedAt.IsZero() {
				continue
			}
			deadline := ds.StartedAt.Add(spec.StartTimeout)
			var metAt time.Time
			switch dep.Condition {
			case ConditionHealthy:
				metAt = ds.HealthyAt
			case ConditionComplete, ConditionSuccess:
				if ds.Phase == PhaseStopped && (dep.Condition == ConditionComplete || *ds.ExitCode == 0) {
					metAt = ds.FinishedAt
				}
			}
			if !s.now.Before(deadline) && (metAt.IsZero() || metAt.After(deadline)) {
				return fmt.Errorf("%s still waits for %s after its startTimeout", c.Name, dep.Container)
			}
		}
	}
	return nil
}
