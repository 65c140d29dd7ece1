package twelvefactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/dnstest/taskdns"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/driver/process"
	"berth.dev/berth/internal/e2e/testimage"
	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
	_ "berth.dev/berth/internal/shimentry" // this binary is the process runtime's shim
	"berth.dev/berth/internal/taskendpoint"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDTWELVEFACTOR0001"
	testSecret  = "twelve-factor-test-secret-0000000000000"
	cluster     = "twelve"
	labelAgent  = "berth.agent"

	rtDocker  = "docker"
	rtProcess = "process"
)

// logBuffer captures every log record of the server and the agent (as
// text, at debug level); BERTH_TEST_LOG=1 copies them to stderr.
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

// env is a server, its clients, and one agent of a runtime serving the
// task endpoint.
type env struct {
	t                  *testing.T
	rt                 string
	srv                *server.Server
	dir, agentDir      string // data dirs
	logs               *logBuffer
	image, bin         string
	ecs                *ecs.Client
	iam                *iam.Client
	sm                 *sm.Client
	ssm                *ssm.Client
	cwl                *cwl.Client
	sd                 *sd.Client
	serverLog, agentID string
}

func newEnv(t *testing.T, rt string) *env {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("the task endpoint needs root on Linux")
	}
	e := &env{t: t, rt: rt, dir: t.TempDir(), agentDir: t.TempDir(), logs: &logBuffer{}}
	switch rt {
	case rtDocker:
		e.image, e.bin = dockertest.TestappImage(t), testimage.BinaryInImage
	case rtProcess:
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
	// The task endpoint, as an agent host serves it: DNS (fed by the
	// server's DNS stream) and, on port 80, the agent's HTTP endpoint.
	taskdns.Serve(t, taskdns.Config{Server: srv.Endpoint(), Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		StateDir: filepath.Join(e.agentDir, "taskdns"), Log: e.logs.logger("taskdns")})
	ln, err := net.Listen("tcp", net.JoinHostPort(taskendpoint.IP, fmt.Sprint(taskendpoint.HTTPPort)))
	if err != nil {
		t.Fatalf("listen on the task endpoint: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }))
	if err != nil {
		t.Fatal(err)
	}
	ep := aws.String(srv.Endpoint())
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.iam = iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.sm = sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.ssm = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.cwl = cwl.NewFromConfig(cfg, func(o *cwl.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	e.sd = sd.NewFromConfig(cfg, func(o *sd.Options) { o.BaseEndpoint = ep; o.HTTPClient = sdkhttp.New() })
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	e.startAgent(ln)
	return e
}

func (e *env) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	e.t.Cleanup(cancel)
	return c
}

// startAgent starts the agent with the task endpoint (and its AWS API
// pass-through) served on ln.
func (e *env) startAgent(ln net.Listener) {
	t := e.t
	t.Helper()
	e.agentID = fmt.Sprintf("i-%017x", rand.Uint64()&0xfffffffffffffff)[:19]
	var drv driver.Driver
	switch e.rt {
	case rtDocker:
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		d, err := docker.New(c, docker.Options{StateDir: filepath.Join(e.agentDir, "runtime", "docker"), Logger: e.logs.logger("docker")})
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
		d, err := process.New(process.Options{StateDir: filepath.Join(e.agentDir, "runtime", "process"), ShimPath: self, ShimArgs: []string{process.ShimCommand}})
		if err != nil {
			t.Fatalf("process runtime: %v", err)
		}
		drv = d
	}
	id := e.agentID
	t.Cleanup(func() {
		removeContainers(t, drv, id)
		if c, ok := drv.(io.Closer); ok {
			c.Close()
		}
	})
	a, err := agent.New(agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: e.agentDir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + "a",
		InstanceType: "t3.twelve", InstanceID: id, StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		Driver: drv, Log: e.logs.logger("agent"), TaskEndpoint: true, TaskAWSEndpoint: true, TaskDNS: taskendpoint.IP,
	})
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
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

// runTask runs one task of def and waits until it is RUNNING.
func (e *env) runTask(def string) ecstypes.Task {
	t := e.t
	t.Helper()
	out, err := e.ecs.RunTask(e.ctx(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(def)})
	if err != nil || len(out.Failures) > 0 || len(out.Tasks) != 1 {
		t.Fatalf("run task %s: %v %+v", def, err, out)
	}
	return e.waitTask(aws.ToString(out.Tasks[0].TaskArn), "RUNNING")
}

// waitTask waits until the task's lastStatus is status and returns it.
func (e *env) waitTask(arn, status string) ecstypes.Task {
	e.t.Helper()
	var last ecstypes.Task
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
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
			e.t.Fatalf("task %s is %s after 2m, want %s", arn, aws.ToString(last.LastStatus), status)
		}
	}
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
