package scheduler

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

var (
	genPorts    = []int{22, 53, 80, 443, 8080}
	genGroups   = []string{"family:web", "family:db"}
	genAZs      = []string{"a", "b", "c"}
	genTypes    = []string{"t2.small", "m5.large"}
	genMemberOf = []string{
		"attribute:ecs.availability-zone in [a, b]",
		"runningTasksCount < 3",
		"not(task:group == family:db)",
		"attribute:ecs.instance-type =~ t2.*",
		"task:group == family:web or attribute:rack exists",
		"agentConnected == true",
	}
	genStrategies = []Strategy{
		{Type: StrategyRandom},
		{Type: StrategyBinpack, Field: FieldCPU},
		{Type: StrategyBinpack, Field: FieldMemory},
		{Type: StrategySpread, Field: FieldInstanceID},
		{Type: StrategySpread, Field: FieldHost},
		{Type: StrategySpread, Field: "attribute:ecs.availability-zone"},
		{Type: StrategySpread, Field: "attribute:rack"},
	}
)

// subset draws a subset of list, in list order.
func subset(t *rapid.T, list []int, label string) []int {
	var out []int
	for _, p := range list {
		if rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("%s-%d", label, p)) == 0 {
			out = append(out, p)
		}
	}
	return out
}

// genInstance draws an instance whose used resources never exceed its
// registered ones.
func genInstance(t *rapid.T, id string) *Instance {
	in := &Instance{
		ID:            id,
		ARN:           arnOf(id),
		Status:        rapid.SampledFrom([]string{StatusActive, StatusActive, StatusActive, StatusActive, StatusDraining, StatusInactive, "REGISTERING"}).Draw(t, "status"),
		Connected:     rapid.IntRange(0, 6).Draw(t, "connected") > 0,
		Attributes:    map[string]string{},
		AgentVersion:  "1.80.0",
		EC2InstanceID: "ec2-" + id,
	}
	if az := rapid.IntRange(0, len(genAZs)).Draw(t, "az"); az < len(genAZs) {
		in.Attributes["ecs.availability-zone"] = genAZs[az]
	}
	in.Attributes["ecs.instance-type"] = rapid.SampledFrom(genTypes).Draw(t, "type")
	if rapid.Bool().Draw(t, "has-rack") {
		in.Attributes["rack"] = rapid.SampledFrom([]string{"r1", "r2"}).Draw(t, "rack")
	}
	in.Registered.CPU = 128 * rapid.Int64Range(0, 32).Draw(t, "cpu")
	in.Registered.Memory = 256 * rapid.Int64Range(0, 32).Draw(t, "mem")
	in.Registered.GPUs = rapid.IntRange(0, 4).Draw(t, "gpus")
	in.Used.CPU = rapid.Int64Range(0, in.Registered.CPU).Draw(t, "used-cpu")
	in.Used.Memory = rapid.Int64Range(0, in.Registered.Memory).Draw(t, "used-mem")
	in.Used.GPUs = rapid.IntRange(0, in.Registered.GPUs).Draw(t, "used-gpus")
	in.Registered.ENIs = rapid.SampledFrom([]int{0, 1, 3, 253}).Draw(t, "enis")
	in.Used.ENIs = rapid.IntRange(0, in.Registered.ENIs).Draw(t, "used-enis")
	in.Registered.TCPPorts = subset(t, genPorts, "reserved")
	in.Registered.UDPPorts = subset(t, genPorts, "reserved-udp")
	for _, p := range subset(t, genPorts, "used") {
		if !slices.Contains(in.Registered.TCPPorts, p) {
			in.Used.TCPPorts = append(in.Used.TCPPorts, p)
		}
	}
	for _, p := range subset(t, genPorts, "used-udp") {
		if !slices.Contains(in.Registered.UDPPorts, p) {
			in.Used.UDPPorts = append(in.Used.UDPPorts, p)
		}
	}
	for _, g := range genGroups {
		if n := rapid.IntRange(0, 3).Draw(t, "count-"+g); n > 0 {
			if in.GroupCounts == nil {
				in.GroupCounts = map[string]int{}
			}
			in.GroupCounts[g] = n
			in.Tasks += n
		}
	}
	in.Tasks += rapid.IntRange(0, 2).Draw(t, "other-tasks")
	return in
}

