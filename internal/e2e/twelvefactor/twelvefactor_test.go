package twelvefactor

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth.dev/berth/internal/e2e/inproc"
)

const (
	trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	execPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","ssm:GetParameters","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`
	appPolicy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/twelve/*"}]}`
	group       = "/ecs/twelve"
)

func TestTwelveFactorDocker(t *testing.T) { run(t, newEnv(t, rtDocker)) }

func TestTwelveFactorProcess(t *testing.T) { run(t, newEnv(t, rtProcess)) }

// report is the line berth-testapp twelve-factor writes (see
// internal/e2e/testapp/twelve.go).
type report struct {
	Report      string            `json:"report"`
	SecretSHA   map[string]string `json:"secretSha256"`
	Env         map[string]string `json:"env"`
	Identity    string            `json:"identity"`
	CredsSource string            `json:"credsSource"`
	Parameter   string            `json:"parameter"`
	Discovered  []string          `json:"discovered"`
	TaskARN     string            `json:"taskArn"`
	Family      string            `json:"family"`
	Containers  []string          `json:"containers"`
	MemoryUsage uint64            `json:"memoryUsage"`
}

func randomValue(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func run(t *testing.T, e *env) {
	c := e.ctx()
	// The roles: the execution role the agent fetches secrets with, and
	// the application's own.
	for _, r := range []struct{ name, policy string }{{"ecsTaskExecutionRole", execPolicy}, {"twelve-app", appPolicy}} {
		if _, err := e.iam.CreateRole(c, &iam.CreateRoleInput{RoleName: aws.String(r.name), AssumeRolePolicyDocument: aws.String(trustPolicy)}); err != nil {
			t.Fatalf("create role %s: %v", r.name, err)
		}
		if _, err := e.iam.PutRolePolicy(c, &iam.PutRolePolicyInput{RoleName: aws.String(r.name), PolicyName: aws.String("access"),
			PolicyDocument: aws.String(r.policy)}); err != nil {
			t.Fatalf("put role policy %s: %v", r.name, err)
		}
	}
	if _, err := e.iam.AttachRolePolicy(c, &iam.AttachRolePolicyInput{RoleName: aws.String("ecsTaskExecutionRole"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")}); err != nil {
		t.Fatalf("attach the AWS managed execution role policy: %v", err)
	}
	// The configuration: a JSON secret, a SecureString and a String.
	password, token := randomValue("pw-"), randomValue("tok-")
	secret, err := e.sm.CreateSecret(c, &sm.CreateSecretInput{Name: aws.String("twelve/db"),
		SecretString: aws.String(`{"username":"app","password":"` + password + `"}`)})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	secretArn := aws.ToString(secret.ARN)
	for _, p := range []struct {
		name, value string
		typ         ssmtypes.ParameterType
	}{{"/twelve/api-token", token, ssmtypes.ParameterTypeSecureString}, {"/twelve/feature", "blue", ssmtypes.ParameterTypeString}} {
		if _, err := e.ssm.PutParameter(c, &ssm.PutParameterInput{Name: aws.String(p.name), Value: aws.String(p.value), Type: p.typ}); err != nil {
			t.Fatalf("put parameter %s: %v", p.name, err)
		}
	}
	// A service registry the application discovers with the Cloud Map API.
	op, err := e.sd.CreateHttpNamespace(c, &sd.CreateHttpNamespaceInput{Name: aws.String("twelve-apis")})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	got, err := e.sd.GetOperation(c, &sd.GetOperationInput{OperationId: op.OperationId})
	if err != nil || got.Operation.Status != sdtypes.OperationStatusSuccess {
		t.Fatalf("namespace operation: %v %+v", err, got)
	}
	svc, err := e.sd.CreateService(c, &sd.CreateServiceInput{Name: aws.String("billing"),
		NamespaceId: aws.String(got.Operation.Targets["NAMESPACE"])})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	if _, err := e.sd.RegisterInstance(c, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("billing-1"),
		Attributes: map[string]string{"url": "http://billing.example:8080"}}); err != nil {
		t.Fatalf("register instance: %v", err)
	}
	if _, err := e.cwl.CreateLogGroup(c, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatalf("create log group: %v", err)
	}
	if _, err := e.cwl.PutRetentionPolicy(c, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("put retention policy: %v", err)
	}

	// The task definition, as it would be on ECS.
	mode, port, hostPort := ecstypes.NetworkModeBridge, int32(8080), int32(0)
	if e.rt == rtProcess {
		p := int32(inproc.FreePort(t))
		mode, port, hostPort = ecstypes.NetworkModeHost, p, p
	}
	reg, err := e.ecs.RegisterTaskDefinition(c, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("twelve"), NetworkMode: mode,
		ExecutionRoleArn: aws.String("arn:aws:iam::" + testAccount + ":role/ecsTaskExecutionRole"),
		TaskRoleArn:      aws.String("arn:aws:iam::" + testAccount + ":role/twelve-app"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(128),
			EntryPoint: []string{e.bin},
			Command: []string{"twelve-factor", "--secret-env", "DB_USER,DB_PASSWORD,API_TOKEN",
				"--env", "APP_MODE,AWS_ENDPOINT_URL,AWS_REGION", "--parameter", "/twelve/feature", "--discover", "twelve-apis/billing",
				"--", "--listen", fmt.Sprintf(":%d", port)},
			Environment: []ecstypes.KeyValuePair{
				{Name: aws.String("APP_MODE"), Value: aws.String("production")},
				// Never the EC2 instance metadata service, whatever happens.
				{Name: aws.String("AWS_EC2_METADATA_DISABLED"), Value: aws.String("true")},
			},
			Secrets: []ecstypes.Secret{
				{Name: aws.String("DB_USER"), ValueFrom: aws.String(secretArn + ":username::")},
				{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String(secretArn + ":password::")},
				{Name: aws.String("API_TOKEN"), ValueFrom: aws.String("/twelve/api-token")},
			},
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(port), HostPort: aws.Int32(hostPort), Protocol: ecstypes.TransportProtocolTcp}},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": group, "awslogs-region": testRegion, "awslogs-stream-prefix": "ecs"}},
		}},
	})
	if err != nil {
		t.Fatalf("register task definition: %v", err)
	}
	def := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)

	first := e.runTask(def)
	rep := e.report(first)
	e.checkReport(rep, first, sha(password), sha(token))

	// FilterLogEvents finds the report with a JSON pattern.
	firstStream := streamOf(first)
	fl, err := e.cwl.FilterLogEvents(c, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group),
		FilterPattern: aws.String(`{ $.report = "twelve-factor" && $.env.APP_MODE = "production" }`)})
	if err != nil || len(fl.Events) != 1 || aws.ToString(fl.Events[0].LogStreamName) != firstStream {
		t.Fatalf("FilterLogEvents: %v %+v", err, fl)
	}

	// (On the process runtime's host mode the next task needs the port.)
	inproc.StopTask(t, e.ecs, cluster, aws.ToString(first.TaskArn))

	// Rotation: a new secret value reaches the tasks started afterwards.
	password2 := randomValue("pw2-")
	if _, err := e.sm.PutSecretValue(c, &sm.PutSecretValueInput{SecretId: aws.String("twelve/db"),
		SecretString: aws.String(`{"username":"app","password":"` + password2 + `"}`)}); err != nil {
		t.Fatalf("rotate the secret: %v", err)
	}
	second := e.runTask(def)
	rep2 := e.report(second)
	e.checkReport(rep2, second, sha(password2), sha(token))
	if rep2.Identity == rep.Identity {
		t.Errorf("two tasks share the identity %s (the session name is the task ID)", rep.Identity)
	}

	// The logs outlive the tasks.
	inproc.StopTask(t, e.ecs, cluster, aws.ToString(second.TaskArn))
	if got := e.reportLines(firstStream); len(got) != 1 {
		t.Fatalf("after the task stopped, its stream holds %d reports", len(got))
	}

	// No secret value in plaintext anywhere berth writes.
	e.noPlaintext(password, password2, token)
}

