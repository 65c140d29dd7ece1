package awslogs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/inproc"
	"berth.dev/berth/internal/server"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDAWSLOGSTEST00001"
	testSecret  = "awslogs-test-secret-0000000000000000000"
	cluster     = "awslogs"

	rtDocker  = inproc.Docker
	rtProcess = inproc.Process
)

// env is a server, its clients, and one agent of a runtime.
type env struct {
	t          *testing.T
	rt         string
	srv        *server.Server
	dir        string // the server's data dir
	agentDir   string
	instanceID string
	logs       *inproc.Logs // every record of the server and the agent
	image, bin string
	stopAgent  func() // stops the agent (its containers stay)

	ecs *ecs.Client
	cwl *cwl.Client
}

func newEnv(t *testing.T, rt string) *env {
	t.Helper()
	e := &env{t: t, rt: rt, dir: t.TempDir(), logs: &inproc.Logs{}}
	e.image, e.bin = inproc.App(t, rt)
	srv, cfg := inproc.StartServer(t, inproc.ServerOptions{Region: testRegion, Account: testAccount, KeyID: testKeyID, Secret: testSecret,
		DataDir: e.dir, Logs: e.logs})
	e.srv = srv
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.cwl = cwl.NewFromConfig(cfg, func(o *cwl.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	e.startAgent()
	return e
}

func (e *env) ctx() context.Context { return inproc.Ctx(e.t) }

func (e *env) startAgent() {
	e.t.Helper()
	// A restarted agent keeps its data dir and instance ID.
	if e.agentDir == "" {
		e.agentDir = e.t.TempDir()
		e.instanceID = inproc.InstanceID()
	}
	_, e.stopAgent = inproc.StartAgent(e.t, agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: e.agentDir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + "a",
		InstanceType: "t3.awslogs", InstanceID: e.instanceID, StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		Driver: inproc.NewRuntime(e.t, e.rt, e.agentDir, e.logs), Log: e.logs.Logger("agent"),
	})
}

// runTask runs one task of def and returns its ARN.
func (e *env) runTask(def string) string {
	e.t.Helper()
	return inproc.RunTask(e.t, e.ecs, cluster, def)
}

// waitTask waits until the task's lastStatus is status and returns it.
func (e *env) waitTask(arn, status string, within time.Duration) ecstypes.Task {
	e.t.Helper()
	return inproc.WaitTask(e.t, e.ecs, cluster, arn, status, within)
}

// stopTask stops a task and waits until it is STOPPED.
func (e *env) stopTask(arn string) {
	e.t.Helper()
	inproc.StopTask(e.t, e.ecs, cluster, arn)
}
