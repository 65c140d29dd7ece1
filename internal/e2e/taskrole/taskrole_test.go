package taskrole

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/inproc"
	"berth.dev/berth/internal/hostaddr"
	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
	"berth.dev/berth/internal/taskendpoint"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDTASKROLETEST0001"
	testSecret  = "taskrole-test-secret-000000000000000000"
	cluster     = "taskrole"
)

const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

type env struct {
	t      *testing.T
	srv    *server.Server
	cfg    aws.Config
	ecs    *ecs.Client
	iam    *iam.Client
	agent  *agent.Agent
	image  string
	binary string
}

func ctx(t *testing.T) context.Context { return inproc.Ctx(t) }

func newEnv(t *testing.T) *env {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("the task endpoint needs root on Linux")
	}
	e := &env{t: t}
	e.image, e.binary = inproc.App(t, inproc.Docker)
	// The host's task endpoint address and its HTTP port, for this test only.
	dnstest.LockTaskEndpoint(t)
	cleanup, err := hostaddr.EnsureTaskEndpoint(inproc.Logger("hostaddr"))
	if err != nil {
		t.Fatalf("task endpoint: %v", err)
	}
	t.Cleanup(func() {
		if err := cleanup(); err != nil {
			t.Errorf("remove the task endpoint address: %v", err)
		}
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(taskendpoint.IP, fmt.Sprint(taskendpoint.HTTPPort)))
	if err != nil {
		t.Fatalf("listen on the task endpoint: %v", err)
	}
	t.Cleanup(func() { ln.Close() })

	e.srv, e.cfg = inproc.StartServer(t, inproc.ServerOptions{Region: testRegion, Account: testAccount, KeyID: testKeyID, Secret: testSecret})
	e.ecs = ecs.NewFromConfig(e.cfg, func(o *ecs.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(e.srv) })
	e.iam = iam.NewFromConfig(e.cfg, func(o *iam.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(e.srv) })
	if _, err := e.ecs.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	e.agent, _ = inproc.StartAgent(t, agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: dir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + "a",
		InstanceType: "t3.taskrole", InstanceID: inproc.InstanceID(), StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		Driver: inproc.NewRuntime(t, inproc.Docker, dir, nil), Log: inproc.Logger("agent"), TaskEndpoint: true,
	})
	hs := &http.Server{Handler: e.agent.TaskEndpointHandler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return e
}

// runTask runs one task of def, waits until it is RUNNING and returns it.
func (e *env) runTask(def string) ecstypes.Task {
	e.t.Helper()
	arn := inproc.RunTask(e.t, e.ecs, cluster, def)
	return inproc.WaitTask(e.t, e.ecs, cluster, arn, "RUNNING", 2*time.Minute)
}

func hostPort(t *testing.T, task ecstypes.Task) int {
	t.Helper()
	for _, c := range task.Containers {
		for _, nb := range c.NetworkBindings {
			return int(aws.ToInt32(nb.HostPort))
		}
	}
	t.Fatalf("task %s has no port binding", aws.ToString(task.TaskArn))
	return 0
}

// get GETs path of the test application on the host port, retrying until
// it answers, and returns the status and body.
func get(t *testing.T, port int, path string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	u := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	var lastErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := c.Get(u)
		if err != nil {
			lastErr = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			return resp.StatusCode, b
		}
		lastErr = err
	}
	t.Fatalf("GET %s: %v", u, lastErr)
	return 0, nil
}

// fetch has the application GET u from inside its container.
func fetch(t *testing.T, port int, u string) (int, []byte) {
	t.Helper()
	return get(t, port, "/fetch?url="+url.QueryEscape(u))
}

