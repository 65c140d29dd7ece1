package elbapi

import (
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/shape"
)

var update = flag.Bool("update", false, "rewrite golden files")

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type fakeCerts map[string]string

func (f fakeCerts) Certificate(arn string) (string, string, bool) {
	c, ok := f[arn]
	return c, "KEY " + arn, ok
}

func sp(s string) *string { return &s }

// applyAll applies commands to a new machine and fails on any error.
func applyAll(t *testing.T, m *fsm.Machine, cmds ...wire.Command) {
	t.Helper()
	for i, c := range cmds {
		b, err := wire.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if r := m.Apply(uint64(i+1), b); r.Err != nil {
			t.Fatalf("%s: %v", c.Type(), r.Err)
		}
	}
}

func TestRenderConfigGolden(t *testing.T) {
	m := fsm.New(arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}, slog.New(slog.DiscardHandler))
	meta := func(n int) wire.Meta { return wire.Meta{Now: epoch.Add(time.Duration(n) * time.Second)} }
	const p = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	lbARN, nlbARN := p+"loadbalancer/app/web/0000000000000001", p+"loadbalancer/net/tcp/0000000000000002"
	tgA, tgB, tgI := p+"targetgroup/a/00000000000000a1", p+"targetgroup/b/00000000000000a2", p+"targetgroup/i/00000000000000a3"
	lARN := p + "listener/app/web/0000000000000001/00000000000000b1"
	cert := "arn:aws:acm:us-east-1:123456789012:certificate/1"
	w2 := 2
	applyAll(t, m,
		wire.CreateCluster{Meta: meta(0), Name: "prod"},
		wire.RegisterContainerInstance{Meta: meta(0), Cluster: "prod", NewID: "ci1", EC2InstanceID: "i-1",
			Attributes: []shape.Attribute{{Name: sp(HostAddressAttribute), Value: sp("10.1.2.3")}}},
		wire.CreateLoadBalancer{Meta: meta(1), ID: "0000000000000001", Name: "web", LBType: "application", Scheme: "internet-facing", IPAddressType: "ipv4", Subnets: []string{"subnet-a", "subnet-b"}, Address: "127.0.1.1"},
		wire.CreateLoadBalancer{Meta: meta(1), ID: "0000000000000002", Name: "tcp", LBType: "network", Scheme: "internal", IPAddressType: "ipv4", Subnets: []string{"subnet-a"}, Address: "127.0.1.2"},
		wire.ModifyLoadBalancer{Meta: meta(2), ARN: lbARN, Attributes: map[string]string{"idle_timeout.timeout_seconds": "90", "routing.http.xff_header_processing.mode": "preserve"}},
		wire.CreateTargetGroup{Meta: meta(3), ID: "00000000000000a1", Name: "a", Protocol: "HTTP", ProtocolVersion: "HTTP1", Port: 80, VpcID: "vpc-1", TargetType: "ip", IPAddressType: "ipv4", HealthCheck: elb.DefaultHealthCheck("HTTP", "HTTP1")},
		wire.CreateTargetGroup{Meta: meta(3), ID: "00000000000000a2", Name: "b", Protocol: "HTTP", ProtocolVersion: "HTTP1", Port: 81, VpcID: "vpc-1", TargetType: "ip", IPAddressType: "ipv4", HealthCheck: elb.DefaultHealthCheck("HTTP", "HTTP1")},
		wire.CreateTargetGroup{Meta: meta(3), ID: "00000000000000a3", Name: "i", Protocol: "TCP", Port: 9000, VpcID: "vpc-1", TargetType: "instance", IPAddressType: "ipv4", HealthCheck: elb.DefaultHealthCheck("TCP", "")},
		wire.ModifyTargetGroup{Meta: meta(4), ARN: tgA, Attributes: map[string]string{"stickiness.enabled": "true", "deregistration_delay.timeout_seconds": "60"}},
		wire.RegisterTargets{Meta: meta(5), ARN: tgA, Targets: []elb.Target{{ID: "127.0.0.1", Port: 8080}, {ID: "127.0.0.2", Port: 8080}, {ID: "127.0.0.3", Port: 8080}}},
		wire.DeregisterTargets{Meta: meta(6), ARN: tgA, Targets: []elb.Target{{ID: "127.0.0.2"}}},
		wire.RegisterTargets{Meta: meta(6), ARN: tgI, Targets: []elb.Target{{ID: "i-1", Port: 9000}}},
		wire.CreateListener{Meta: meta(7), ID: "00000000000000b1", RuleID: "00000000000000c1", LoadBalancerARN: lbARN, Port: 443, Protocol: "HTTPS",
			Certificates: []string{cert}, DefaultActions: []elb.Action{{Type: "forward", TargetGroupArn: tgA}}},
		wire.CreateListener{Meta: meta(7), ID: "00000000000000b2", RuleID: "00000000000000c2", LoadBalancerARN: lbARN, Port: 80, Protocol: "HTTP",
			DefaultActions: []elb.Action{{Type: "redirect", Redirect: &elb.RedirectConfig{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}}}},
		wire.CreateListener{Meta: meta(7), ID: "00000000000000b3", RuleID: "00000000000000c3", LoadBalancerARN: nlbARN, Port: 9000, Protocol: "TCP",
			DefaultActions: []elb.Action{{Type: "forward", TargetGroupArn: tgI}}},
		wire.CreateRule{Meta: meta(8), ID: "00000000000000d2", ListenerARN: lARN, Priority: 20,
			Conditions: []elb.RuleCondition{{Field: "http-header", HttpHeaderConfig: &elb.HttpHeaderConfig{HttpHeaderName: "X-Env", Values: []string{"canary"}}}},
			Actions:    []elb.Action{{Type: "forward", Forward: &elb.ForwardConfig{TargetGroups: []elb.TargetGroupTuple{{TargetGroupArn: tgA}, {TargetGroupArn: tgB, Weight: &w2}}, Stickiness: &elb.Stickiness{Enabled: true, DurationSeconds: 60}}}}},
		wire.CreateRule{Meta: meta(8), ID: "00000000000000d1", ListenerARN: lARN, Priority: 10,
			Conditions: []elb.RuleCondition{{Field: "path-pattern", Values: []string{"/health"}}},
			Actions:    []elb.Action{{Type: "fixed-response", FixedResponse: &elb.FixedResponseConfig{StatusCode: "200", ContentType: "text/plain", MessageBody: "ok"}}}},
	)
	cfg := RenderConfig(m.Snapshot(), epoch.Add(10*time.Second), fakeCerts{cert: "CHAIN"})
	got, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "render.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("RenderConfig differs from %s (-update rewrites it):\n%s", path, got)
	}
	// After the deregistration delay the draining target is gone.
	later := RenderConfig(m.Snapshot(), epoch.Add(time.Hour), nil)
	for _, tg := range later.TargetGroups {
		if tg.ARN == tgA && len(tg.Targets) != 2 {
			t.Errorf("after the delay, %d targets, want 2", len(tg.Targets))
		}
	}
	if len(later.Certificates) != 0 || len(later.LoadBalancers[0].Listeners[1].Certificates) != 0 {
		t.Errorf("without a certificate source no certificate is rendered")
	}
}