// genCluster draws up to max instances with distinct IDs, in random order.
func genCluster(t *rapid.T, max int) []*Instance {
	n := rapid.IntRange(0, max).Draw(t, "instances")
	out := make([]*Instance, n)
	for i := range out {
		out[i] = genInstance(t, fmt.Sprintf("i-%02d", i))
	}
	return rapid.Permutation(out).Draw(t, "order")
}

func genRequest(t *rapid.T, startTask bool, ids []string) Request {
	req := Request{
		Count: rapid.IntRange(1, 12).Draw(t, "count"),
		Group: rapid.SampledFrom(genGroups).Draw(t, "group"),
		Task: Task{
			CPU:    64 * rapid.Int64Range(0, 16).Draw(t, "task-cpu"),
			Memory: 128 * rapid.Int64Range(0, 16).Draw(t, "task-mem"),
			GPUs:   rapid.SampledFrom([]int{0, 0, 0, 1, 2}).Draw(t, "task-gpus"),
			ENIs:   rapid.SampledFrom([]int{0, 0, 1}).Draw(t, "task-enis"),
		},
	}
	if rapid.IntRange(0, 2).Draw(t, "has-ports") == 0 {
		req.Task.TCPPorts = subset(t, []int{80, 443, 8080}, "task-port")
	}
	if rapid.IntRange(0, 3).Draw(t, "has-udp") == 0 {
		req.Task.UDPPorts = subset(t, []int{53, 8080}, "task-udp")
	}
	switch rapid.IntRange(0, 4).Draw(t, "requires") {
	case 0:
		req.RequiredAttributes = []Attribute{{Name: "rack"}}
	case 1:
		v := "t2.small"
		req.RequiredAttributes = []Attribute{{Name: "ecs.instance-type", Value: &v}}
	}
	for range rapid.IntRange(0, 2).Draw(t, "constraints") {
		if rapid.Bool().Draw(t, "distinct") {
			req.Constraints = append(req.Constraints, Constraint{Type: ConstraintDistinctInstance})
		} else {
			e := rapid.SampledFrom(genMemberOf).Draw(t, "memberOf")
			req.Constraints = append(req.Constraints, Constraint{Type: ConstraintMemberOf, Expression: mustParse(e)})
		}
	}
	if startTask {
		pool := append(slices.Clone(ids), "i-missing")
		req.Instances = rapid.SliceOfN(rapid.SampledFrom(pool), 1, 10).Draw(t, "named")
		return req
	}
	req.Strategies = rapid.SliceOfN(rapid.SampledFrom(genStrategies), 0, MaxStrategies).Draw(t, "strategies")
	return req
}

// replay commits a plan to a copy of the cluster one placement at a time
// and checks each placement against the state it was made on.
func replay(t *rapid.T, cluster []*Instance, req *Request, plan Plan) []*Instance {
	state := cloneAll(cluster)
	byID := map[string]*Instance{}
	for _, in := range state {
		byID[in.ID] = in
	}
	for k, p := range plan.Placements {
		in := byID[p.InstanceID]
		if in == nil {
			t.Fatalf("placement %d on unknown instance %q", k, p.InstanceID)
		}
		if in.Status != StatusActive || !in.Connected {
			t.Fatalf("placement %d on %s: status %s, connected %v", k, in.ID, in.Status, in.Connected)
		}
		if ok, reason := Fits(in, req.Task); !ok {
			t.Fatalf("placement %d on %s does not fit the state before it: %s", k, in.ID, reason)
		}
		if r := refReason(in, req); r != "" {
			t.Fatalf("placement %d on %s breaks a rule on the state before it: %s", k, in.ID, r)
		}
		addTask(in, req.Task, req.Group)
	}
	// Nothing is over-committed and no port is held twice.
	for _, in := range state {
		if in.Used.CPU > in.Registered.CPU || in.Used.Memory > in.Registered.Memory || in.Used.GPUs > in.Registered.GPUs || in.Used.ENIs > in.Registered.ENIs {
			t.Fatalf("%s over-committed: used %+v, registered %+v", in.ID, in.Used, in.Registered)
		}
		for _, ports := range [][2][]int{{in.Used.TCPPorts, in.Registered.TCPPorts}, {in.Used.UDPPorts, in.Registered.UDPPorts}} {
			used := slices.Sorted(slices.Values(ports[0]))
			if len(slices.Compact(slices.Clone(used))) != len(used) {
				t.Fatalf("%s holds a port twice: %v", in.ID, used)
			}
			for _, p := range used {
				if slices.Contains(ports[1], p) {
					t.Fatalf("%s uses reserved port %d", in.ID, p)
				}
			}
		}
	}
	return state
}

