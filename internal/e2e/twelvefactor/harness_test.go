package twelvefactor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/dnstest/taskdns"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/inproc"
	"berth.dev/berth/internal/server"
	"berth.dev/berth/internal/taskendpoint"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDTWELVEFACTOR0001"
	testSecret  = "twelve-factor-test-secret-0000000000000"
	cluster     = "twelve"

	rtDocker  = inproc.Docker
	rtProcess = inproc.Process
)

// env is a server, its clients, and one agent of a runtime serving the
// task endpoint.
type env struct {
	t             *testing.T
	rt            string
	srv           *server.Server
	dir, agentDir string       // data dirs
	logs          *inproc.Logs // every record of the server and the agent
	image, bin    string
	ecs           *ecs.Client
	iam           *iam.Client
	sm            *sm.Client
	ssm           *ssm.Client
	cwl           *cwl.Client
	sd            *sd.Client
}

func newEnv(t *testing.T, rt string) *env {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("the task endpoint needs root on Linux")
	}
	e := &env{t: t, rt: rt, dir: t.TempDir(), agentDir: t.TempDir(), logs: &inproc.Logs{}}
	e.image, e.bin = inproc.App(t, rt)
	srv, cfg := inproc.StartServer(t, inproc.ServerOptions{Region: testRegion, Account: testAccount, KeyID: testKeyID, Secret: testSecret,
		DataDir: e.dir, Logs: e.logs})
	e.srv = srv
	// The task endpoint, as an agent host serves it: DNS (fed by the
	// server's DNS stream) and, on port 80, the agent's HTTP endpoint.
	taskdns.Serve(t, taskdns.Config{Server: srv.Endpoint(), Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		StateDir: filepath.Join(e.agentDir, "taskdns"), Log: e.logs.Logger("taskdns")})
	ln, err := net.Listen("tcp", net.JoinHostPort(taskendpoint.IP, fmt.Sprint(taskendpoint.HTTPPort)))
	if err != nil {
		t.Fatalf("listen on the task endpoint: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.iam = iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.sm = sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.ssm = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.cwl = cwl.NewFromConfig(cfg, func(o *cwl.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.sd = sd.NewFromConfig(cfg, func(o *sd.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	e.startAgent(ln)
	return e
}

func (e *env) ctx() context.Context { return inproc.Ctx(e.t) }

// startAgent starts the agent with the task endpoint (and its AWS API
// pass-through) served on ln.
func (e *env) startAgent(ln net.Listener) {
	t := e.t
	t.Helper()
	a, _ := inproc.StartAgent(t, agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: e.agentDir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + "a",
		InstanceType: "t3.twelve", InstanceID: inproc.InstanceID(), StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		Driver: inproc.NewRuntime(t, e.rt, e.agentDir, e.logs), Log: e.logs.Logger("agent"),
		TaskEndpoint: true, TaskAWSEndpoint: true, TaskDNS: taskendpoint.IP,
	})
	hs := &http.Server{Handler: a.TaskEndpointHandler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
}

// runTask runs one task of def and waits until it is RUNNING.
func (e *env) runTask(def string) ecstypes.Task {
	e.t.Helper()
	return e.waitTask(inproc.RunTask(e.t, e.ecs, cluster, def), "RUNNING")
}

// waitTask waits (2 minutes at most) until the task's lastStatus is
// status and returns it.
func (e *env) waitTask(arn, status string) ecstypes.Task {
	e.t.Helper()
	return inproc.WaitTask(e.t, e.ecs, cluster, arn, status, 2*time.Minute)
}
