package e2e

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// A task whose task definition requires a capability no instance has fails
// with reason ATTRIBUTE and a detail naming the attribute, on RunTask and
// StartTask alike. Other reasons carry no detail.
func TestPlacement_AttributeFailureNamesTheAttribute(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("caps")
	inst := e.registerInstance("caps", "i-caps", "us-east-1a", "t3.small")
	instance := aws.ToString(inst.ContainerInstanceArn)
	e.holdStream(t, "caps", instance)
	td := minimalTaskDef("needs-role")
	td.TaskRoleArn = aws.String(e.createRole(t, "app", ecsTasksTrust))
	reg, err := e.ecs.RegisterTaskDefinition(c, td)
	if err != nil {
		t.Fatal(err)
	}
	// The first required attribute the instance lacks.
	have := map[string]string{}
	for _, a := range e.describeInstance("caps", instance).Attributes {
		have[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	var missing string
	for _, a := range reg.TaskDefinition.RequiresAttributes {
		if _, ok := have[aws.ToString(a.Name)]; !ok {
			missing = aws.ToString(a.Name)
			break
		}
	}
	if !slices.ContainsFunc(reg.TaskDefinition.RequiresAttributes, func(a types.Attribute) bool {
		return aws.ToString(a.Name) == "com.amazonaws.ecs.capability.task-iam-role"
	}) || missing == "" {
		t.Fatalf("requiresAttributes %+v, instance attributes %v: want one the instance lacks", reg.TaskDefinition.RequiresAttributes, have)
	}
	want := types.Failure{Arn: aws.String(instance), Reason: aws.String("ATTRIBUTE"), Detail: aws.String("Missing attribute: " + missing)}
	check := func(op string, failures []types.Failure, tasks []types.Task) {
		t.Helper()
		if len(tasks) != 0 || len(failures) != 1 {
			t.Fatalf("%s: got tasks %d failures %+v, want one failure", op, len(tasks), failures)
		}
		f := failures[0]
		if aws.ToString(f.Arn) != *want.Arn || aws.ToString(f.Reason) != *want.Reason || aws.ToString(f.Detail) != *want.Detail {
			t.Fatalf("%s: got failure {%s %s %q}, want {%s %s %q}", op, aws.ToString(f.Arn), aws.ToString(f.Reason), aws.ToString(f.Detail),
				*want.Arn, *want.Reason, *want.Detail)
		}
	}
	run, err := e.ecs.RunTask(c, &ecs.RunTaskInput{Cluster: aws.String("caps"), TaskDefinition: reg.TaskDefinition.TaskDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	check("RunTask", run.Failures, run.Tasks)
	st, err := e.ecs.StartTask(c, &ecs.StartTaskInput{Cluster: aws.String("caps"), TaskDefinition: reg.TaskDefinition.TaskDefinitionArn,
		ContainerInstances: []string{instance}})
	if err != nil {
		t.Fatal(err)
	}
	check("StartTask", st.Failures, st.Tasks)

	// Other reasons carry no detail.
	big := minimalTaskDef("too-big")
	big.ContainerDefinitions[0].Memory = aws.Int32(1 << 20)
	regBig, err := e.ecs.RegisterTaskDefinition(c, big)
	if err != nil {
		t.Fatal(err)
	}
	run, err = e.ecs.RunTask(c, &ecs.RunTaskInput{Cluster: aws.String("caps"), TaskDefinition: regBig.TaskDefinition.TaskDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Failures) != 1 || aws.ToString(run.Failures[0].Reason) != "RESOURCE:MEMORY" || run.Failures[0].Detail != nil {
		t.Fatalf("got failures %+v, want RESOURCE:MEMORY without detail", run.Failures)
	}
}