func TestPlace_Invariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cluster := genCluster(t, 12)
		req := genRequest(t, false, nil)
		seed := rapid.Uint64().Draw(t, "seed")
		before := cloneAll(cluster)

		plan := Place(cluster, req, newRand(seed))
		if !slices.ContainsFunc(cluster, isRegistered) {
			if len(plan.Placements)+len(plan.Failures) != 0 {
				t.Fatalf("no registered instance: got %v, want an empty plan", plan)
			}
			return
		}
		if !reflect.DeepEqual(before, cluster) {
			t.Fatalf("Place modified its input")
		}
		state := replay(t, cluster, &req, plan)

		// Every requested task is accounted for: placed, or the plan says
		// why not, and then it is true that no instance can take it.
		if len(plan.Placements) > req.Count {
			t.Fatalf("placed %d of %d", len(plan.Placements), req.Count)
		}
		if len(plan.Placements) == req.Count {
			if len(plan.Failures) != 0 {
				t.Fatalf("all placed but failures %v", plan.Failures)
			}
		} else {
			var want []Failure
			for _, in := range state {
				if in.Status == StatusInactive {
					continue
				}
				r := refReason(in, &req)
				if r == "" {
					t.Fatalf("gave up with %d of %d placed while %s can take a task", len(plan.Placements), req.Count, in.ID)
				}
				want = append(want, Failure{ARN: in.ARN, Reason: r, Detail: refDetail(in, &req, r)})
			}
			slices.SortFunc(want, func(a, b Failure) int { return cmpString(a.ARN, b.ARN) })
			if !slices.Equal(plan.Failures, want) {
				t.Fatalf("failures\n got %v\nwant %v", plan.Failures, want)
			}
		}

		// Determinism: the same seed gives the same plan, whatever the
		// order of the instances.
		again := Place(rapid.Permutation(cluster).Draw(t, "reorder"), req, newRand(seed))
		if !samePlan(plan, again) {
			t.Fatalf("same inputs, different plans:\n%v\n%v", plan, again)
		}
	})
}

func TestPlace_StartTaskInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cluster := genCluster(t, 6)
		var ids []string
		for _, in := range cluster {
			ids = append(ids, in.ID)
		}
		req := genRequest(t, true, ids)
		plan := Place(cluster, req, nil)
		replay(t, cluster, &req, plan)

		// Walk the named instances in order against a reference state:
		// each is placed in order or has its failure.
		state := cloneAll(cluster)
		byID := map[string]*Instance{}
		for _, in := range state {
			byID[in.ID] = in
		}
		var placed []Placement
		var fails []Failure
		seen := map[Failure]bool{}
		for _, id := range req.Instances {
			in := byID[id]
			f := Failure{ARN: id, Reason: ReasonMissing}
			if in != nil {
				if r := refReason(in, &req); r == "" {
					addTask(in, req.Task, req.Group)
					placed = append(placed, Placement{InstanceID: id})
					continue
				} else {
					f = Failure{ARN: in.ARN, Reason: r, Detail: refDetail(in, &req, r)}
				}
			}
			if !seen[f] {
				seen[f] = true
				fails = append(fails, f)
			}
		}
		if !slices.Equal(plan.Placements, placed) || !slices.Equal(plan.Failures, fails) {
			t.Fatalf("got %v\nwant placements %v failures %v", plan, placed, fails)
		}
	})
}

