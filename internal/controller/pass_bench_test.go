package controller

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/raftnode"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func bp[T any](v T) *T { return &v }

// BenchmarkPassRaft is one controller pass over 200 services that each
// need a round and a start (desired count raised by one before the pass),
// committed through a real raft node (bbolt log, fsync).
func BenchmarkPassRaft(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	m := fsm.New(arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}, log)
	n, err := raftnode.Open(ctx, raftnode.Config{DataDir: b.TempDir()}, m, log)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	must := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	meta := wire.Meta{Now: now}
	must(n.Apply(ctx, wire.CreateCluster{Meta: meta, Name: "c"}))
	must(n.Apply(ctx, wire.RegisterContainerInstance{Meta: meta, Cluster: "c", NewID: "i1", EC2InstanceID: "i-1",
		TotalResources: []shape.Resource{{Name: bp("CPU"), Type: bp("INTEGER"), IntegerValue: 1 << 30}, {Name: bp("MEMORY"), Type: bp("INTEGER"), IntegerValue: 1 << 30}}}))
	must(n.Apply(ctx, wire.InstanceConnection{Meta: meta, InstanceID: "i1", Session: "s", Connected: true}))
	must(n.Apply(ctx, wire.RegisterTaskDefinition{Meta: meta, Def: &shape.TaskDefinition{Family: bp("app"),
		ContainerDefinitions: []shape.ContainerDefinition{{Name: bp("app"), Image: bp("x"), Memory: bp(int32(1))}}}}))
	const services = 200
	for i := range services {
		must(n.Apply(ctx, wire.CreateService{Meta: meta, Cluster: "c", Name: fmt.Sprintf("s%03d", i), Family: "app", Revision: 1,
			DeploymentID: fmt.Sprintf("ecs-svc/%d", i), Fingerprint: "f",
			Shape: &shape.Service{DesiredCount: 0, SchedulingStrategy: shape.SchedulingStrategyReplica,
				DeploymentConfiguration: &shape.DeploymentConfiguration{MinimumHealthyPercent: bp(int32(100)), MaximumPercent: bp(int32(200))}}}))
	}
	cfg := deploy.DefaultConfig()
	ids := 0
	s := NewServices(Config{State: m, Proposer: n, Log: log, Deploy: &cfg,
		NewTaskID: func() string { ids++; return fmt.Sprintf("t%08d", ids) }, NewUUID: func() string { ids++; return fmt.Sprintf("u%08d", ids) }})
	s.pass(ctx) // settle
	desired := int32(0)
	for b.Loop() {
		b.StopTimer()
		desired++
		for i := range services {
			must(n.Apply(ctx, wire.UpdateService{Meta: wire.Meta{Now: time.Now()}, Cluster: "c", Name: fmt.Sprintf("s%03d", i), DesiredCount: &desired, DeploymentID: "x"}))
		}
		b.StartTimer()
		s.pass(ctx)
	}
	b.StopTimer()
	var tasks int
	m.Snapshot().Tasks("c", "", func(*state.Task) bool { tasks++; return true })
	if tasks != services*int(desired) {
		b.Fatalf("%d tasks after %d passes, want %d", tasks, desired, services*int(desired))
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(desired), "s/pass")
}
