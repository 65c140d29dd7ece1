package sdapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/sdapi"
	"berth.dev/berth/internal/state"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(n int) wire.Meta { return wire.Meta{Now: epoch.Add(time.Duration(n) * time.Second)} }

func op(n int) wire.SDOp {
	return wire.SDOp{OperationID: "gv4g5meo7ndmeh4fqskygvk23d2fijw" + string(rune('a'+n)) + "-k9302yzd"}
}

// dnsMachine holds a private namespace with a MULTIVALUE A service (one
// healthy, one unhealthy instance), a WEIGHTED SRV service, an HTTP
// namespace and a load balancer.
func dnsMachine(t *testing.T) (*fsm.Machine, func(wire.Command)) {
	m := fsm.New(namer, slog.New(slog.DiscardHandler))
	n := uint64(0)
	apply := func(c wire.Command) {
		t.Helper()
		b, err := wire.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r := m.Apply(n, b); r.Err != nil {
			t.Fatalf("%T: %v", c, r.Err)
		}
	}
	const ns, httpNS, web, api = "ns-aaaaaaaaaaaaaaaa", "ns-bbbbbbbbbbbbbbbb", "srv-aaaaaaaaaaaaaaaa", "srv-bbbbbbbbbbbbbbbb"
	apply(wire.CreateSDNamespace{Meta: at(1), SDOp: op(1), ID: ns, ARN: "arn:ns/" + ns, Name: "corp.local", NamespaceType: "DNS_PRIVATE", Vpc: "vpc-1", SOATTL: p(int64(60))})
	apply(wire.CreateSDNamespace{Meta: at(2), SDOp: op(2), ID: httpNS, ARN: "arn:ns/" + httpNS, Name: "apps", NamespaceType: "HTTP"})
	apply(wire.CreateSDService{Meta: at(3), ID: web, ARN: "arn:srv/" + web, Name: "web", NamespaceID: ns, CustomHealth: p(int32(1)),
		DNS: &wire.SDDNSConfig{RoutingPolicy: "MULTIVALUE", Records: []wire.SDDNSRecord{{Type: "A", TTL: 10}}}})
	apply(wire.CreateSDService{Meta: at(4), ID: api, ARN: "arn:srv/" + api, Name: "_api._tcp", NamespaceID: ns,
		DNS: &wire.SDDNSConfig{RoutingPolicy: "WEIGHTED", Records: []wire.SDDNSRecord{{Type: "SRV", TTL: 30}}}})
	apply(wire.RegisterSDInstance{Meta: at(5), SDOp: op(3), ServiceID: web, ID: "task1", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.1.0.1"},
		TaskARN: "arn:aws:ecs:us-east-1:123456789012:task/prod/task1"})
	apply(wire.RegisterSDInstance{Meta: at(6), SDOp: op(4), ServiceID: web, ID: "task2", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.1.0.2"}})
	apply(wire.UpdateSDInstanceHealth{Meta: at(7), ServiceID: web, ID: "task2", Status: "UNHEALTHY"})
	apply(wire.RegisterSDInstance{Meta: at(8), SDOp: op(5), ServiceID: api, ID: "task3", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.1.0.3", "AWS_INSTANCE_PORT": "32768"}})
	apply(wire.CreateLoadBalancer{Meta: at(9), ID: "0123456789abcdef", Name: "web", LBType: "application", Scheme: "internet-facing", IPAddressType: "ipv4",
		Subnets: []string{"subnet-a"}, Address: "127.0.1.1"})
	return m, apply
}

func TestRenderDNSGolden(t *testing.T) {
	m, _ := dnsMachine(t)
	cfg := sdapi.RenderDNS(m.Snapshot())
	got, _ := json.MarshalIndent(cfg, "", "  ")
	got = append(got, '\n')
	path := filepath.Join("testdata", "renderdns.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("RenderDNS differs from %s:\n%s", path, got)
	}
	if cfg.Revision != m.Snapshot().Index() || cfg.Revision == 0 {
		t.Fatalf("revision %d", cfg.Revision)
	}
}

func TestSourceWatches(t *testing.T) {
	m, apply := dnsMachine(t)
	src := sdapi.NewSource(m)
	cfg, ch := src.Current()
	select {
	case <-ch:
		t.Fatal("changed before any change")
	case <-time.After(20 * time.Millisecond):
	}
	apply(wire.UpdateSDInstanceHealth{Meta: at(20), ServiceID: "srv-aaaaaaaaaaaaaaaa", ID: "task2", Status: "HEALTHY"})
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatal("no change reported")
	}
	cfg2, ch2 := src.Current()
	if cfg2.Revision <= cfg.Revision {
		t.Fatalf("revision %d after %d", cfg2.Revision, cfg.Revision)
	}
	apply(wire.DeleteLoadBalancer{Meta: at(21), ARN: m.Snapshot().LoadBalancerByName("web").ARN})
	select {
	case <-ch2:
	case <-time.After(2 * time.Second):
		t.Fatal("a load balancer change was not reported")
	}
	cfg3, _ := src.Current()
	if len(cfg3.Hosts) != 1 || cfg3.Hosts[0].Name != sdapi.TaskEndpointDataHost+"." {
		t.Fatalf("hosts %+v, want only the task endpoint's data host", cfg3.Hosts)
	}
	// The state accessors ECS uses.
	snap := m.Snapshot()
	var byTask []*state.SDInstance
	snap.SDInstancesByTask("arn:aws:ecs:us-east-1:123456789012:task/prod/task1", func(i *state.SDInstance) bool { byTask = append(byTask, i); return true })
	if len(byTask) != 1 || byTask[0].ID != "task1" || snap.SDServiceByName("ns-aaaaaaaaaaaaaaaa", "web") == nil {
		t.Fatalf("by task %+v", byTask)
	}
}
func p[T any](v T) *T { return &v }