// TestPlace_MatchesReference compares Place with the naive reference for
// every strategy chain: same instances, same request, same random sequence,
// same plan.
func TestPlace_MatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cluster := genCluster(t, 15)
		req := genRequest(t, false, nil)
		seed := rapid.Uint64().Draw(t, "seed")
		got := Place(cluster, req, newRand(seed))
		want := refPlace(cluster, req, newRand(seed))
		if !samePlan(got, want) {
			t.Fatalf("strategies %v\n got %v\nwant %v", req.Strategies, got, want)
		}
	})
}

// genUniformCluster draws up to max ACTIVE instances with few distinct
// sizes, zones and racks, so that strategies meet many ties and each
// placement changes them.
func genUniformCluster(t *rapid.T, max int) []*Instance {
	n := rapid.IntRange(1, max).Draw(t, "instances")
	var cluster []*Instance
	for i := range n {
		id := fmt.Sprintf("u-%03d", i)
		in := &Instance{ID: id, ARN: arnOf(id), Status: StatusActive, Connected: true, Attributes: map[string]string{}}
		in.Registered.CPU = 256 * rapid.Int64Range(1, 8).Draw(t, "cpu")
		in.Registered.Memory = 512 * rapid.Int64Range(1, 8).Draw(t, "mem")
		in.Used.CPU = 128 * rapid.Int64Range(0, in.Registered.CPU/128).Draw(t, "used-cpu")
		in.Used.Memory = 256 * rapid.Int64Range(0, in.Registered.Memory/256).Draw(t, "used-mem")
		if az := rapid.IntRange(0, 3).Draw(t, "az"); az < 3 {
			in.Attributes["ecs.availability-zone"] = genAZs[az]
		}
		if rapid.Bool().Draw(t, "has-rack") {
			in.Attributes["rack"] = rapid.SampledFrom([]string{"r1", "r2"}).Draw(t, "rack")
		}
		if k := rapid.IntRange(0, 2).Draw(t, "web-tasks"); k > 0 {
			in.GroupCounts = map[string]int{"family:web": k}
			in.Tasks = k
		}
		cluster = append(cluster, in)
	}
	return cluster
}

// TestPlace_BinpackMatchesReference is the differential test of binpack:
// chains of binpack strategies on clusters with many equal instances, so
// that ties and the per-task updates matter.
func TestPlace_BinpackMatchesReference(t *testing.T) {
	binpacks := []Strategy{{Type: StrategyBinpack, Field: FieldCPU}, {Type: StrategyBinpack, Field: FieldMemory}}
	testChains(t, binpacks)
}

// TestPlace_ChainsMatchReference does the same for chains of every
// deterministic strategy.
func TestPlace_ChainsMatchReference(t *testing.T) {
	testChains(t, genStrategies[1:])
}

func testChains(t *testing.T, strategies []Strategy) {
	rapid.Check(t, func(t *rapid.T) {
		cluster := genUniformCluster(t, 60)
		req := Request{
			Count:      rapid.IntRange(1, 40).Draw(t, "count"),
			Group:      "family:web",
			Task:       Task{CPU: 128 * rapid.Int64Range(0, 4).Draw(t, "task-cpu"), Memory: 256 * rapid.Int64Range(0, 4).Draw(t, "task-mem")},
			Strategies: rapid.SliceOfN(rapid.SampledFrom(strategies), 1, 3).Draw(t, "chain"),
		}
		if rapid.IntRange(0, 3).Draw(t, "distinct") == 0 {
			req.Constraints = []Constraint{{Type: ConstraintDistinctInstance}}
		}
		seed := rapid.Uint64().Draw(t, "seed")
		got := Place(cluster, req, newRand(seed))
		want := refPlace(cluster, req, newRand(seed))
		if !samePlan(got, want) {
			t.Fatalf("chain %v\n got %v\nwant %v", req.Strategies, got, want)
		}
	})
}

