package scheduler

import (
	"fmt"
	"slices"
	"testing"
)

// benchCluster builds n instances in ID order (as the state store lists
// them) with realistic attributes: 3 zones, 2 instance types, a dozen
// built-in and capability attributes, and about a third of the instances
// already running tasks of the benchmark's group.
func benchCluster(n int) []*Instance {
	rng := newRand(42)
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	types := []string{"m5.xlarge", "c5.2xlarge"}
	out := make([]*Instance, n)
	for i := range out {
		id := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		in := &Instance{
			ID: id, ARN: "arn:aws:ecs:us-east-1:123456789012:container-instance/bench/" + id,
			Status: StatusActive, Connected: true,
			Attributes: map[string]string{
				"ecs.availability-zone": zones[i%len(zones)],
				"ecs.instance-type":     types[i%len(types)],
				"ecs.os-type":           "linux",
				"ecs.os-family":         "LINUX",
				"ecs.cpu-architecture":  "x86_64",
				"ecs.ami-id":            "ami-0123456789abcdef0",
				"ecs.vpc-id":            "vpc-0123",
				"ecs.subnet-id":         "subnet-0123",
				"ecs.capability.secrets.asm.environment-variables":    "",
				"ecs.capability.task-eni":                             "",
				"com.amazonaws.ecs.capability.logging-driver.awslogs": "",
				"com.amazonaws.ecs.capability.docker-remote-api.1.19": "",
			},
			Registered:   Resources{CPU: 4096, Memory: 15800, TCPPorts: []int{22, 2375, 2376, 51678, 51679}},
			AgentVersion: "1.80.0", EC2InstanceID: "i-" + id[:17],
		}
		if i%7 == 0 {
			in.Status = StatusDraining
		}
		if i%11 == 0 {
			in.Connected = false
		}
		if i%3 == 0 {
			k := 1 + rng.IntN(4)
			in.GroupCounts = map[string]int{"service:web": k, "service:other": 1}
			in.Tasks = k + 1
			in.Used = Resources{CPU: int64(256 * (k + 1)), Memory: int64(512 * (k + 1)), TCPPorts: []int{8080}}
		}
		out[i] = in
	}
	slices.SortFunc(out, cmpID)
	return out
}

func BenchmarkPlace(b *testing.B) {
	az := Strategy{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}
	host := Strategy{Type: StrategySpread, Field: FieldInstanceID}
	mem := Strategy{Type: StrategyBinpack, Field: FieldMemory}
	scenarios := []struct {
		name string
		req  Request
	}{
		{"random", Request{}},
		{"binpack-memory", Request{Strategies: []Strategy{mem}}},
		{"spread-az+binpack-memory", Request{Strategies: []Strategy{az, mem}}},
		{"spread-az+spread-instance", Request{Strategies: []Strategy{az, host}}},
		{"memberOf+distinct+spread-az", Request{
			Strategies:         []Strategy{az, host},
			RequiredAttributes: []Attribute{{Name: "com.amazonaws.ecs.capability.docker-remote-api.1.19"}},
			Constraints: []Constraint{
				{Type: ConstraintDistinctInstance},
				{Type: ConstraintMemberOf, Expression: mustParse("attribute:ecs.instance-type =~ m5.* and attribute:ecs.availability-zone in [us-east-1a, us-east-1b]")},
			},
		}},
	}
	for _, n := range []int{1000, 10000} {
		cluster := benchCluster(n)
		view := NewCluster(cluster)
		for _, sc := range scenarios {
			for _, count := range []int{1, 10} {
				req := sc.req
				req.Count = count
				req.Group = "service:web"
				req.Task = Task{CPU: 256, Memory: 512}
				// prepared: many requests against one snapshot's view (the
				// view's columns are built by the first request). cold: a
				// new view per request, as Place does.
				for _, mode := range []string{"prepared", "cold"} {
					name := fmt.Sprintf("instances=%d/%s/count=%d/%s", n, sc.name, count, mode)
					b.Run(name, func(b *testing.B) {
						rng := newRand(1)
						b.ReportAllocs()
						placed := 0
						for b.Loop() {
							var plan Plan
							if mode == "prepared" {
								plan = view.Place(req, rng)
							} else {
								plan = Place(cluster, req, rng)
							}
							if len(plan.Placements) != count {
								b.Fatalf("placed %d of %d: %v", len(plan.Placements), count, plan.Failures)
							}
							placed += len(plan.Placements)
						}
						b.ReportMetric(float64(placed)/b.Elapsed().Seconds(), "placements/s")
					})
				}
			}
		}
	}
}
