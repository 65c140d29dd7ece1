package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--configs", "50/100", "--systems", "swarm,berth,swarm", "--repeat", "1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.configs) != 1 || o.configs[0] != (config{50, 100}) || strings.Join(o.systems, ",") != "swarm,berth" ||
		o.repeat != 1 || o.tasks != 10 || o.healthInterval != 5*time.Second || o.healthRetries != 3 {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{
		{"--systems", "k8s"}, {"--systems", ""}, {"--configs", "100/100"}, {"--health-interval", "4s"},
		{"--health-interval", "5500ms"}, {"--health-timeout", "1s"}, {"--health-retries", "0"}, {"--image", "x:v1"},
		{"--tasks", "0"}, {"stray"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestRunOrder(t *testing.T) {
	s := []string{"berth", "swarm"}
	if got := strings.Join(runOrder(s, 1), ","); got != "berth,swarm" {
		t.Errorf("odd repetition: %s", got)
	}
	if got := strings.Join(runOrder(s, 2), ","); got != "swarm,berth" {
		t.Errorf("even repetition: %s", got)
	}
	if s[0] != "berth" {
		t.Error("runOrder changed its argument")
	}
}

func TestResultDerived(t *testing.T) {
	r := &result{allHealthy: 9 * time.Second, oldStopped: 10 * time.Second, completed: 10500 * time.Millisecond}
	if r.converged() != 10*time.Second || r.settle() != 500*time.Millisecond {
		t.Errorf("converged %s, settle %s", r.converged(), r.settle())
	}
	if (&result{allHealthy: time.Second}).settle() != 0 {
		t.Error("settle without COMPLETED is not unknown")
	}
	if got := shortErr("operation error ECS: DescribeTasks, deserialization failed, read tcp: use of closed network connection"); got != "read tcp: use of closed network connection" {
		t.Errorf("shortErr = %q", got)
	}
}

func TestReasons(t *testing.T) {
	got := reasons([]string{"b", "a", "b", ""})
	if got != "2 × b, 1 × a, 1 × no reason given" {
		t.Errorf("reasons = %q", got)
	}
}
