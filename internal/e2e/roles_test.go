package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"berth.dev/berth/internal/sdkhttp"
)

// ecsTasksTrust lets ECS tasks assume a role.
const ecsTasksTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// createRole creates an IAM role with trust policy trust and returns its ARN.
func (e *env) createRole(t *testing.T, name, trust string) string {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }))
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.endpoint); o.HTTPClient = sdkhttp.New() })
	out, err := client.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	return aws.ToString(out.Role.Arn)
}

// TestRunTask_RolesMustBeAssumable checks that RunTask and StartTask refuse
// a task or execution role ECS tasks cannot assume (missing, or not
// trusting ecs-tasks.amazonaws.com), from the definition or an override,
// with ECS's message, and launch once the role is right.
func TestRunTask_RolesMustBeAssumable(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("roles")
	inst := e.registerInstance("roles", "i-roles", "us-east-1a", "t3.small")
	e.holdStream(t, "roles", aws.ToString(inst.ContainerInstanceArn))
	ec2Trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	good := e.createRole(t, "app-task", ecsTasksTrust)
	ec2Only := e.createRole(t, "ec2-only", ec2Trust)
	missing := "arn:aws:iam::" + testAccount + ":role/nobody"
	msg := func(role string) string {
		return "ECS was unable to assume the role '" + role + "' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role."
	}
	register := func(family string, task, exec string) string {
		td := minimalTaskDef(family)
		if task != "" {
			td.TaskRoleArn = aws.String(task)
		}
		if exec != "" {
			td.ExecutionRoleArn = aws.String(exec)
		}
		out, err := e.ecs.RegisterTaskDefinition(c, td)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	for _, tc := range []struct {
		name, task, exec string
		override         *types.TaskOverride
		bad              string
	}{
		{name: "missing task role", task: missing, bad: missing},
		{name: "untrusting task role", task: ec2Only, bad: ec2Only},
		{name: "missing execution role", task: good, exec: missing, bad: missing},
		{name: "untrusting execution role by name", exec: "ec2-only", bad: "ec2-only"},
		{name: "override", task: good, override: &types.TaskOverride{TaskRoleArn: aws.String(ec2Only)}, bad: ec2Only},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := register("roles", tc.task, tc.exec)
			_, err := e.ecs.RunTask(c, &ecs.RunTaskInput{Cluster: aws.String("roles"), TaskDefinition: aws.String(def), Overrides: tc.override})
			wantAPIError[*types.ClientException](t, err, msg(tc.bad))
			_, err = e.ecs.StartTask(c, &ecs.StartTaskInput{Cluster: aws.String("roles"), TaskDefinition: aws.String(def),
				ContainerInstances: []string{aws.ToString(inst.ContainerInstanceArn)}, Overrides: tc.override})
			wantAPIError[*types.ClientException](t, err, msg(tc.bad))
		})
	}
	// Good roles, by ARN and by name, and a good override of a bad role,
	// go on to placement (this instance, registered by hand, lacks the
	// task-iam-role capability: a placement failure, not an error).
	for _, in := range []*ecs.RunTaskInput{
		{TaskDefinition: aws.String(register("roles", good, "app-task"))},
		{TaskDefinition: aws.String(register("roles", ec2Only, "")), Overrides: &types.TaskOverride{TaskRoleArn: aws.String(good)}},
	} {
		in.Cluster = aws.String("roles")
		out, err := e.ecs.RunTask(c, in)
		if err != nil {
			t.Fatalf("run task with assumable roles: %v", err)
		}
		if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "ATTRIBUTE" {
			t.Fatalf("run task with assumable roles: failures %+v, want one ATTRIBUTE failure", out.Failures)
		}
	}
}

// TestService_RolesMustBeAssumable checks that a service whose tasks'
// role ECS tasks cannot assume launches none and says why in an event, as
// ECS does, and launches once the role exists (the next attempt comes
// after the reconciler's placement retry, a minute: it runs in parallel).
func TestService_RolesMustBeAssumable(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := ctx(t)
	e.createCluster("svcroles")
	inst := e.registerInstance("svcroles", "i-svcroles", "us-east-1a", "t3.small")
	e.holdStream(t, "svcroles", aws.ToString(inst.ContainerInstanceArn))
	role := "arn:aws:iam::" + testAccount + ":role/late"
	td := minimalTaskDef("svcroles")
	td.TaskRoleArn = aws.String(role)
	reg, err := e.ecs.RegisterTaskDefinition(c, td)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ecs.CreateService(c, &ecs.CreateServiceInput{Cluster: aws.String("svcroles"), ServiceName: aws.String("web"),
		TaskDefinition: reg.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	event := func(prefix string, within time.Duration) types.Service {
		t.Helper()
		var svc types.Service
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, err := e.ecs.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Cluster: aws.String("svcroles"), Services: []string{"web"}})
			if err != nil || len(out.Services) != 1 {
				t.Fatalf("describe service: %v", err)
			}
			svc = out.Services[0]
			for _, ev := range svc.Events {
				if strings.HasPrefix(aws.ToString(ev.Message), prefix) {
					return svc
				}
			}
		}
		t.Fatalf("no event %q in %d events", prefix, len(svc.Events))
		return svc
	}
	svc := event("(service web) failed to launch a task with (error ECS was unable to assume the role '"+role+"' that was provided for this task.", 30*time.Second)
	if svc.RunningCount != 0 || svc.PendingCount != 0 {
		t.Fatalf("a task was launched: running %d pending %d", svc.RunningCount, svc.PendingCount)
	}
	e.createRole(t, "late", ecsTasksTrust)
	// Now the launch reaches placement (the hand-registered instance lacks
	// the task-iam-role capability).
	event("(service web) was unable to place a task because no container instance met all of its requirements.", 2*time.Minute)
}
