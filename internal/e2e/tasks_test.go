package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// berth has no way to start tasks yet, so these tests cover the filters,
// validation and error paths of the task reads over an empty task table.

func TestTasks_ListFilters(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	e.createCluster("other")
	ci := e.registerInstance("ec2", "i-a", "us-east-1a", "t3.small")
	arn := aws.ToString(ci.ContainerInstanceArn)
	elsewhere := aws.ToString(e.registerInstance("other", "i-b", "us-east-1a", "t3.small").ContainerInstanceArn)
	if _, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef("web")); err != nil {
		t.Fatal(err)
	}

	good := []struct {
		name string
		in   ecs.ListTasksInput
	}{
		{"no filter", ecs.ListTasksInput{}},
		{"container instance ID", ecs.ListTasksInput{ContainerInstance: aws.String(instanceID(arn))}},
		{"container instance ARN", ecs.ListTasksInput{ContainerInstance: aws.String(arn)}},
		{"family", ecs.ListTasksInput{Family: aws.String("web")}},
		{"unknown family", ecs.ListTasksInput{Family: aws.String("nothing")}},
		{"service name", ecs.ListTasksInput{ServiceName: aws.String("api")}},
		{"desired RUNNING", ecs.ListTasksInput{DesiredStatus: types.DesiredStatusRunning}},
		{"desired PENDING", ecs.ListTasksInput{DesiredStatus: types.DesiredStatusPending}},
		{"desired STOPPED", ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped}},
		{"launch type EC2", ecs.ListTasksInput{LaunchType: types.LaunchTypeEc2}},
		{"launch type FARGATE", ecs.ListTasksInput{LaunchType: types.LaunchTypeFargate}},
		{"launch type EXTERNAL", ecs.ListTasksInput{LaunchType: types.LaunchTypeExternal}},
		{"started by alone", ecs.ListTasksInput{StartedBy: aws.String("ecs-svc/1234567890123456789")}},
		{"combined", ecs.ListTasksInput{ContainerInstance: aws.String(arn), Family: aws.String("web"), ServiceName: aws.String("api"),
			DesiredStatus: types.DesiredStatusStopped, LaunchType: types.LaunchTypeEc2}},
		{"page size", ecs.ListTasksInput{MaxResults: aws.Int32(1)}},
		{"cluster by ARN", ecs.ListTasksInput{Cluster: aws.String(arnPrefix + "cluster/ec2")}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Cluster == nil {
				in.Cluster = aws.String("ec2")
			}
			out, err := e.ecs.ListTasks(c, &in)
			if err != nil {
				t.Fatal(err)
			}
			if out.TaskArns == nil || len(out.TaskArns) != 0 || out.NextToken != nil {
				t.Fatalf("got %v and token %v, want an empty list and no token", out.TaskArns, out.NextToken)
			}
		})
	}

	counts := e.stateCounts()
	unknown := strings.Repeat("0", 32)
	bad := []struct {
		name    string
		in      ecs.ListTasksInput
		msg     string
		cluster bool // ClusterNotFoundException rather than InvalidParameterException
	}{
		{"started by with family", ecs.ListTasksInput{StartedBy: aws.String("me"), Family: aws.String("web")}, "startedBy", false},
		{"started by with container instance", ecs.ListTasksInput{StartedBy: aws.String("me"), ContainerInstance: aws.String(arn)}, "startedBy", false},
		{"started by with service", ecs.ListTasksInput{StartedBy: aws.String("me"), ServiceName: aws.String("api")}, "startedBy", false},
		{"started by with desired status", ecs.ListTasksInput{StartedBy: aws.String("me"), DesiredStatus: types.DesiredStatusStopped}, "startedBy", false},
		{"started by with launch type", ecs.ListTasksInput{StartedBy: aws.String("me"), LaunchType: types.LaunchTypeFargate}, "startedBy", false},
		{"unknown container instance", ecs.ListTasksInput{ContainerInstance: aws.String(unknown)}, unknown, false},
		{"container instance of another cluster", ecs.ListTasksInput{ContainerInstance: aws.String(elsewhere)}, elsewhere, false},
		{"container instance not an ID", ecs.ListTasksInput{ContainerInstance: aws.String("i-a")}, "i-a", false},
		{"bad desired status", ecs.ListTasksInput{DesiredStatus: "DONE"}, "DONE", false},
		{"bad launch type", ecs.ListTasksInput{LaunchType: "LAMBDA"}, "LAMBDA", false},
		{"page too big", ecs.ListTasksInput{MaxResults: aws.Int32(101)}, "maxResults", false},
		{"page too small", ecs.ListTasksInput{MaxResults: aws.Int32(0)}, "maxResults", false},
		{"bad token", ecs.ListTasksInput{NextToken: aws.String("###")}, "nextToken", false},
		{"bad cluster name", ecs.ListTasksInput{Cluster: aws.String("no/slashes")}, "Cluster", false},
		{"unknown cluster", ecs.ListTasksInput{Cluster: aws.String("nope")}, "Cluster not found.", true},
		{"unknown cluster ARN", ecs.ListTasksInput{Cluster: aws.String(arnPrefix + "cluster/nope")}, "Cluster not found.", true},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Cluster == nil {
				in.Cluster = aws.String("ec2")
			}
			_, err := e.ecs.ListTasks(c, &in)
			if tc.cluster {
				wantAPIError[*types.ClusterNotFoundException](t, err, tc.msg)
			} else {
				wantAPIError[*types.InvalidParameterException](t, err, tc.msg)
			}
		})
	}
	if got := e.stateCounts(); !maps.Equal(got, counts) {
		t.Fatalf("got state %v, want %v", got, counts)
	}

	// A deleted cluster is not found either.
	if _, err := e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("other"), ContainerInstance: aws.String(elsewhere)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ecs.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.ecs.ListTasks(c, &ecs.ListTasksInput{Cluster: aws.String("other")})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	// The default cluster is assumed when none is given.
	_, err = e.ecs.ListTasks(c, &ecs.ListTasksInput{})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	e.createCluster("default")
	if out, err := e.ecs.ListTasks(c, &ecs.ListTasksInput{}); err != nil || len(out.TaskArns) != 0 {
		t.Fatalf("got %v %v, want an empty list from the default cluster", out, err)
	}
}

