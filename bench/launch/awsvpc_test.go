package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestVPCFlags(t *testing.T) {
	o, err := parseFlags([]string{"--phases", "awsvpc-process,awsvpc-docker", "--awsvpc-tasks", "50, 200", "--awsvpc-rounds", "4"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.phases, ",") != "awsvpc-process,awsvpc-docker" || len(o.vpcSizes) != 2 || o.vpcSizes[1] != 200 || o.vpcRounds != 4 || o.targetVPCRatio != 1.3 {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"--awsvpc-tasks", "0"}, {"--awsvpc-tasks", "x"}, {"--awsvpc-tasks", ","}, {"--awsvpc-rounds", "0"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestVPCTaskDef(t *testing.T) {
	b := vpcTaskDef("f", "bridge", "process", "img", "/bin/app", "run1", 16, 0)
	if b.NetworkMode != types.NetworkModeBridge || len(b.ContainerDefinitions[0].PortMappings) != 0 ||
		strings.Join(b.ContainerDefinitions[0].Command, " ") != "--listen 127.0.0.1:0" {
		t.Errorf("bridge: %+v", b)
	}
	a := vpcTaskDef("f", "awsvpc", "process", "img", "/bin/app", "run1", 16, 0)
	c := a.ContainerDefinitions[0]
	if a.NetworkMode != types.NetworkModeAwsvpc || len(c.PortMappings) != 1 || *c.PortMappings[0].ContainerPort != 8080 ||
		strings.Join(c.Command, " ") != "--listen :8080" {
		t.Errorf("awsvpc process: %+v", a)
	}
	d := vpcTaskDef("f", "awsvpc", "docker", "img", "/bin/app", "run1", 16, 0).ContainerDefinitions[0]
	if len(d.Command) != 0 || len(d.EntryPoint) != 0 {
		t.Errorf("awsvpc docker overrides the image: %q %q", d.EntryPoint, d.Command)
	}
}

func TestVPCRows(t *testing.T) {
	res := func(run, stop float64) *launchResult {
		return &launchResult{requested: 10, launched: 10, running: 10, stopped: 10,
			toRunning: time.Duration(run * float64(time.Second)), toStopped: time.Duration(stop * float64(time.Second))}
	}
	r := &vpcRun{runtime: "process", launches: []*vpcLaunch{
		{mode: "bridge", tasks: 10, round: 1, res: res(1, 1)},
		{mode: "awsvpc", tasks: 10, round: 1, res: res(2, 3)},
		{mode: "awsvpc", tasks: 10, round: 2, res: res(1.2, 1)},
		{mode: "bridge", tasks: 10, round: 2, res: res(1, 0.5)},
		{mode: "bridge", tasks: 10, round: 3, res: res(4, 1)},
		{mode: "awsvpc", tasks: 10, round: 3, res: res(4.4, 2)},
	}}
	rows := r.rows()
	if len(rows) != 2 || rows[0].mode != "bridge" || rows[1].mode != "awsvpc" {
		t.Fatalf("rows %+v", rows)
	}
	a := rows[1]
	// Medians: bridge 1 s / 1 s, awsvpc 2 s / 2 s; per-round ratios to
	// RUNNING 2, 1.2, 1.1 and to STOPPED 3, 2, 2.
	if a.toRun != 2 || a.ratioRun != 2 || a.ratioStop != 2 || a.pairedRun != 1.2 || a.pairedStp != 2 || a.running != 30 {
		t.Errorf("awsvpc row %+v", a)
	}
}
