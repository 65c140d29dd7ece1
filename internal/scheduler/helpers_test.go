package scheduler

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/cql"
)

// arnOf is the ARN test instances get: short, and distinct from the ID so
// that tests can tell which of the two a failure carries.
func arnOf(id string) string { return "arn:ci/" + id }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// parseInstance parses "ID key=value ...". Keys: status, connected, cpu,
// mem, gpus, ports and udp (reserved, comma-separated), used-cpu, used-mem,
// used-gpus, enis, used-enis, used-ports, used-udp, group (repeatable: one running task of
// that group each), tasks (extra running tasks without a group), az
// (ecs.availability-zone), type (ecs.instance-type), attr:NAME, agent, ec2,
// registered. Defaults: ACTIVE, connected, cpu 1024, mem 2048.
func parseInstance(line string) (*Instance, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil, fmt.Errorf("empty line")
	}
	in := &Instance{
		ID: f[0], ARN: arnOf(f[0]), Status: StatusActive, Connected: true,
		Attributes: map[string]string{}, Registered: Resources{CPU: 1024, Memory: 2048},
		AgentVersion: "1.80.0", EC2InstanceID: "ec2-" + f[0],
		RegisteredAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want key=value", kv)
		}
		var err error
		num := func(dst *int64) { *dst, err = strconv.ParseInt(v, 10, 64) }
		inum := func(dst *int) { *dst, err = strconv.Atoi(v) }
		ports := func(dst *[]int) {
			for _, s := range strings.Split(v, ",") {
				var p int
				if p, err = strconv.Atoi(s); err != nil {
					return
				}
				*dst = append(*dst, p)
			}
		}
		switch {
		case k == "status":
			in.Status = v
		case k == "connected":
			in.Connected, err = strconv.ParseBool(v)
		case k == "cpu":
			num(&in.Registered.CPU)
		case k == "mem":
			num(&in.Registered.Memory)
		case k == "gpus":
			inum(&in.Registered.GPUs)
		case k == "enis":
			inum(&in.Registered.ENIs)
		case k == "ports":
			ports(&in.Registered.TCPPorts)
		case k == "udp":
			ports(&in.Registered.UDPPorts)
		case k == "used-cpu":
			num(&in.Used.CPU)
		case k == "used-mem":
			num(&in.Used.Memory)
		case k == "used-gpus":
			inum(&in.Used.GPUs)
		case k == "used-enis":
			inum(&in.Used.ENIs)
		case k == "used-ports":
			ports(&in.Used.TCPPorts)
		case k == "used-udp":
			ports(&in.Used.UDPPorts)
		case k == "group":
			if in.GroupCounts == nil {
				in.GroupCounts = map[string]int{}
			}
			in.GroupCounts[v]++
			in.Tasks++
		case k == "tasks":
			var n int
			n, err = strconv.Atoi(v)
			in.Tasks += n
		case k == "az":
			in.Attributes["ecs.availability-zone"] = v
		case k == "type":
			in.Attributes["ecs.instance-type"] = v
		case strings.HasPrefix(k, "attr:"):
			in.Attributes[strings.TrimPrefix(k, "attr:")] = v
		case k == "agent":
			in.AgentVersion = v
		case k == "ec2":
			in.EC2InstanceID = v
		case k == "registered":
			in.RegisteredAt, err = time.Parse(time.RFC3339, v)
		default:
			return nil, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kv, err)
		}
	}
	return in, nil
}

// describe prints an instance's state: free/registered resources, ports,
// tasks and attributes.
func describe(in *Instance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", in.ID, in.Status)
	if !in.Connected {
		b.WriteString(" disconnected")
	}
	fmt.Fprintf(&b, " cpu=%d/%d mem=%d/%d", in.Registered.CPU-in.Used.CPU, in.Registered.CPU,
		in.Registered.Memory-in.Used.Memory, in.Registered.Memory)
	if in.Registered.GPUs > 0 || in.Used.GPUs > 0 {
		fmt.Fprintf(&b, " gpus=%d/%d", in.Registered.GPUs-in.Used.GPUs, in.Registered.GPUs)
	}
	if in.Registered.ENIs > 0 || in.Used.ENIs > 0 {
		fmt.Fprintf(&b, " enis=%d/%d", in.Registered.ENIs-in.Used.ENIs, in.Registered.ENIs)
	}
	portList := func(name string, p []int) {
		if len(p) > 0 {
			s := slices.Clone(p)
			slices.Sort(s)
			fmt.Fprintf(&b, " %s=%s", name, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(s)), ","), "[]"))
		}
	}
	portList("reserved", in.Registered.TCPPorts)
	portList("reserved-udp", in.Registered.UDPPorts)
	portList("used", in.Used.TCPPorts)
	portList("used-udp", in.Used.UDPPorts)
	if in.Tasks > 0 {
		fmt.Fprintf(&b, " tasks=%d", in.Tasks)
	}
	for _, g := range slices.Sorted(maps.Keys(in.GroupCounts)) {
		fmt.Fprintf(&b, " %s*%d", g, in.GroupCounts[g])
	}
	for _, k := range slices.Sorted(maps.Keys(in.Attributes)) {
		fmt.Fprintf(&b, " %s=%s", k, in.Attributes[k])
	}
	return b.String()
}

// commit applies a plan to the instances, as the state machine would: each
// placement adds the task's reservation, ports and group to its instance.
func commit(instances []*Instance, req *Request, plan Plan) {
	byID := map[string]*Instance{}
	for _, in := range instances {
		byID[in.ID] = in
	}
	for _, p := range plan.Placements {
		addTask(byID[p.InstanceID], req.Task, req.Group)
	}
}

func addTask(in *Instance, t Task, group string) {
	in.Used.CPU += t.CPU
	in.Used.Memory += t.Memory
	in.Used.GPUs += t.GPUs
	in.Used.ENIs += t.ENIs
	in.Used.TCPPorts = append(slices.Clip(in.Used.TCPPorts), t.TCPPorts...)
	in.Used.UDPPorts = append(slices.Clip(in.Used.UDPPorts), t.UDPPorts...)
	in.Tasks++
	if group != "" {
		if in.GroupCounts == nil {
			in.GroupCounts = map[string]int{}
		}
		in.GroupCounts[group]++
	}
}

// cloneInstance deep-copies an instance.
func cloneInstance(in *Instance) *Instance {
	c := *in
	c.Attributes = maps.Clone(in.Attributes)
	c.GroupCounts = maps.Clone(in.GroupCounts)
	c.Registered.TCPPorts = slices.Clone(in.Registered.TCPPorts)
	c.Registered.UDPPorts = slices.Clone(in.Registered.UDPPorts)
	c.Used.TCPPorts = slices.Clone(in.Used.TCPPorts)
	c.Used.UDPPorts = slices.Clone(in.Used.UDPPorts)
	return &c
}

func cloneAll(instances []*Instance) []*Instance {
	out := make([]*Instance, len(instances))
	for i, in := range instances {
		out[i] = cloneInstance(in)
	}
	return out
}

func mustParse(expr string) *cql.Expr {
	e, err := cql.Parse(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// parseStrategy parses "type[:field]", as in binpack:memory or
// spread:attribute:ecs.availability-zone.
func parseStrategy(s string) Strategy {
	t, f, _ := strings.Cut(strings.TrimSpace(s), ":")
	return Strategy{Type: t, Field: f}
}
