package scheduler

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"berth.dev/berth/internal/cql"
	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the scripts in testdata (rewrite with -rewrite).
// Directives:
//
//	define
//	<ID key=value ...>      (see parseInstance)
//
// replaces the cluster and prints each instance's state.
//
//	place [count=N] [cpu=N] [mem=N] [gpus=N] [enis=N] [ports=(P,...)] [udp=(P,...)]
//	      [group=G] [strategy=(type:field,...)] [seed=N] [commit]
//	<constraint lines>
//
// runs a RunTask-style Place and prints the placements (task number ->
// instance) and failures. Body lines: "distinctInstance", "memberOf EXPR",
// "requires NAME" or "requires NAME=VALUE". commit applies the placements
// to the cluster, as the state machine would, and prints the new state.
// The default group is family:web, the default seed 1.
//
//	start instances=(ID,...) [same task arguments and body as place]
//
// runs a StartTask-style Place.
//
//	fits [cpu=N] [mem=N] [gpus=N] [enis=N] [ports=(P,...)] [udp=(P,...)]
//
// prints Fits for every instance.
func TestDataDriven(t *testing.T) {
	// Only the scripts: rapid keeps its failure files under testdata too.
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { runScript(t, path) })
	}
}

func runScript(t *testing.T, path string) {
	var cluster []*Instance
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "define":
			cluster = nil
			for _, l := range strings.Split(d.Input, "\n") {
				if strings.TrimSpace(l) == "" {
					continue
				}
				in, err := parseInstance(l)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				cluster = append(cluster, in)
			}
			return show(cluster)
		case "place", "start":
			req := parseRequest(t, d)
			if err := req.Validate(); err != nil {
				return fmt.Sprintf("error: %v\n", err)
			}
			before := cloneAll(cluster)
			view := NewCluster(cluster)
			plan := view.Place(req, newRand(seedOf(t, d)))
			for i := range cluster {
				if describe(cluster[i]) != describe(before[i]) {
					t.Fatalf("Place modified instance %s", cluster[i].ID)
				}
			}
			// The one-shot Place and a fresh view agree.
			if again := Place(cluster, req, newRand(seedOf(t, d))); !samePlan(plan, again) {
				t.Fatalf("Place and Cluster.Place differ:\n%v\n%v", plan, again)
			}
			var out string
			if len(req.Instances) == 0 && view.Registered() == 0 {
				out = "no registered instance: the caller answers InvalidParameterException: " + NoContainerInstancesMessage + "\n"
			}
			out += printPlan(req, plan)
			if d.HasArg("commit") {
				commit(cluster, &req, plan)
				out += "cluster:\n" + show(cluster)
			}
			return out
		case "fits":
			task := parseTask(t, d)
			var b strings.Builder
			for _, in := range cluster {
				ok, reason := Fits(in, task)
				if ok != (reason == "") {
					t.Fatalf("Fits(%s) = %v, %q", in.ID, ok, reason)
				}
				if ok {
					reason = "ok"
				}
				fmt.Fprintf(&b, "%s %s\n", in.ID, reason)
			}
			return b.String()
		}
		d.Fatalf(t, "unknown directive %q", d.Cmd)
		return ""
	})
}

func show(cluster []*Instance) string {
	var b strings.Builder
	for _, in := range cluster {
		b.WriteString(describe(in))
		b.WriteByte('\n')
	}
	return b.String()
}

func seedOf(t *testing.T, d *datadriven.TestData) uint64 {
	seed := uint64(1)
	if d.HasArg("seed") {
		d.ScanArgs(t, "seed", &seed)
	}
	return seed
}

func intsArg(t *testing.T, d *datadriven.TestData, key string) []int {
	arg, ok := d.Arg(key)
	if !ok {
		return nil
	}
	var out []int
	for _, v := range arg.Vals {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			d.Fatalf(t, "%s: %v", key, err)
		}
		out = append(out, n)
	}
	return out
}

func parseTask(t *testing.T, d *datadriven.TestData) Task {
	var task Task
	d.MaybeScanArgs(t, "cpu", &task.CPU)
	d.MaybeScanArgs(t, "mem", &task.Memory)
	d.MaybeScanArgs(t, "gpus", &task.GPUs)
	d.MaybeScanArgs(t, "enis", &task.ENIs)
	task.TCPPorts = intsArg(t, d, "ports")
	task.UDPPorts = intsArg(t, d, "udp")
	return task
}

func parseRequest(t *testing.T, d *datadriven.TestData) Request {
	req := Request{Count: 1, Group: "family:web", Task: parseTask(t, d)}
	d.MaybeScanArgs(t, "count", &req.Count)
	d.MaybeScanArgs(t, "group", &req.Group)
	if d.Cmd == "start" {
		arg, _ := d.Arg("instances")
		for _, v := range arg.Vals {
			req.Instances = append(req.Instances, strings.TrimSpace(v))
		}
	}
	if arg, ok := d.Arg("strategy"); ok {
		for _, v := range arg.Vals {
			req.Strategies = append(req.Strategies, parseStrategy(v))
		}
	}
	for _, l := range strings.Split(d.Input, "\n") {
		l = strings.TrimSpace(l)
		word, rest, _ := strings.Cut(l, " ")
		switch word {
		case "":
		case "distinctInstance":
			req.Constraints = append(req.Constraints, Constraint{Type: ConstraintDistinctInstance})
		case "memberOf":
			e, err := cql.Parse(rest)
			if err != nil {
				d.Fatalf(t, "memberOf: %v", err)
			}
			req.Constraints = append(req.Constraints, Constraint{Type: ConstraintMemberOf, Expression: e})
		case "requires":
			name, value, hasValue := strings.Cut(rest, "=")
			a := Attribute{Name: name}
			if hasValue {
				a.Value = &value
			}
			req.RequiredAttributes = append(req.RequiredAttributes, a)
		default:
			d.Fatalf(t, "unknown body line %q", l)
		}
	}
	return req
}

func printPlan(req Request, plan Plan) string {
	var b strings.Builder
	want := req.Count
	if len(req.Instances) > 0 {
		want = len(req.Instances)
	}
	fmt.Fprintf(&b, "placed %d of %d\n", len(plan.Placements), want)
	for i, p := range plan.Placements {
		fmt.Fprintf(&b, "  task %d -> %s\n", i+1, p.InstanceID)
	}
	if len(plan.Failures) == 0 {
		b.WriteString("failures: none\n")
		return b.String()
	}
	b.WriteString("failures:\n")
	for _, f := range plan.Failures {
		fmt.Fprintf(&b, "  %s %s", f.ARN, f.Reason)
		if f.Detail != "" {
			fmt.Fprintf(&b, " (%s)", f.Detail)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