func TestConfigSourceWakesOnChange(t *testing.T) {
	m := fsm.New(arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}, slog.New(slog.DiscardHandler))
	src := &ConfigSource{State: m}
	cfg, changed := src.Config()
	if len(cfg.LoadBalancers) != 0 {
		t.Fatal("empty state")
	}
	applyAll(t, m, wire.CreateLoadBalancer{Meta: wire.Meta{Now: epoch}, ID: "0000000000000001", Name: "web", LBType: "application",
		Scheme: "internet-facing", IPAddressType: "ipv4", Subnets: []string{"subnet-a", "subnet-b"}, Address: "127.0.1.1"})
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("a new load balancer did not wake the source")
	}
	cfg, _ = src.Config()
	if len(cfg.LoadBalancers) != 1 || cfg.Revision != 1 {
		t.Fatalf("after the change: %+v", cfg)
	}
}

// A re-imported certificate (a renewal) must reach the data plane at
// once: the listeners that use it serve the new one.
func TestConfigSourceWakesOnCertificateImport(t *testing.T) {
	m := fsm.New(arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}, slog.New(slog.DiscardHandler))
	src := &ConfigSource{State: m}
	const certARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"
	imp := wire.ImportCertificate{Meta: wire.Meta{Now: epoch}, ARN: certARN, Certificate: "LEAF 1", SealedKey: []byte("k"), NotAfter: epoch.Add(time.Hour)}
	applyAll(t, m, imp)
	_, changed := src.Config()
	imp.Reimport, imp.Certificate = true, "LEAF 2"
	b, err := wire.Encode(imp)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Apply(2, b); r.Err != nil {
		t.Fatal(r.Err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("a re-imported certificate did not wake the source")
	}
}

