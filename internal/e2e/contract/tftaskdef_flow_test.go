package contract

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestTerraformTaskDefinitionConfiguration replays a configuration
// Terraform applies in one go: a secret and its version, a SecureString
// parameter, a log group, an execution role (with the AWS managed
// execution role policy attached) and a task role, then an
// aws_ecs_task_definition whose container takes the secret and the
// parameter as secrets and logs with awslogs to the group. The read back
// (DescribeTaskDefinition with tags) must carry every reference as
// given; destroy deregisters it.
func TestTerraformTaskDefinitionConfiguration(t *testing.T) {
	p := newCfgProvider(t)
	c := ctx(t)
	secretARN, err := p.createSecret(c, secretConfig{name: "app/db", recoveryWindowInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.createSecretVersion(c, secretARN, `{"password":"one"}`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.putParameter(c, parameterConfig{name: "/app/api-key", typ: "SecureString", value: "k", tier: "Standard"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.createLogGroup(c, logGroupConfig{name: "/ecs/app", retentionInDays: 7}); err != nil {
		t.Fatal(err)
	}
	exec := roleConfig{name: "app-exec", path: "/", assumeRolePolicy: ecsTasksTrust}
	task := roleConfig{name: "app-task", path: "/", assumeRolePolicy: ecsTasksTrust, inline: map[string]string{"secrets": readSecrets}}
	for _, r := range []roleConfig{exec, task} {
		if err := p.createRole(c, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.attachPolicyToRole(c, exec.name, execPolicyARN); err != nil {
		t.Fatal(err)
	}

	execARN, taskARN := "arn:aws:iam::123456789012:role/app-exec", "arn:aws:iam::123456789012:role/app-task"
	paramARN := "arn:aws:ssm:us-east-1:123456789012:parameter/app/api-key"
	secrets := []types.Secret{{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String(secretARN + ":password::")},
		{Name: aws.String("API_KEY"), ValueFrom: aws.String(paramARN)}}
	logs := &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
		"awslogs-group": "/ecs/app", "awslogs-region": region, "awslogs-stream-prefix": "app"}}
	in := &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"), ExecutionRoleArn: aws.String(execARN), TaskRoleArn: aws.String(taskARN),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2}, NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("berth-contract:1"), Memory: aws.Int32(64),
			Essential: aws.Bool(true), Secrets: secrets, LogConfiguration: logs}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}
	ecsP := &provider{ecs: p.ecs}
	arn, err := ecsP.registerTaskDefinition(c, in)
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	td := d.TaskDefinition
	if aws.ToString(td.ExecutionRoleArn) != execARN || aws.ToString(td.TaskRoleArn) != taskARN {
		t.Errorf("roles read back: %s, %s", aws.ToString(td.ExecutionRoleArn), aws.ToString(td.TaskRoleArn))
	}
	cd := td.ContainerDefinitions[0]
	if len(cd.Secrets) != 2 || aws.ToString(cd.Secrets[0].ValueFrom) != secretARN+":password::" || aws.ToString(cd.Secrets[1].ValueFrom) != paramARN {
		t.Errorf("secrets read back: %+v", cd.Secrets)
	}
	if l := cd.LogConfiguration; l == nil || l.LogDriver != types.LogDriverAwslogs || len(l.Options) != 3 || l.Options["awslogs-group"] != "/ecs/app" {
		t.Errorf("logConfiguration read back: %+v", l)
	}
	if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "team" {
		t.Errorf("tags read back: %+v", d.Tags)
	}

	if err := ecsP.deregisterTaskDefinition(c, arn); err != nil {
		t.Fatal(err)
	}
	if d, err := p.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil ||
		d.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		t.Errorf("refresh after destroy: %v %v, want INACTIVE (removed from the state)", d, err)
	}
	if err := p.deleteRole(c, exec.name, false, true); err != nil {
		t.Fatal(err)
	}
	if err := p.deleteRole(c, task.name, true, false); err != nil {
		t.Fatal(err)
	}
}
