package contract

import (
	"context"
	"log/slog"
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
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/process"
	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
	_ "berth.dev/berth/internal/shimentry" // this binary is the process runtime's shim
)

const (
	region    = "us-east-1"
	account   = "123456789012"
	keyID     = "AKIACONTRACT00000001"
	secret    = "contractsecret/abcdefghijklmnopqrstuvwx"
	clusterID = "tf"
)

// env is a server and one connected agent on the process runtime.
type env struct {
	t        *testing.T
	ecs      *ecs.Client
	endpoint string
	// stopAgent stops the agent (its containers keep running until the
	// test ends).
	stopAgent func()
}

// newEnv starts a server (settle time 200 ms: a task without health checks
// counts as healthy that soon) and one agent on the process runtime. The
// cluster is left to the test, as Terraform creates it; the agent waits
// for it.
func newEnv(t *testing.T) *env {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the process runtime runs on Linux")
	}
	t.Parallel()
	srv, err := server.Start(context.Background(), server.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", Region: region, AccountID: account,
		Getenv: func(k string) string {
			return map[string]string{server.EnvRootAccessKeyID: keyID, server.EnvRootSecretAccessKey: secret}[k]
		},
		Log:    logger("server"),
		Deploy: &deploy.Config{SettleTime: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(keyID, secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }))
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	client := ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint())
		o.HTTPClient = sdkhttp.New()
	})
	return &env{t: t, ecs: client, endpoint: srv.Endpoint()}
}

// startAgent starts an agent of cluster on the process runtime (the
// cluster must exist) and waits until it is connected. Its containers
// are stopped and removed when the test ends.
func (e *env) startAgent(endpoint string) {
	t := e.t
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	drv, err := process.New(process.Options{StateDir: filepath.Join(dir, "runtime"), ShimPath: self, ShimArgs: []string{process.ShimCommand}})
	if err != nil {
		t.Fatalf("process runtime: %v", err)
	}
	a, err := agent.New(agent.Config{
		Server: endpoint, Cluster: clusterID, DataDir: dir, Region: region, AccessKeyID: keyID, SecretAccessKey: secret,
		AvailabilityZone: region + "a", InstanceType: "t3.contract", InstanceID: "i-0c0ffee0c0ffee0c0",
		StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached, Driver: drv, Log: logger("agent"),
	})
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(c) }()
	var once sync.Once
	e.stopAgent = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(func() {
		e.stopAgent()
		removeContainers(t, drv)
	})
	select {
	case <-a.Connected():
	case err := <-done:
		t.Fatalf("agent ended before connecting: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not connect within 30s")
	}
}

// removeContainers stops and removes every container of drv.
func removeContainers(t *testing.T, drv driver.Driver) {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hs, err := drv.List(c)
	if err != nil {
		t.Errorf("list containers: %v", err)
		return
	}
	for _, h := range hs {
		drv.Stop(c, h, 0)
		drv.Remove(c, h)
	}
}

func logger(side string) *slog.Logger {
	if os.Getenv("BERTH_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("side", side)
}

// ctx bounds one step.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// withTimeout bounds a whole scenario.
func withTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), d)
}

// stopInstances takes the cluster's instance away, as terminating its
// EC2 instance would: the agent stops and the instance is deregistered.
func (e *env) stopInstances() {
	t := e.t
	t.Helper()
	e.stopAgent()
	out, err := e.ecs.ListContainerInstances(ctx(t), &ecs.ListContainerInstancesInput{Cluster: aws.String(clusterID)})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range out.ContainerInstanceArns {
		if _, err := e.ecs.DeregisterContainerInstance(ctx(t), &ecs.DeregisterContainerInstanceInput{Cluster: aws.String(clusterID),
			ContainerInstance: aws.String(arn), Force: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
}
