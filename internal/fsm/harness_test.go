package fsm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

var namer = arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}

// epoch is the clock of scripts and golden entries at their start.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// typeByName finds a command type by its name ("RunTask").
func typeByName(name string) (wire.Type, bool) {
	for _, t := range wire.Types() {
		if t.String() == name {
			return t, true
		}
	}
	return 0, false
}

// currentVersion is the newest version of t this server applies.
func currentVersion(t wire.Type) uint8 {
	for v := uint8(255); v > 0; v-- {
		if fsm.Check(0, []byte{byte(t), v}) == nil {
			return v
		}
	}
	return 0
}

// machine is a state machine with a log index of its own.
type machine struct {
	m     *fsm.Machine
	index uint64
}

func newMachine() *machine {
	return &machine{m: fsm.New(namer, slog.New(slog.DiscardHandler))}
}

// apply applies one entry and describes its outcome.
func (m *machine) apply(entry []byte) (out string) {
	m.index++
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("panic (the server stops): %v", r)
		}
	}()
	r := m.m.Apply(m.index, entry)
	if r.Err != nil {
		if e, ok := apierr.As(r.Err); ok {
			return fmt.Sprintf("error: %s: %s", e.Code, e.Message)
		}
		var ee *elb.Error
		if errors.As(r.Err, &ee) {
			return fmt.Sprintf("error: %s: %s", ee.Code, ee.Message)
		}
		return "error: " + r.Err.Error()
	}
	return "ok: " + describe(r.Value)
}

// dump is the machine's state in the snapshot format, only the tables
// named (all when none).
func (m *machine) dump(t testing.TB, tables ...string) string {
	t.Helper()
	var b bytes.Buffer
	if err := fsm.Persist(m.m.Snapshot(), &b); err != nil {
		t.Fatal(err)
	}
	return filterDump(b.String(), tables...)
}

func filterDump(dump string, tables ...string) string {
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(dump), "\n") {
		var rec wire.SnapshotRecord
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Table == "" {
			continue // the header
		}
		if len(tables) > 0 && !contains(tables, rec.Table) {
			continue
		}
		fmt.Fprintf(&out, "%s %s\n", rec.Table, rec.Record)
	}
	return out.String()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// entry builds a log entry: the payload with "now" set to at when it has
// none.
func entry(t wire.Type, version uint8, payload []byte, at time.Time) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if _, ok := fields["now"]; !ok {
		fields["now"], _ = json.Marshal(at)
		var err error
		if payload, err = json.Marshal(fields); err != nil {
			return nil, err
		}
	}
	return append([]byte{byte(t), version}, payload...), nil
}

// describe summarises an applier's result.
func describe(v any) string {
	switch r := v.(type) {
	case nil:
		return "nil"
	case int:
		return fmt.Sprint(r)
	case *shape.Cluster:
		return fmt.Sprintf("cluster %s %s", deref(r.ClusterName), deref(r.Status))
	case *fsm.RegisteredTaskDefinition:
		return fmt.Sprintf("task definition %s", deref(r.Def.TaskDefinitionArn))
	case *shape.TaskDefinition:
		return fmt.Sprintf("task definition %s %s", deref(r.TaskDefinitionArn), r.Status)
	case *fsm.DeletedTaskDefinitions:
		var s []string
		for _, d := range r.Defs {
			s = append(s, deref(d.TaskDefinitionArn)+" "+string(d.Status))
		}
		return fmt.Sprintf("deleted %v failures %s", s, failures(r.Failures))
	case *state.ContainerInstance:
		return fmt.Sprintf("instance %s %s connected=%v", r.ID, deref(r.Shape.Status), r.Shape.AgentConnected)
	case *fsm.InstancesResult:
		var s []string
		for _, ci := range r.Instances {
			s = append(s, ci.ID+" "+deref(ci.Shape.Status))
		}
		return fmt.Sprintf("instances %v failures %s", s, failures(r.Failures))
	case *fsm.RunTaskResult:
		var s []string
		for _, t := range r.Tasks {
			s = append(s, t.ID+"@"+t.InstanceID)
		}
		return fmt.Sprintf("tasks %v failures %s", s, failures(r.Failures))
	case *state.Task:
		return fmt.Sprintf("task %s last=%s desired=%s", r.ID, deref(r.Shape.LastStatus), deref(r.Shape.DesiredStatus))
	case *state.Service:
		var ds []string
		for _, d := range r.Deployments {
			ds = append(ds, fmt.Sprintf("%s %s %s", d.ID, d.Status, d.RolloutState))
		}
		return fmt.Sprintf("service %s %s generation=%d desired=%d deployments=%v", r.Name, deref(r.Shape.Status), r.Generation, r.Shape.DesiredCount, ds)
	case []shape.Tag:
		return fmt.Sprintf("%d tags", len(r))
	case *state.AccountSetting:
		return fmt.Sprintf("setting %s=%s for %s", r.Name, r.Value, r.Principal)
	case *state.Certificate:
		return fmt.Sprintf("certificate %s tags=%d", r.ARN, len(r.Tags))
	case []state.CertificateTag:
		return fmt.Sprintf("%d tags", len(r))
	case *state.LoadBalancer:
		return fmt.Sprintf("load balancer %s %s %s %s", r.Name, r.ARN, r.State, r.Address)
	case *state.TargetGroup:
		return fmt.Sprintf("target group %s %s", r.Name, r.ARN)
	case *state.Listener:
		return fmt.Sprintf("listener %s %s:%d certificates=%v", r.ARN, r.Protocol, r.Port, r.Certificates)
	case *state.Rule:
		return fmt.Sprintf("rule %s priority=%d default=%v", r.ARN, r.Priority, r.IsDefault)
	case []*state.Rule:
		var s []string
		for _, x := range r {
			s = append(s, fmt.Sprintf("%s=%d", x.ID, x.Priority))
		}
		return fmt.Sprintf("rules %v", s)
	case []shape.Attribute:
		var s []string
		for _, a := range r {
			s = append(s, deref(a.Name))
		}
		sort.Strings(s)
		return fmt.Sprintf("attributes %v", s)
	}
	return fmt.Sprintf("%T", v)
}

func failures(fs []shape.Failure) string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("{%s %s}", deref(f.Arn), deref(f.Reason)))
	}
	return fmt.Sprint(s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
