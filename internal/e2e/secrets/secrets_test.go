package secrets

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth.dev/berth/internal/e2e/inproc"
)

// The values: none may appear in a data dir or a log.
const (
	dbPassword  = "pw-e2e-Kx73q-first"
	dbPassword2 = "pw-e2e-Mv18z-rotated"
	token       = "tok-e2e-Rb52w-byname"
	token2      = "tok-e2e-Jn64c-byarn"
)

var allValues = []string{dbPassword, dbPassword2, token, token2}

func TestSecretsDocker(t *testing.T) {
	t.Parallel()
	run(t, newEnv(t, rtDocker))
}

func TestSecretsProcess(t *testing.T) {
	t.Parallel()
	run(t, newEnv(t, rtProcess))
}

// appDef registers the test application with secrets and returns its ARN
// and the container port the application listens on (its host port, on
// the process runtime's host mode).
func (e *env) appDef(family string, secrets []ecstypes.Secret) (string, int32) {
	e.t.Helper()
	mode, port, hostPort := ecstypes.NetworkModeBridge, int32(8080), int32(0)
	if e.rt == rtProcess {
		p := int32(inproc.FreePort(e.t))
		mode, port, hostPort = ecstypes.NetworkModeHost, p, p
	}
	out, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: mode,
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64),
			EntryPoint: []string{e.bin}, Command: []string{"--listen", fmt.Sprintf(":%d", port)},
			Environment: []ecstypes.KeyValuePair{
				{Name: aws.String("PLAIN"), Value: aws.String("plain")},
				// The secret of the same name wins, as with ECS's agent.
				{Name: aws.String("TOKEN"), Value: aws.String("from-environment")},
			},
			Secrets:      secrets,
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(port), HostPort: aws.Int32(hostPort), Protocol: ecstypes.TransportProtocolTcp}},
		}},
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), port
}

func secret(name, valueFrom string) ecstypes.Secret {
	return ecstypes.Secret{Name: aws.String(name), ValueFrom: aws.String(valueFrom)}
}

