package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/inproc"
	"berth.dev/berth/internal/server"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDSECRETSTEST00001"
	testSecret  = "secinject-test-secret-00000000000000000"
	cluster     = "secrets"

	rtDocker  = inproc.Docker
	rtProcess = inproc.Process
)

// ecsTasksTrust lets ECS tasks assume a role.
const ecsTasksTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// env is a server, its clients, and one agent of a runtime.
type env struct {
	t          *testing.T
	rt         string
	srv        *server.Server
	dir        string // the server's data dir
	agentDir   string
	logs       *inproc.Logs // every record of the server and the agent
	image, bin string

	ecs *ecs.Client
	sm  *sm.Client
	ssm *ssm.Client
}

func newEnv(t *testing.T, rt string) *env {
	t.Helper()
	e := &env{t: t, rt: rt, dir: t.TempDir(), logs: &inproc.Logs{}}
	e.image, e.bin = inproc.App(t, rt)
	srv, cfg := inproc.StartServer(t, inproc.ServerOptions{Region: testRegion, Account: testAccount, KeyID: testKeyID, Secret: testSecret,
		DataDir: e.dir, Logs: e.logs})
	e.srv = srv
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.sm = sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.ssm = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	// The execution role the agent fetches the secrets with.
	roles := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	if _, err := roles.CreateRole(e.ctx(), &iam.CreateRoleInput{RoleName: aws.String("ecsTaskExecutionRole"),
		AssumeRolePolicyDocument: aws.String(ecsTasksTrust)}); err != nil {
		t.Fatal(err)
	}
	e.startAgent()
	return e
}

func (e *env) ctx() context.Context { return inproc.Ctx(e.t) }

func (e *env) startAgent() {
	e.t.Helper()
	e.agentDir = e.t.TempDir()
	inproc.StartAgent(e.t, agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: e.agentDir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + "a",
		InstanceType: "t3.secrets", InstanceID: inproc.InstanceID(), StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
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
