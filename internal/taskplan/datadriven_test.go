package taskplan

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the scripts in testdata. Directives:
//
//	define [upfront] [agent-stop=DUR]
//	<name> [nonessential] [health] [start=DUR] [stop=DUR] [dep=NAME:COND ...]
//
// starts a task at t+0s with these containers and prints the first decision.
//
//	run
//	<one event per line, see sim.apply>
//
// applies each event, calls Next and prints the decision after each one.
// After every decision the harness, like the shell, marks the actions as
// under way (Applying, StopSentAt); completing an action that was not
// issued is an error, so the scripts can only follow the planner.
func TestDataDriven(t *testing.T) {
	// Only the scripts: rapid keeps its failure files under testdata/rapid.
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { runScript(t, path) })
	}
}

func runScript(t *testing.T, path string) {
	var s *sim
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "define":
			var agent AgentConfig
			agent.PullDependentContainersUpfront = d.HasArg("upfront")
			if d.HasArg("agent-stop") {
				var v string
				d.ScanArgs(t, "agent-stop", &v)
				dur, err := time.ParseDuration(v)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				agent.StopTimeout = dur
			}
			var specs []ContainerSpec
			for _, l := range nonEmptyLines(d.Input) {
				c, err := parseContainer(l)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				specs = append(specs, c)
			}
			s = newSim(specs, agent)
			text, err := s.step()
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			return text
		case "run":
			if s == nil {
				d.Fatalf(t, "run before define")
			}
			var out strings.Builder
			for _, l := range nonEmptyLines(d.Input) {
				if err := s.apply(l); err != nil {
					d.Fatalf(t, "%s: %v", l, err)
				}
				text, err := s.step()
				if err != nil {
					d.Fatalf(t, "%s: %v", l, err)
				}
				fmt.Fprintf(&out, "> %s\n%s", strings.TrimSpace(l), text)
			}
			return out.String()
		}
		d.Fatalf(t, "unknown directive %q", d.Cmd)
		return ""
	})
}

// step formats the decision for the current state, then marks its actions.
func (s *sim) step() (string, error) {
	d := Next(s.task, s.now)
	text := s.format(d)
	if _, err := s.next(); err != nil {
		return "", err
	}
	return text, nil
}

func nonEmptyLines(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