func TestTaskRoleDocker(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	role, err := e.iam.CreateRole(c, &iam.CreateRoleInput{RoleName: aws.String("app-task"), AssumeRolePolicyDocument: aws.String(trustPolicy)})
	if err != nil {
		t.Fatalf("create role: %v", err)
	}
	roleArn := aws.ToString(role.Role.Arn)
	register := func(family string, taskRole bool) string {
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), NetworkMode: ecstypes.NetworkModeBridge,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{
				Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64),
				EntryPoint: []string{e.binary}, Command: []string{"--listen", ":8080"},
				PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: ecstypes.TransportProtocolTcp}},
			}}}
		if taskRole {
			in.TaskRoleArn = aws.String(roleArn)
		}
		out, err := e.ecs.RegisterTaskDefinition(c, in)
		if err != nil {
			t.Fatalf("register %s: %v", family, err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	withRole, other := register("with-role", true), register("other-role", true)

	task := e.runTask(withRole)
	taskArn := aws.ToString(task.TaskArn)
	taskID := taskArn[strings.LastIndex(taskArn, "/")+1:]
	port := hostPort(t, task)
	var echo struct {
		Env map[string]string `json:"env"`
	}
	_, body := get(t, port, "/")
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatalf("GET /: %v: %s", err, body)
	}
	rel := echo.Env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
	if !strings.HasPrefix(rel, "/v2/credentials/") || echo.Env["AWS_REGION"] != testRegion ||
		!strings.HasPrefix(echo.Env["ECS_CONTAINER_METADATA_URI_V4"], "http://169.254.170.2/v4/") {
		t.Fatalf("the container's environment: %v", echo.Env)
	}

	// The container reads its credentials at the task endpoint.
	code, body := fetch(t, port, "http://169.254.170.2"+rel)
	if code != http.StatusOK {
		t.Fatalf("credentials from inside the container: %d %s", code, body)
	}
	var creds struct{ RoleArn, AccessKeyId, SecretAccessKey, Token, Expiration string }
	if err := json.Unmarshal(body, &creds); err != nil || creds.AccessKeyId == "" || creds.Token == "" || creds.RoleArn != roleArn {
		t.Fatalf("credentials %v: %s", err, body)
	}
	if exp, err := time.Parse(time.RFC3339, creds.Expiration); err != nil || time.Until(exp) < 15*time.Minute {
		t.Fatalf("Expiration %q: %v", creds.Expiration, err)
	}
	// They are the role's: STS says who they are.
	stsc := sts.NewFromConfig(e.cfg, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(e.srv.Endpoint())
		o.HTTPClient = sdkhttp.New()
		o.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyId, creds.SecretAccessKey, creds.Token)
	})
	who, err := stsc.GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the task's credentials: %v", err)
	}
	if want := "arn:aws:sts::" + testAccount + ":assumed-role/app-task/" + taskID; aws.ToString(who.Arn) != want {
		t.Fatalf("caller %s, want %s", aws.ToString(who.Arn), want)
	}

	// The task metadata v4 endpoint answers from inside the container.
	code, body = fetch(t, port, echo.Env["ECS_CONTAINER_METADATA_URI_V4"]+"/task")
	var meta struct {
		TaskARN, KnownStatus string
		Containers           []struct{ Name, DockerId string }
	}
	if code != http.StatusOK || json.Unmarshal(body, &meta) != nil || meta.TaskARN != taskArn || len(meta.Containers) != 1 || meta.Containers[0].DockerId == "" {
		t.Fatalf("task metadata: %d %s", code, body)
	}

	// A second task reads its own credentials, never the first's with its ID.
	second := e.runTask(other)
	port2 := hostPort(t, second)
	_, body = get(t, port2, "/")
	var echo2 struct {
		Env map[string]string `json:"env"`
	}
	if err := json.Unmarshal(body, &echo2); err != nil {
		t.Fatal(err)
	}
	rel2 := echo2.Env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
	if rel2 == "" || rel2 == rel {
		t.Fatalf("second task's relative URI %q (first %q)", rel2, rel)
	}
	code, body = fetch(t, port2, "http://169.254.170.2"+rel2)
	var creds2 struct{ AccessKeyId, Token string }
	if code != http.StatusOK || json.Unmarshal(body, &creds2) != nil || creds2.AccessKeyId == creds.AccessKeyId {
		t.Fatalf("second task's credentials: %d %s", code, body)
	}
	// A made-up ID answers nothing.
	if code, body := fetch(t, port2, "http://169.254.170.2/v2/credentials/"+strings.Repeat("0", 32)); code != http.StatusNotFound {
		t.Fatalf("an unknown ID: %d %s", code, body)
	}
}
