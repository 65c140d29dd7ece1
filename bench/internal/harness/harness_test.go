package harness

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := MedPos([]float64{0, 5, -1, 7, 6}, func(x float64) float64 { return x }); got != 6 {
		t.Errorf("MedPos ignores unknown values: got %v, want 6", got)
	}
}

func TestDescendantsCPU(t *testing.T) {
	procs := []ProcEntry{
		{Pid: 1, PPid: 0, CPU: 100},
		{Pid: 10, PPid: 1, CPU: 5},    // the agent
		{Pid: 11, PPid: 10, CPU: 1},   // shim
		{Pid: 12, PPid: 11, CPU: 2},   // workload
		{Pid: 13, PPid: 10, CPU: 0.5}, // shim
		{Pid: 20, PPid: 1, CPU: 9},    // unrelated
	}
	if got := DescendantsCPU(procs, 10); got != 3.5 {
		t.Errorf("DescendantsCPU = %v, want 3.5", got)
	}
	engine := []ProcEntry{
		{Pid: 1, PPid: 0, Comm: "init", CPU: 100},
		{Pid: 2, PPid: 1, Comm: "dockerd", CPU: 4},
		{Pid: 3, PPid: 1, Comm: "containerd-shim", CPU: 1},
		{Pid: 4, PPid: 3, Comm: "berth-testapp", CPU: 0.5},
		{Pid: 5, PPid: 1, Comm: "berth", CPU: 7},
	}
	if got := EngineTreeCPU(engine); got != 5.5 {
		t.Errorf("EngineTreeCPU = %v, want 5.5", got)
	}
}

func TestWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := CPUSample{At: t0, Server: 1, Agent: 1, Tasks: 0, Engine: 0, Host: 10, Bench: 1}
	b := CPUSample{At: t0.Add(2 * time.Second), Server: 2, Agent: 2, Tasks: 1, Engine: 0, Host: 15, Bench: 1.5}
	w := Window(a, b)
	if w.Server != 0.5 || w.Agent != 0.5 || w.Tasks != 0.5 || w.Host != 2.5 || w.Bench != 0.25 || w.Other != 0.75 {
		t.Errorf("Window = %+v", w)
	}
}

func TestLabelAndAPITime(t *testing.T) {
	if got := Label(`berth_api_request_duration_seconds_sum{operation="RunTask"}`, "operation"); got != "RunTask" {
		t.Errorf("Label = %q", got)
	}
	a := MetricsSample{OpSum: map[string]float64{"RunTask": 1}, OpCount: map[string]float64{"RunTask": 10}}
	b := MetricsSample{OpSum: map[string]float64{"RunTask": 1.5}, OpCount: map[string]float64{"RunTask": 110}}
	if got := APITime(a, b, "RunTask", "StopTask"); got != "RunTask 100 × 5.00 ms" {
		t.Errorf("apiTime = %q", got)
	}
}
