package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/bench/internal/harness"
)

func TestStatusCounts(t *testing.T) {
	got := statusCounts([]string{"arn:a: PENDING", "arn:b: RUNNING", "arn:c: PENDING"})
	if got != "PENDING 2, RUNNING 1" {
		t.Errorf("statusCounts = %q", got)
	}
}

func TestPidRecord(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "workload.json")
	if err := os.WriteFile(p, []byte(`{"pid":4242,"startTicks":1234,"startedAt":"2026-01-02T03:04:05Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	pid, start := pidRecord(p)
	if pid != 4242 || start != 1234 {
		t.Errorf("pidRecord = %d, %d", pid, start)
	}
	if pid, _ := pidRecord(filepath.Join(dir, "missing.json")); pid != 0 {
		t.Errorf("missing record: pid %d", pid)
	}
}

func TestSameProcessSelf(t *testing.T) {
	if !sameProcess(os.Getpid(), 0) {
		t.Error("this process is not seen alive")
	}
	if sameProcess(os.Getpid(), 1) {
		t.Error("a wrong start time is not detected")
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--phases", "process,swarm,process", "--count", "5"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.phases, ",") != "process,swarm" || o.perCall != 5 || o.processTasks != 1000 || o.repeat != 3 || o.processRepeat != 1 {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"--count", "11"}, {"--phases", "k8s"}, {"--phases", ""}, {"--task-memory", "4"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestTaskDef(t *testing.T) {
	in := taskDef("f", "process", "img", "/bin/app", "run1", 16, 0)
	c := in.ContainerDefinitions[0]
	if len(c.EntryPoint) != 1 || c.EntryPoint[0] != "/bin/app" || strings.Join(c.Command, " ") != "--listen 127.0.0.1:0" {
		t.Errorf("process task definition runs %q %q", c.EntryPoint, c.Command)
	}
	if c.DockerLabels[benchLabel] != "run1" || *c.Memory != 16 {
		t.Errorf("labels %v memory %d", c.DockerLabels, *c.Memory)
	}
	d := taskDef("f", "docker", "img", "/bin/app", "run1", 16, 0).ContainerDefinitions[0]
	if len(d.EntryPoint) != 0 || len(d.Command) != 0 {
		t.Errorf("docker task definition overrides the image: %q %q", d.EntryPoint, d.Command)
	}
}

func TestAPITime(t *testing.T) {
	a := harness.MetricsSample{OpSum: map[string]float64{"RunTask": 1}, OpCount: map[string]float64{"RunTask": 10}}
	b := harness.MetricsSample{OpSum: map[string]float64{"RunTask": 1.5, "Other": 3}, OpCount: map[string]float64{"RunTask": 110, "Other": 3}}
	if got := apiTime(a, b); got != "RunTask 100 × 5.00 ms" {
		t.Errorf("apiTime = %q", got)
	}
}
