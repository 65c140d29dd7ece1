package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
)

// scrape reads GET /metrics of the server.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(s.Endpoint() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, b)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// value returns the value of the sample of family with the labels given as
// name=value pairs (a histogram's sample count), and whether there is one.
func value(families map[string]*dto.MetricFamily, family string, labels ...string) (float64, bool) {
	f := families[family]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		want[k] = v
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		for _, l := range m.Label {
			if want[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// GET /metrics serves the state gauges of one snapshot (tasks, services,
// deployments, container instances, connected agents), raft's apply
// latency and indexes, and the controller's passes.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t.TempDir(), "us-east-1", "123456789012")
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The leader's loops start after it reset the agent sessions of earlier
	// processes; the controller's first pass says they have started.
	waitFor(t, "the controller's first pass", func() bool {
		n, _ := value(scrape(t, s), "berth_controller_pass_duration_seconds")
		return n > 0
	})

	creds, _ := s.Credentials()
	client := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx"), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	p := func(s string) *string { return &s }
	resources := []shape.Resource{
		{Name: p("CPU"), Type: p("INTEGER"), IntegerValue: 2048},
		{Name: p("MEMORY"), Type: p("INTEGER"), IntegerValue: 4096},
	}
	for i, connected := range []bool{true, false} {
		id := fmt.Sprintf("0000000000000000000000000000000%d", i)
		if _, err := s.node.Apply(ctx, wire.RegisterContainerInstance{Meta: wire.Meta{Now: time.Now()}, Cluster: "prod", NewID: id,
			EC2InstanceID: fmt.Sprintf("i-%d", i), TotalResources: resources}); err != nil {
			t.Fatal(err)
		}
		if connected {
			if _, err := s.node.Apply(ctx, wire.InstanceConnection{Meta: wire.Meta{Now: time.Now()}, InstanceID: id, Session: "test-session", Connected: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	run, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web"), Count: aws.Int32(1)})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("api"),
		TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	var svc types.Service
	waitFor(t, "the service's tasks", func() bool {
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("DescribeServices: %v", err)
		}
		svc = out.Services[0]
		return svc.PendingCount+svc.RunningCount == 2
	})
	// The standalone task and one of the service's are RUNNING.
	task := run.Tasks[0]
	pending := *task.LastStatus
	list, err := client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("api")})
	if err != nil || len(list.TaskArns) != 2 {
		t.Fatalf("ListTasks: %v %+v", err, list)
	}
	for _, arn := range []string{*task.TaskArn, list.TaskArns[0]} {
		if _, err := s.node.Apply(ctx, wire.TaskStateChange{Meta: wire.Meta{Now: time.Now()}, Cluster: "prod", TaskID: lastPart(arn), Status: "RUNNING"}); err != nil {
			t.Fatal(err)
		}
	}

	m := scrape(t, s)
	want := []struct {
		family string
		labels []string
		value  float64
	}{
		{"berth_tasks", []string{"cluster=prod", "last_status=RUNNING", "desired_status=RUNNING"}, 2},
		{"berth_tasks", []string{"cluster=prod", "last_status=" + pending, "desired_status=RUNNING"}, 1},
		{"berth_service_desired_tasks", []string{"cluster=prod", "service=api"}, 2},
		{"berth_service_running_tasks", []string{"cluster=prod", "service=api"}, 1},
		{"berth_service_pending_tasks", []string{"cluster=prod", "service=api"}, 1},
		{"berth_service_deployments", []string{"cluster=prod", "status=PRIMARY", "rollout_state=IN_PROGRESS"}, 1},
		{"berth_container_instances", []string{"cluster=prod", "status=ACTIVE"}, 2},
		{"berth_agents_connected", []string{"cluster=prod"}, 1},
	}
	for _, w := range want {
		got, ok := value(m, w.family, w.labels...)
		if !ok || got != w.value {
			t.Errorf("%s%v = %v (present %v), want %v", w.family, w.labels, got, ok, w.value)
		}
	}
	// A scrape samples the two gauges at different moments while the
	// server keeps applying; the last log index of a later scrape is at
	// least the applied index of this one.
	applied, _ := value(m, "berth_raft_applied_index")
	last, _ := value(scrape(t, s), "berth_raft_last_log_index")
	if applied < 8 || last < applied {
		t.Errorf("raft applied index %v, last log index %v: want at least the commands of the test, the last at least the applied", applied, last)
	}
	if n, _ := value(m, "berth_raft_apply_duration_seconds"); n < 8 {
		t.Errorf("berth_raft_apply_duration_seconds counts %v applies, want at least the test's 8", n)
	}
	if n, _ := value(m, "berth_controller_pass_rounds"); n < 2 {
		t.Errorf("berth_controller_pass_rounds counts %v passes, want at least 2", n)
	}
	if _, ok := value(m, "berth_api_requests_total", "operation=RunTask", "code="); !ok {
		t.Error("the API's request counter is missing")
	}
}

func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