// streamOf is the awslogs stream of the task's app container.
func streamOf(task ecstypes.Task) string {
	arn := aws.ToString(task.TaskArn)
	return "ecs/app/" + arn[strings.LastIndex(arn, "/")+1:]
}

// reportLines are the report lines in the stream, with the application's
// other lines.
func (e *env) reportLines(stream string) []string {
	out, err := e.cwl.GetLogEvents(e.ctx(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group),
		LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		return nil
	}
	var got []string
	for _, ev := range out.Events {
		if m := aws.ToString(ev.Message); strings.Contains(m, `"report":"twelve-factor"`) {
			got = append(got, m)
		}
	}
	return got
}

// report waits for the task's report in its log stream.
func (e *env) report(task ecstypes.Task) report {
	e.t.Helper()
	stream := streamOf(task)
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if got := e.reportLines(stream); len(got) > 0 {
			var r report
			if err := json.Unmarshal([]byte(got[0]), &r); err != nil {
				e.t.Fatalf("report %q: %v", got[0], err)
			}
			return r
		}
		if time.Now().After(deadline) {
			out, _ := e.cwl.GetLogEvents(e.ctx(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group),
				LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
			var lines []string
			if out != nil {
				for _, ev := range out.Events {
					lines = append(lines, aws.ToString(ev.Message))
				}
			}
			e.t.Fatalf("no report in %s within 90s; the stream holds %q", stream, lines)
		}
	}
}