func TestTasks_Describe(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	counts := e.stateCounts()

	id := strings.Repeat("a", 32)
	uuid := "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"
	foreign := arnPrefix + "task/other/" + strings.Repeat("b", 32)
	short := arnPrefix + "task/" + strings.Repeat("c", 32)
	out, err := e.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{
		Cluster: aws.String("ec2"), Tasks: []string{id, uuid, foreign, short, "not-a-task"},
		Include: []types.TaskField{types.TaskFieldTags},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Tasks == nil || len(out.Tasks) != 0 {
		t.Fatalf("got tasks %+v, want an empty list", out.Tasks)
	}
	var got []string
	for _, f := range out.Failures {
		if r := aws.ToString(f.Reason); r != "MISSING" {
			t.Fatalf("got reason %v, want MISSING", r)
		}
		got = append(got, aws.ToString(f.Arn))
	}
	want := []string{arnPrefix + "task/ec2/" + id, arnPrefix + "task/ec2/" + uuid, foreign, short, arnPrefix + "task/ec2/not-a-task"}
	if !slices.Equal(got, want) {
		t.Fatalf("got failures %v, want %v", got, want)
	}

	// The default cluster is assumed when none is given.
	_, err = e.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{Tasks: []string{id}})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")

	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("%032x", i)
	}
	bad := []struct {
		name string
		in   ecs.DescribeTasksInput
		msg  string
	}{
		{"empty list", ecs.DescribeTasksInput{Cluster: aws.String("ec2"), Tasks: []string{}}, "Tasks cannot be empty."},
		{"too many", ecs.DescribeTasksInput{Cluster: aws.String("ec2"), Tasks: many}, "100"},
		{"bad include", ecs.DescribeTasksInput{Cluster: aws.String("ec2"), Tasks: []string{id}, Include: []types.TaskField{"LOGS"}}, "LOGS"},
		{"bad cluster name", ecs.DescribeTasksInput{Cluster: aws.String("a b"), Tasks: []string{id}}, "Cluster"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.DescribeTasks(c, &tc.in)
			wantAPIError[*types.InvalidParameterException](t, err, tc.msg)
		})
	}
	_, err = e.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{Cluster: aws.String("nope"), Tasks: []string{id}})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	// The empty-list check answers before the cluster lookup.
	_, err = e.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{Cluster: aws.String("nope"), Tasks: []string{}})
	wantAPIError[*types.InvalidParameterException](t, err, "Tasks cannot be empty.")
	// No tasks member at all: the SDK refuses that itself, so send it raw.
	r := e.raw("DescribeTasks", []byte(`{"cluster":"ec2"}`), true, nil)
	if r.Status != 400 || r.Type != "InvalidParameterException" || r.Message != "Tasks cannot be empty." {
		t.Fatalf("got %d %s %q, want 400 InvalidParameterException %q", r.Status, r.Type, r.Message, "Tasks cannot be empty.")
	}
	if got := e.stateCounts(); !maps.Equal(got, counts) {
		t.Fatalf("got state %v, want %v", got, counts)
	}
}
