package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/policy"
	"berth.dev/berth/internal/shape"
)

func TestWriteWire_TaskIsTheECSWireShape(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	out := &ecs.DescribeTasksOutput{
		Tasks: []types.Task{{
			TaskArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task/c/abc"), LastStatus: aws.String("STOPPED"),
			StopCode: types.TaskStopCodeTaskFailedToStart, CreatedAt: &at, Cpu: aws.String("256"),
			Containers: []types.Container{{Name: aws.String("app"), ExitCode: aws.Int32(1),
				NetworkBindings: []types.NetworkBinding{{HostPort: aws.Int32(8080), ContainerPort: aws.Int32(80), Protocol: types.TransportProtocolTcp}}}},
			Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{}},
		}},
		Failures: []types.Failure{},
	}
	var b bytes.Buffer
	if err := writeWire[shape.DescribeTasksResponse](&b, out); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{`"tasks": [`, `"taskArn": "arn:aws:ecs:us-east-1:000000000000:task/c/abc"`, `"stopCode": "TaskFailedToStart"`,
		`"createdAt": 1767323045.678`, `"exitCode": 1`, `"hostPort": 8080`, `"protocol": "tcp"`, `"failures": []`, `"containerOverrides": []`, `"cpu": "256"`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, got)
		}
	}
	for _, bad := range []string{"null", "TaskArn", "ResultMetadata", "healthStatus"} {
		if strings.Contains(got, bad) {
			t.Errorf("%s in:\n%s", bad, got)
		}
	}
	// It reads back as ECS's shape.
	var back shape.DescribeTasksResponse
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Tasks[0].CreatedAt.Time() != at {
		t.Fatalf("read back: %v %+v", err, back)
	}
}