func run(t *testing.T, e *env) {
	start := time.Now()
	c := e.ctx()
	cs, err := e.sm.CreateSecret(c, &sm.CreateSecretInput{Name: aws.String("e2e/db"),
		SecretString: aws.String(`{"username":"admin","password":"` + dbPassword + `"}`)})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	secretArn := aws.ToString(cs.ARN)
	for name, v := range map[string]string{"/e2e/token": token, "/e2e/token2": token2} {
		if _, err := e.ssm.PutParameter(c, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(v), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
			t.Fatalf("put parameter %s: %v", name, err)
		}
	}
	token2Arn := "arn:aws:ssm:us-east-1:123456789012:parameter/e2e/token2"
	def, port := e.appDef("secrets-app", []ecstypes.Secret{
		secret("DB_JSON", secretArn),
		secret("DB_PASSWORD", secretArn+":password::"),
		secret("TOKEN", "/e2e/token"),
		secret("TOKEN2", token2Arn),
	})

	// The task runs with the values in its environment.
	arn := e.runTask(def)
	task := e.waitTask(arn, "RUNNING", 2*time.Minute)
	hp := int(port)
	if e.rt == rtDocker {
		hp = inproc.HostPort(t, task, port)
	}
	got := appEnv(t, hp)
	want := map[string]string{"PLAIN": "plain", "DB_PASSWORD": dbPassword, "TOKEN": token, "TOKEN2": token2}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("the task's %s is %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(got["DB_JSON"], `"password":"`+dbPassword+`"`) {
		t.Errorf("the task's DB_JSON is not the whole secret")
	}

	// Rotation: a new task gets the new value; the running one keeps its
	// own (secrets are read at start, not refreshed).
	if _, err := e.sm.PutSecretValue(e.ctx(), &sm.PutSecretValueInput{SecretId: aws.String("e2e/db"),
		SecretString: aws.String(`{"username":"admin","password":"` + dbPassword2 + `"}`)}); err != nil {
		t.Fatalf("put secret value: %v", err)
	}
	e.stopTask(arn) // the process runtime's host mode: one task on the port at a time
	arn2 := e.runTask(def)
	task2 := e.waitTask(arn2, "RUNNING", 2*time.Minute)
	if e.rt == rtDocker {
		hp = inproc.HostPort(t, task2, port)
	}
	if got := appEnv(t, hp)["DB_PASSWORD"]; got != dbPassword2 {
		t.Errorf("after the rotation a new task's DB_PASSWORD is %q, want the new value", got)
	}
	e.stopTask(arn2)

	// A missing secret, a deleted one, a missing JSON key and a missing
	// parameter stop the task before its container starts, with ECS's
	// reason.
	del, err := e.sm.CreateSecret(e.ctx(), &sm.CreateSecretInput{Name: aws.String("e2e/deleted"), SecretString: aws.String(dbPassword)})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	if _, err := e.sm.DeleteSecret(e.ctx(), &sm.DeleteSecretInput{SecretId: del.ARN, RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatalf("delete secret: %v", err)
	}
	for _, c := range []struct {
		name   string
		secret ecstypes.Secret
		want   string
	}{
		{"missing-secret", secret("X", "arn:aws:secretsmanager:us-east-1:123456789012:secret:e2e/none-AbCdEf"),
			"ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:123456789012:secret:e2e/none-AbCdEf from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret."},
		{"deleted-secret", secret("X", aws.ToString(del.ARN)),
			"InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion."},
		{"missing-key", secret("X", secretArn+":nokey::"), "did not contain json key nokey"},
		{"missing-parameter", secret("X", "/e2e/none"),
			"ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): InvalidParameters: [/e2e/none]"},
	} {
		def, _ := e.appDef("secrets-"+c.name, []ecstypes.Secret{c.secret})
		arn := e.runTask(def)
		deadline := time.Now().Add(time.Minute)
		var last ecstypes.Task
		for {
			dt, err := e.ecs.DescribeTasks(e.ctx(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
			if err == nil && len(dt.Tasks) == 1 {
				last = dt.Tasks[0]
				if aws.ToString(last.LastStatus) == "STOPPED" {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the task is %s after a minute", c.name, aws.ToString(last.LastStatus))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if last.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(last.StoppedReason), c.want) {
			t.Errorf("%s: stopped with %s %q, want TaskFailedToStart and %q", c.name, last.StopCode, aws.ToString(last.StoppedReason), c.want)
		}
		if last.StartedAt != nil {
			t.Errorf("%s: the task started", c.name)
		}
	}

	// A definition with logConfiguration.secretOptions is placed nowhere:
	// no agent advertises the bootstrap log-driver attribute.
	out, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family:           aws.String("secrets-logopts"),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Memory: aws.Int32(64), EntryPoint: []string{e.bin},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverJsonFile,
				SecretOptions: []ecstypes.Secret{secret("token", "/e2e/token")}},
		}},
	})
	if err != nil {
		t.Fatalf("register secretOptions: %v", err)
	}
	rt, err := e.ecs.RunTask(e.ctx(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: out.TaskDefinition.TaskDefinitionArn})
	if err != nil || len(rt.Tasks) != 0 || len(rt.Failures) == 0 ||
		!strings.Contains(aws.ToString(rt.Failures[0].Reason), "ATTRIBUTE") || !strings.Contains(aws.ToString(rt.Failures[0].Detail), "bootstrap.log-driver") {
		t.Errorf("a definition with secretOptions: %v %+v", err, rt)
	}

	// No value on disk (server, agent, runtime state) or in a log.
	noValueUnder(t, "the server's data dir", e.dir, allValues)
	noValueUnder(t, "the agent's data dir", e.agentDir, allValues)
	noValueIn(t, "the logs", e.logs.String(), allValues)
	t.Logf("%s: %s", e.rt, time.Since(start).Round(time.Millisecond))
}