// An ECS-draining container instance still runs its tasks, and the load
// balancer still reaches them: its instance targets keep their traffic,
// and those being deregistered keep draining until their delay ends.
// Dropping them when the instance began draining cut the requests they had
// in flight (502s) and ended their deregistration delay early.
func TestRenderConfigKeepsTargetsOfDrainingInstance(t *testing.T) {
	m := fsm.New(arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}, slog.New(slog.DiscardHandler))
	meta := func(n int) wire.Meta { return wire.Meta{Now: epoch.Add(time.Duration(n) * time.Second)} }
	const p = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	tgI := p + "targetgroup/i/00000000000000a3"
	applyAll(t, m,
		wire.CreateCluster{Meta: meta(0), Name: "prod"},
		wire.RegisterContainerInstance{Meta: meta(0), Cluster: "prod", NewID: "ci1", EC2InstanceID: "i-1",
			Attributes: []shape.Attribute{{Name: sp(HostAddressAttribute), Value: sp("10.1.2.3")}}},
		wire.CreateLoadBalancer{Meta: meta(1), ID: "0000000000000001", Name: "web", LBType: "application", Scheme: "internet-facing", IPAddressType: "ipv4", Subnets: []string{"subnet-a", "subnet-b"}, Address: "127.0.1.1"},
		wire.CreateTargetGroup{Meta: meta(2), ID: "00000000000000a3", Name: "i", Protocol: "HTTP", ProtocolVersion: "HTTP1", Port: 80, VpcID: "vpc-1", TargetType: "instance", IPAddressType: "ipv4", HealthCheck: elb.DefaultHealthCheck("HTTP", "HTTP1")},
		wire.ModifyTargetGroup{Meta: meta(3), ARN: tgI, Attributes: map[string]string{"deregistration_delay.timeout_seconds": "60"}},
		wire.RegisterTargets{Meta: meta(4), ARN: tgI, Targets: []elb.Target{{ID: "i-1", Port: 32768}, {ID: "i-1", Port: 32769}}},
		wire.DeregisterTargets{Meta: meta(5), ARN: tgI, Targets: []elb.Target{{ID: "i-1", Port: 32769}}},
		wire.UpdateContainerInstancesState{Meta: meta(6), Cluster: "prod", Refs: []wire.InstanceRef{{Input: "ci1", ID: "ci1"}}, Status: "DRAINING"},
	)
	targets := func(at time.Time) map[int]lbconfig.Target {
		out := map[int]lbconfig.Target{}
		for _, tg := range RenderConfig(m.Snapshot(), at, nil).TargetGroups {
			if tg.ARN != tgI {
				continue
			}
			for _, tc := range tg.Targets {
				out[tc.Port] = tc
			}
		}
		return out
	}
	got := targets(epoch.Add(10 * time.Second))
	if r := got[32768]; r.State != lbconfig.TargetRegistered || r.Address != "10.1.2.3" {
		t.Errorf("the registered target of the draining instance: %+v (all %+v)", r, got)
	}
	if d := got[32769]; d.State != lbconfig.TargetDraining || d.Address != "10.1.2.3" || !d.DrainUntil.Equal(epoch.Add(65*time.Second)) {
		t.Errorf("the draining target of the draining instance: %+v (all %+v)", d, got)
	}
	// Its delay still ends it.
	if got := targets(epoch.Add(65 * time.Second)); len(got) != 1 {
		t.Errorf("after the delay: %+v", got)
	}
	// A deregistered instance is no longer reached.
	applyFrom(t, m, 100, wire.DeregisterContainerInstance{Meta: meta(7), Cluster: "prod", ID: "ci1", Force: true})
	if got := targets(epoch.Add(10 * time.Second)); len(got) != 0 {
		t.Errorf("the targets of a deregistered instance: %+v", got)
	}
}

// applyFrom is applyAll from log index first on.
func applyFrom(t *testing.T, m *fsm.Machine, first uint64, cmds ...wire.Command) {
	t.Helper()
	for i, c := range cmds {
		b, err := wire.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if r := m.Apply(first+uint64(i), b); r.Err != nil {
			t.Fatalf("%s: %v", c.Type(), r.Err)
		}
	}
}
