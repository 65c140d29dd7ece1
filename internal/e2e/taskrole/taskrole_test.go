package taskrole

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/e2e/testimage"
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
	labelAgent  = "berth.agent"
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

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func logger() *slog.Logger {
	if os.Getenv("BERTH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("the task endpoint needs root on Linux")
	}
	e := &env{t: t, image: dockertest.TestappImage(t), binary: testimage.BinaryInImage}
	// The host's task endpoint address and its HTTP port, for this test only.
	dnstest.LockTaskEndpoint(t)
	cleanup, err := hostaddr.EnsureTaskEndpoint(logger())
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

	srv, err := server.Start(context.Background(), server.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", Region: testRegion, AccountID: testAccount,
		Getenv: func(k string) string {
			switch k {
			case server.EnvRootAccessKeyID:
				return testKeyID
			case server.EnvRootSecretAccessKey:
				return testSecret
			}
			return ""
		},
		Log: logger().With("side", "server"),
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	e.srv = srv
	t.Cleanup(func() { srv.Close() })
	e.cfg, err = config.LoadDefaultConfig(context.Background(), config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }))
	if err != nil {
		t.Fatal(err)
	}
	ep := aws.String(srv.Endpoint())
	e.ecs = ecs.NewFromConfig(e.cfg, func(o *ecs.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.iam = iam.NewFromConfig(e.cfg, func(o *iam.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	if _, err := e.ecs.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	drv, err := docker.New(c, docker.Options{StateDir: filepath.Join(dir, "runtime", "docker"), Logger: logger()})
	cancel()
	if err != nil {
		t.Fatalf("docker runtime: %v", err)
	}
	id := fmt.Sprintf("i-%017x", rand.Uint64()&0xfffffffffffffff)[:19]
	t.Cleanup(func() {
		removeContainers(t, drv, id)
		drv.Close()
	})
	a, err := agent.New(agent.Config{
		Server: srv.Endpoint(), Cluster: cluster, DataDir: dir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + "a",
		InstanceType: "t3.taskrole", InstanceID: id, StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		Driver: drv, Log: logger().With("side", "agent"), TaskEndpoint: true,
	})
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
	e.agent = a
	hs := &http.Server{Handler: a.TaskEndpointHandler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	rc, rcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(rc) }()
	t.Cleanup(func() {
		rcancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop within 30s")
		}
	})
	select {
	case <-a.Connected():
	case err := <-done:
		t.Fatalf("agent ended before connecting: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not connect within 30s")
	}
	return e
}

// removeContainers stops and removes the agent's containers.
func removeContainers(t *testing.T, d driver.Driver, id string) {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hs, err := d.List(c)
	if err != nil {
		t.Errorf("list containers: %v", err)
		return
	}
	for _, h := range hs {
		if h.Labels[labelAgent] != id {
			continue
		}
		if err := d.Stop(c, h, 0); err != nil && !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("stop container %s: %v", h.ID, err)
		}
		if err := d.Remove(c, h); err != nil && !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("remove container %s: %v", h.ID, err)
		}
	}
}

// runTask runs one task of def, waits until it is RUNNING and returns it.
func (e *env) runTask(def string) ecstypes.Task {
	t := e.t
	t.Helper()
	out, err := e.ecs.RunTask(ctx(t), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(def)})
	if err != nil || len(out.Failures) > 0 || len(out.Tasks) != 1 {
		t.Fatalf("run task %s: %v %+v", def, err, out)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		dt, err := e.ecs.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err == nil && len(dt.Tasks) == 1 {
			switch aws.ToString(dt.Tasks[0].LastStatus) {
			case "RUNNING":
				return dt.Tasks[0]
			case "STOPPED":
				t.Fatalf("task %s stopped: %s", arn, aws.ToString(dt.Tasks[0].StoppedReason))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not RUNNING within 2m", arn)
		}
		time.Sleep(200 * time.Millisecond)
	}
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
