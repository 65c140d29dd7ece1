package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/driver/process"
	"berth.dev/berth/internal/e2e/testimage"
	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
	_ "berth.dev/berth/internal/shimentry" // this binary is the process runtime's shim
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDSECRETSTEST00001"
	testSecret  = "secinject-test-secret-00000000000000000"
	cluster     = "secrets"
	labelAgent  = "berth.agent"

	rtDocker  = "docker"
	rtProcess = "process"
)

// logBuffer captures every log record of the server and the agent (as
// text, at debug level) so the test can search it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if os.Getenv("BERTH_TEST_LOG") != "" {
		os.Stderr.Write(p)
	}
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger(side string) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})).With("side", side)
}

// ecsTasksTrust lets ECS tasks assume a role.
const ecsTasksTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// env is a server, its clients, and one agent of a runtime.
type env struct {
	t          *testing.T
	rt         string
	srv        *server.Server
	dir        string // the server's data dir
	agentDir   string
	logs       *logBuffer
	image, bin string

	ecs *ecs.Client
	sm  *sm.Client
	ssm *ssm.Client
}

func newEnv(t *testing.T, rt string) *env {
	t.Helper()
	e := &env{t: t, rt: rt, dir: t.TempDir(), logs: &logBuffer{}}
	switch rt {
	case rtDocker:
		e.image, e.bin = dockertest.TestappImage(t), testimage.BinaryInImage
	case rtProcess:
		if runtime.GOOS != "linux" {
			t.Skip("the process runtime runs on Linux")
		}
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		bin, err := testimage.BinaryPath(c)
		cancel()
		if err != nil {
			t.Fatalf("build test app: %v", err)
		}
		e.image, e.bin = "berth-testapp:process", bin
	}
	srv, err := server.Start(context.Background(), server.Config{
		DataDir: e.dir, Listen: "127.0.0.1:0", Region: testRegion, AccountID: testAccount,
		Getenv: func(k string) string {
			switch k {
			case server.EnvRootAccessKeyID:
				return testKeyID
			case server.EnvRootSecretAccessKey:
				return testSecret
			}
			return ""
		},
		Log: e.logs.logger("server"),
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	e.srv = srv
	t.Cleanup(func() { srv.Close() })
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }))
	if err != nil {
		t.Fatal(err)
	}
	ep := aws.String(srv.Endpoint())
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.sm = sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.ssm = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	// The execution role the agent fetches the secrets with.
	roles := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	if _, err := roles.CreateRole(e.ctx(), &iam.CreateRoleInput{RoleName: aws.String("ecsTaskExecutionRole"),
		AssumeRolePolicyDocument: aws.String(ecsTasksTrust)}); err != nil {
		t.Fatal(err)
	}
	e.startAgent()
	return e
}

func (e *env) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	e.t.Cleanup(cancel)
	return c
}

func (e *env) startAgent() {
	t := e.t
	t.Helper()
	dir := t.TempDir()
	e.agentDir = dir
	var drv driver.Driver
	switch e.rt {
	case rtDocker:
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		d, err := docker.New(c, docker.Options{StateDir: filepath.Join(dir, "runtime", "docker"), Logger: e.logs.logger("docker")})
		cancel()
		if err != nil {
			t.Fatalf("docker runtime: %v", err)
		}
		drv = d
	case rtProcess:
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		d, err := process.New(process.Options{StateDir: filepath.Join(dir, "runtime", "process"), ShimPath: self, ShimArgs: []string{process.ShimCommand}})
		if err != nil {
			t.Fatalf("process runtime: %v", err)
		}
		drv = d
	}
	id := fmt.Sprintf("i-%017x", rand.Uint64()&0xfffffffffffffff)[:19]
	t.Cleanup(func() {
		removeContainers(t, drv, id)
		if c, ok := drv.(io.Closer); ok {
			c.Close()
		}
	})
	a, err := agent.New(agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: dir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + "a",
		InstanceType: "t3.secrets", InstanceID: id, StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		Driver: drv, Log: e.logs.logger("agent"),
	})
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
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

// runTask runs one task of def and returns its ARN.
func (e *env) runTask(def string) string {
	e.t.Helper()
	out, err := e.ecs.RunTask(e.ctx(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(def)})
	if err != nil {
		e.t.Fatalf("run task %s: %v", def, err)
	}
	if len(out.Failures) > 0 || len(out.Tasks) != 1 {
		e.t.Fatalf("run task %s: failures %+v", def, out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// waitTask waits until the task's lastStatus is status and returns it.
func (e *env) waitTask(arn, status string, within time.Duration) ecstypes.Task {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var last ecstypes.Task
	for {
		dt, err := e.ecs.DescribeTasks(e.ctx(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err == nil && len(dt.Tasks) == 1 {
			last = dt.Tasks[0]
			if aws.ToString(last.LastStatus) == status {
				return last
			}
			if aws.ToString(last.LastStatus) == "STOPPED" {
				e.t.Fatalf("task %s stopped (%s: %s) before reaching %s", arn, last.StopCode, aws.ToString(last.StoppedReason), status)
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("task %s is %s after %s, want %s", arn, aws.ToString(last.LastStatus), within, status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stopTask stops a task and waits until it is STOPPED.
func (e *env) stopTask(arn string) {
	e.t.Helper()
	if _, err := e.ecs.StopTask(e.ctx(), &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn)}); err != nil {
		e.t.Fatalf("stop task: %v", err)
	}
	e.waitTask(arn, "STOPPED", time.Minute)
}

// hostPort is the host port of the task's container port.
func hostPort(t *testing.T, task ecstypes.Task, port int32) int {
	t.Helper()
	for _, c := range task.Containers {
		for _, nb := range c.NetworkBindings {
			if aws.ToInt32(nb.ContainerPort) == port {
				return int(aws.ToInt32(nb.HostPort))
			}
		}
	}
	t.Fatalf("task %s has no binding of port %d", aws.ToString(task.TaskArn), port)
	return 0
}

// appEnv GETs the test application's / and returns its environment.
func appEnv(t *testing.T, port int) map[string]string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	u := fmt.Sprintf("http://127.0.0.1:%d/", port)
	var lastErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := c.Get(u)
		if err != nil {
			lastErr = err
			continue
		}
		var echo struct {
			Env map[string]string `json:"env"`
		}
		err = json.NewDecoder(resp.Body).Decode(&echo)
		resp.Body.Close()
		if err == nil {
			return echo.Env
		}
		lastErr = err
	}
	t.Fatalf("GET %s: %v", u, lastErr)
	return nil
}

// freePort is a TCP port free on 127.0.0.1 now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// noValueUnder fails when a file under dir holds one of values.
func noValueUnder(t *testing.T, what, dir string, values []string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // a file removed meanwhile
		}
		n++
		for _, v := range values {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s: %s holds a secret value", what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("search %s: %v", dir, err)
	}
	if n == 0 {
		t.Errorf("%s: no file under %s to search", what, dir)
	}
}

func noValueIn(t *testing.T, what, text string, values []string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(text, v) {
			t.Errorf("%s holds a secret value", what)
		}
	}
}