func (e *env) checkReport(r report, task ecstypes.Task, passwordSHA, tokenSHA string) {
	t := e.t
	t.Helper()
	arn := aws.ToString(task.TaskArn)
	id := arn[strings.LastIndex(arn, "/")+1:]
	if want := "arn:aws:sts::" + testAccount + ":assumed-role/twelve-app/" + id; r.Identity != want {
		t.Errorf("GetCallerIdentity with the default chain: %s, want %s", r.Identity, want)
	}
	if r.CredsSource == "" {
		t.Errorf("the credentials came from no named provider")
	}
	if want := map[string]string{"DB_USER": sha("app"), "DB_PASSWORD": passwordSHA, "API_TOKEN": tokenSHA}; !maps.Equal(r.SecretSHA, want) {
		t.Errorf("secrets (SHA-256) %v, want %v", r.SecretSHA, want)
	}
	if want := map[string]string{"APP_MODE": "production", "AWS_ENDPOINT_URL": "http://169.254.170.2", "AWS_REGION": testRegion}; !maps.Equal(r.Env, want) {
		t.Errorf("environment %v, want %v", r.Env, want)
	}
	if !slices.Equal(r.Discovered, []string{"billing-1"}) {
		t.Errorf("DiscoverInstances with the task role: %v, want [billing-1]", r.Discovered)
	}
	if r.Parameter != "blue" {
		t.Errorf("GetParameter with the task role: %q, want blue", r.Parameter)
	}
	if r.TaskARN != arn || r.Family != "twelve" || !slices.Equal(r.Containers, []string{"app"}) {
		t.Errorf("task metadata: %s %s %v", r.TaskARN, r.Family, r.Containers)
	}
	if r.MemoryUsage == 0 {
		t.Errorf("container stats: no memory usage")
	}
}

// noPlaintext fails if a value is in a file of the data dirs (the server's
// raft log, snapshots, state, log store; the agent's records and its
// runtime state) or in the server's and agent's logs.
func (e *env) noPlaintext(values ...string) {
	t := e.t
	t.Helper()
	for _, dir := range []string{e.dir, e.agentDir} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, v := range values {
				if strings.Contains(string(b), v) {
					t.Errorf("%s holds a secret value", path)
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("walk %s: %v", dir, err)
		}
	}
	logs := e.logs.String()
	for _, v := range values {
		if strings.Contains(logs, v) {
			t.Errorf("the server's or agent's log holds a secret value")
		}
	}
}