func TestDecodeFile_NamesMembersAsWritten(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"family":"x","containerDefinitions":[{"name":"a","image":3}]}`, `containerDefinitions[0].image: must be a string, not the number 3`},
		{`{"family":"x","containerDefinitions":[{"name":"a","image":"i"},{"name":"b","image":"i","memory":"lots"}]}`, `containerDefinitions[1].memory: must be a whole number, not the string "lots"`},
		{`{"family":"x","containerDefinitons":[]}`, `containerDefinitons: unknown member`},
		{`{"Family":"x"}`, `Family: unknown member (did you mean family?)`},
		{`{"family":"x","containerDefinitions":[{"name":"a","portMappings":[{"containerPort":80,"hostport":8080}]}]}`, `containerDefinitions[0].portMappings[0].hostport: unknown member (did you mean hostPort?)`},
		{`[1]`, `the document: must be an object, not a list`},
	} {
		var td shape.RegisterTaskDefinitionRequest
		err := decodeFile([]byte(c.doc), &td)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %s", c.doc, err, c.want)
		}
	}
	var td shape.RegisterTaskDefinitionRequest
	if err := decodeFile([]byte(`{"family":"x","containerDefinitions":[{"name":"a","image":"i","memory":64,"essential":true}]}`), &td); err != nil {
		t.Fatal(err)
	}
	var in ecs.RegisterTaskDefinitionInput
	fromWire(&in, &td)
	if aws.ToString(in.Family) != "x" || len(in.ContainerDefinitions) != 1 || aws.ToInt32(in.ContainerDefinitions[0].Memory) != 64 ||
		!aws.ToBool(in.ContainerDefinitions[0].Essential) || aws.ToString(in.ContainerDefinitions[0].Image) != "i" {
		t.Fatalf("SDK input: %+v", in)
	}
	if err := checkTaskDefinition(&shape.RegisterTaskDefinitionRequest{ContainerDefinitions: []shape.ContainerDefinition{{Name: aws.String("a")}}}, ""); err == nil ||
		err.Error() != "containerDefinitions[0].image is required" {
		t.Fatalf("no image: %v", err)
	}
}

func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "m.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	td := "taskDefinition:\n  containerDefinitions:\n    - {name: app, image: busybox, memory: 64}\n"
	for _, c := range []struct{ body, want string }{
		{"service: web\n" + td, "desiredCount is required"},
		{"service: web\ndesiredCout: 2\n" + td, "desiredCout: unknown member"},
		{"service: web\ndesiredCount: two\n" + td, `desiredCount: must be a whole number, not the string "two"`},
		{"service: web\ndesiredCount: 2\ndeploymentConfiguration: {maximumPercent: 200, deploymentCircuitBreaker: {enable: yes}}\n" + td, ""},
		{"service: web\ndesiredCount: 2\ndeploymentConfiguration: {deploymentCircuitBreaker: {enable: 1}}\n" + td, "deploymentConfiguration.deploymentCircuitBreaker.enable: must be true or false"},
		{"service: web\ndesiredCount: 2\ntaskDefinition:\n  containerDefinitions:\n    - {name: app, memory: 64}\n", "taskDefinition.containerDefinitions[0].image is required"},
		{"service: web\ndesiredCount: 2\nplacementStrategy: [{type: spread, feild: x}]\n" + td, "placementStrategy[0].feild: unknown member"},
	} {
		_, _, err := readManifest(write(c.body))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.body, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s", c.body, err, c.want)
		}
	}
	m, in, err := readManifest(write("service: web\ndesiredCount: 2\nplacementStrategy: [{type: spread, field: 'attribute:ecs.availability-zone'}]\ndeploymentConfiguration: {maximumPercent: 150, deploymentCircuitBreaker: {enable: true, rollback: true}}\n" + td))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.Family) != "web" || m.Cluster != "default" || aws.ToInt32(m.deploymentConfig.MaximumPercent) != 150 ||
		!m.deploymentConfig.DeploymentCircuitBreaker.Rollback || len(m.strategy) != 1 || m.strategy[0].Type != types.PlacementStrategyTypeSpread {
		t.Fatalf("manifest: %+v %+v", m, in)
	}
}

func TestDescribe_OneLine(t *testing.T) {
	api := &smithy.OperationError{ServiceID: "ECS", OperationName: "RunTask",
		Err: &smithy.GenericAPIError{Code: "ClientException", Message: "TaskDefinition not found."}}
	if got := describe(api); got != "ClientException: TaskDefinition not found." {
		t.Errorf("API error: %q", got)
	}
	other := &smithy.OperationError{ServiceID: "ECS", OperationName: "ListClusters", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}
	if got := describe(other); got != "ListClusters: dial tcp 127.0.0.1:1: connect: connection refused" {
		t.Errorf("other SDK error: %q", got)
	}
	if got := describe(errors.New("plain")); got != "plain" {
		t.Errorf("plain: %q", got)
	}
}

func TestBuildInfo(t *testing.T) {
	v, c, d := buildInfoFrom("v1.2.3", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}})
	if v != "v1.2.3" || c != "abc123" || d != "2026-01-02T03:04:05Z" {
		t.Errorf("got %s %s %s", v, c, d)
	}
	if _, c, d := buildInfoFrom("dev", nil); c != "unknown" || d != "unknown" {
		t.Errorf("no vcs: %s %s", c, d)
	}
	var out bytes.Buffer
	if code := Main(t.Context(), []string{"version"}, Env{Stdout: &out, Stderr: &out}); code != 0 || !strings.Contains(out.String(), "commit ") || !strings.Contains(out.String(), "built ") {
		t.Errorf("berth version: %d %q", code, out.String())
	}
}

func TestWhyStoppedAndPorts(t *testing.T) {
	task := types.Task{
		TaskArn: aws.String("arn:aws:ecs:us-east-1:0:task/c/abc"), LastStatus: aws.String("STOPPED"),
		StopCode: types.TaskStopCodeTaskFailedToStart, StoppedReason: aws.String("Essential container in task exited"),
		Containers: []types.Container{
			{Name: aws.String("app"), LastStatus: aws.String("STOPPED"), ExitCode: aws.Int32(127), Reason: aws.String("CannotStartContainerError: no such file"),
				NetworkBindings:   []types.NetworkBinding{{HostPort: aws.Int32(32768), ContainerPort: aws.Int32(80), Protocol: types.TransportProtocolTcp}, {HostPort: aws.Int32(53), ContainerPort: aws.Int32(53), Protocol: types.TransportProtocolUdp}},
				NetworkInterfaces: []types.NetworkInterface{{PrivateIpv4Address: aws.String("10.0.0.5")}}},
			{Name: aws.String("side"), LastStatus: aws.String("STOPPED")},
		},
	}
	want := "task abc stopped (never started): TaskFailedToStart: Essential container in task exited\n" +
		"  container app: stopped, exit code 127: CannotStartContainerError: no such file\n" +
		"  container side: stopped"
	if got := whyStopped(task); got != want {
		t.Errorf("whyStopped:\n%s\nwant:\n%s", got, want)
	}
	if got := ports(task); got != "32768->80/tcp,53->53/udp" {
		t.Errorf("ports: %q", got)
	}
	if got := ips(task); got != "10.0.0.5" {
		t.Errorf("ips: %q", got)
	}
	var b bytes.Buffer
	printTasks(&b, []types.Task{task})
	if !strings.Contains(b.String(), "PORTS") || !strings.Contains(b.String(), "32768->80/tcp,53->53/udp  10.0.0.5") {
		t.Errorf("ps table:\n%s", b.String())
	}
}

func TestFailureReason(t *testing.T) {
	evs := []types.ServiceEvent{
		{Message: aws.String("(service web) rolling back to deployment ecs-svc/1.")},
		{Message: aws.String("(service web) (deployment ecs-svc/2) deployment failed: tasks failed to start.")},
	}
	if got := failureReason("", "ecs-svc/2", evs); got != "tasks failed to start." {
		t.Errorf("from events: %q", got)
	}
	if got := failureReason("ECS deployment circuit breaker: tasks failed to start.", "ecs-svc/2", evs); got != "ECS deployment circuit breaker: tasks failed to start." {
		t.Errorf("from rolloutStateReason: %q", got)
	}
	if got := failureReason("", "ecs-svc/3", evs); got != "" {
		t.Errorf("another deployment: %q", got)
	}
}

// The examples are read as they are.
func TestExamplesDecode(t *testing.T) {
	manifests, _ := filepath.Glob("../../examples/*-service.yaml")
	defs, _ := filepath.Glob("../../examples/*.json")
	more, _ := filepath.Glob("../../examples/*/*-service.yaml")
	manifests = append(manifests, more...)
	more, _ = filepath.Glob("../../examples/*/*.json")
	policies, _ := filepath.Glob("../../examples/policies/*.json")
	for _, p := range more {
		if !slices.Contains(policies, p) {
			defs = append(defs, p)
		}
	}
	if len(manifests) == 0 || len(defs) == 0 {
		t.Fatal("no examples found")
	}
	for _, p := range manifests {
		if _, _, err := readManifest(p); err != nil {
			t.Errorf("%v", err)
		}
	}
	for _, p := range defs {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var td shape.RegisterTaskDefinitionRequest
		if err := decodeFile(raw, &td); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// examples/policies holds IAM trust policies.
	if len(policies) == 0 {
		t.Fatal("no example policies found")
	}
	for _, p := range policies {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := policy.Parse(string(raw), policy.Trust); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