func isRegistered(in *Instance) bool {
	return in.Status == StatusActive || in.Status == StatusDraining
}

// samePlan compares plans, a nil slice equal to an empty one.
func samePlan(a, b Plan) bool {
	return slices.Equal(a.Placements, b.Placements) && slices.Equal(a.Failures, b.Failures)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestFits_AgreesWithPlace: for one instance and a request without rules,
// Place places the task exactly when Fits says it fits, and otherwise
// reports Fits's reason.
func TestFits_AgreesWithPlace(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInstance(t, "i-00")
		req := genRequest(t, false, nil)
		req.Count, req.RequiredAttributes, req.Constraints = 1, nil, nil
		ok, reason := Fits(in, req.Task)
		plan := Place([]*Instance{in}, req, newRand(1))
		switch {
		case !isRegistered(in):
			// Not in the cluster for RunTask: StartTask reports it.
			req.Instances, req.Strategies = []string{in.ID}, nil
			plan = Place([]*Instance{in}, req, nil)
			if ok || !slices.Equal(plan.Failures, []Failure{{ARN: in.ARN, Reason: reason}}) {
				t.Fatalf("Fits = %v, %q; StartTask plan %v", ok, reason, plan)
			}
		case ok:
			if len(plan.Placements) != 1 || len(plan.Failures) != 0 {
				t.Fatalf("Fits ok but plan %v", plan)
			}
		default:
			if len(plan.Placements) != 0 || !slices.Equal(plan.Failures, []Failure{{ARN: in.ARN, Reason: reason}}) {
				t.Fatalf("Fits = %q but plan %v", reason, plan)
			}
		}
	})
}

// TestCluster_ReuseMatchesFresh places a sequence of requests against one
// prepared view and checks each plan against a fresh Place: the view's
// cached columns never change a result.
func TestCluster_ReuseMatchesFresh(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cluster := genCluster(t, 12)
		view := NewCluster(cluster)
		for k := range rapid.IntRange(1, 6).Draw(t, "requests") {
			req := genRequest(t, false, nil)
			seed := uint64(k)
			got := view.Place(req, newRand(seed))
			want := Place(cloneAll(cluster), req, newRand(seed))
			if !samePlan(got, want) {
				t.Fatalf("request %d: view %v, fresh %v", k, got, want)
			}
		}
	})
}

// TestCluster_Concurrent places from several goroutines against one view;
// run with -race. Every plan equals the one placed alone.
func TestCluster_Concurrent(t *testing.T) {
	cluster := benchCluster(300)
	view := NewCluster(cluster)
	az := Strategy{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}
	reqs := []Request{
		{Count: 10, Group: "service:web", Task: Task{CPU: 256, Memory: 512}, Strategies: []Strategy{az}},
		{Count: 10, Group: "service:web", Task: Task{CPU: 256, Memory: 512, TCPPorts: []int{80}},
			Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: mustParse("attribute:ecs.instance-type =~ m5.*")}}},
		{Count: 5, Group: "service:db", Task: Task{CPU: 1024, Memory: 4096}, Strategies: []Strategy{{Type: StrategyBinpack, Field: FieldMemory}},
			Constraints: []Constraint{{Type: ConstraintDistinctInstance}}},
	}
	want := make([]Plan, len(reqs))
	for i, r := range reqs {
		want[i] = Place(cluster, r, newRand(uint64(i)))
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			for k := range 50 {
				i := (g + k) % len(reqs)
				if got := view.Place(reqs[i], newRand(uint64(i))); !samePlan(got, want[i]) {
					err = fmt.Errorf("request %d: got %v, want %v", i, got, want[i])
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestPlace_PanicsOnInvalidRequest(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatalf("Place accepted a binpack on disk")
		}
	}()
	Place(nil, Request{Count: 1, Strategies: []Strategy{{Type: StrategyBinpack, Field: "disk"}}}, nil)
}
