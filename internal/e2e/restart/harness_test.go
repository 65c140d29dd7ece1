package restart

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/driver/process"
	"berth.dev/berth/internal/e2e/testimage"
	"berth.dev/berth/internal/sdkhttp"
)

// The runtimes the tests run on (berth agent --runtime).
const (
	rtProcess = "process"
	rtDocker  = "docker"
)

// forEachRuntime runs f as one parallel subtest per runtime. The Docker one
// needs an engine: without one it is skipped, or fails when
// BERTH_REQUIRE_DOCKER=1 (dockertest.RequireDocker).
func forEachRuntime(t *testing.T, f func(t *testing.T, rt string)) {
	for _, rt := range []string{rtProcess, rtDocker} {
		t.Run(rt, func(t *testing.T) {
			t.Parallel()
			if rt == rtDocker {
				dockertest.RequireDocker(t)
			}
			f(t, rt)
		})
	}
}

// env is one berth control plane (a server process, or a dev process that
// also runs an agent), a cluster and agent processes of one runtime. Each
// env has an account ID of its own, so the ARNs of its tasks, and hence
// its containers on a shared Docker engine, are its own.
type env struct {
	t       *testing.T
	rt      string
	account string
	cluster string
	image   string        // the task definitions' image
	bin     string        // the test application as the runtime runs it
	dir     string        // the data dirs of the env's processes are in it
	docker  driver.Driver // Docker runtime: the engine the env's agents use
	srv     *serverProc
	ecs     *ecs.Client
	agents  []*agentProc
}

// serverFlags are the flags of `berth server` these tests set.
type serverFlags struct {
	lostHostTimeout time.Duration // 0: the default (60 s)
}

// args renders the flags. The settle time is 1 s (default 40 s): a task
// without health checks counts as healthy after that long in RUNNING,
// which only shortens the wait for the deployment to complete before an
// outage.
func (f serverFlags) args() []string {
	args := []string{"--task-settle-time", "1s"}
	if f.lostHostTimeout > 0 {
		args = append(args, "--lost-host-timeout", f.lostHostTimeout.String())
	}
	return args
}

// newEnv prepares the test application for rt; the caller starts the
// control plane (startServer or startDev) and agents.
//
// When the test ends, every process of the env is killed (cleanups run
// last first: each process's was registered after this function's), then
// the containers of the env's agents are stopped and removed, then the
// data dirs, then the test image.
func newEnv(t *testing.T, rt string) *env {
	t.Helper()
	e := &env{t: t, rt: rt, account: randomAccount(), cluster: "restart"}
	switch rt {
	case rtDocker:
		e.image = dockertest.TestappImage(t)
		e.bin = testimage.BinaryInImage
	case rtProcess:
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bin, err := testimage.BinaryPath(c)
		if err != nil {
			t.Fatalf("build test app: %v", err)
		}
		e.image, e.bin = "berth-testapp:process", bin
	default:
		t.Fatalf("unknown runtime %q", rt)
	}
	e.dir = t.TempDir()
	if rt == rtDocker {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d, err := docker.New(c, docker.Options{StateDir: filepath.Join(e.dir, "test-docker")})
		if err != nil {
			t.Fatalf("docker runtime: %v", err)
		}
		t.Cleanup(func() { d.Close() })
		e.docker = d
	}
	t.Cleanup(e.removeContainers)
	return e
}

// newDir makes a directory for one process's data in the env's.
func (e *env) newDir(prefix string) string {
	e.t.Helper()
	dir, err := os.MkdirTemp(e.dir, prefix)
	if err != nil {
		e.t.Fatal(err)
	}
	return dir
}

// startServer runs `berth server` with f and creates the env's cluster.
func (e *env) startServer(f serverFlags) {
	e.t.Helper()
	e.srv = startServerProc(e.t, "server", e.newDir("server"), e.account, f.args()...)
	e.ecs = newClient(e.t, e.srv.endpoint)
	if _, err := e.ecs.CreateCluster(ctx(e.t), &ecs.CreateClusterInput{ClusterName: aws.String(e.cluster)}); err != nil {
		e.t.Fatalf("create cluster: %v", err)
	}
}

// restartServer starts the stopped server (or dev) process again on its
// data dir and address and waits until it answers. The client gets fresh
// connections.
func (e *env) restartServer() {
	e.t.Helper()
	e.srv.start()
	e.ecs = newClient(e.t, e.srv.endpoint)
}

// startDev runs `berth dev` (server and agent in one process, cluster
// default) with f and waits until its agent is connected.
func (e *env) startDev(f serverFlags) *agentProc {
	e.t.Helper()
	e.cluster = "default"
	dir := e.newDir("dev")
	a := &agentProc{e: e, dir: filepath.Join(dir, "agent")} // berth dev's agent data dir
	a.openRuntime()
	e.agents = append(e.agents, a)
	e.srv = startServerProc(e.t, "dev", dir, e.account, append(f.args(), agentRuntimeFlags(e.rt)...)...)
	e.ecs = newClient(e.t, e.srv.endpoint)
	a.waitRegistered()
	return a
}

// agentRuntimeFlags are the agent flags for runtime rt: the test images
// exist only on this machine, and a stop is quick.
func agentRuntimeFlags(rt string) []string {
	return []string{"--runtime", rt, "--image-pull-behavior", "prefer-cached", "--stop-timeout", "2s", "--task-network", "off"}
}

// newClient returns an ECS client that makes exactly one attempt per call,
// so a test never passes thanks to a retry.
func newClient(t *testing.T, endpoint string) *ecs.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }),
	)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New()
	})
}

// ctx is a context for one API call.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func randomUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// randomAccount is a 12-digit account ID.
func randomAccount() string {
	return fmt.Sprintf("%012d", randomUint64()%1_000_000_000_000)
}

// agentProc is `berth agent` on one data dir (or the agent of `berth
// dev`, then started and stopped with its server).
type agentProc struct {
	*proc // nil for the agent of berth dev
	e     *env
	dir   string
	arn   string // container instance ARN, once registered
	drv   driver.Driver
}

// startAgent runs `berth agent` with a data dir of its own in the env's
// cluster and waits until it is connected.
func (e *env) startAgent(az string) *agentProc {
	e.t.Helper()
	dir := e.newDir("agent")
	a := &agentProc{e: e, dir: dir}
	a.openRuntime()
	e.agents = append(e.agents, a)
	args := []string{"agent", "--server", e.srv.endpoint, "--cluster", e.cluster, "--data-dir", dir, "--region", testRegion, "--task-dns", "off",
		"--availability-zone", az, "--instance-type", "t3.restart"}
	a.proc = newProc(e.t, fmt.Sprintf("agent%d", len(e.agents)-1), append(args, agentRuntimeFlags(e.rt)...)...)
	a.start()
	return a
}

// start runs the agent again on its data dir and waits until it is
// connected, as the same container instance as before if it was
// registered.
func (a *agentProc) start() {
	a.e.t.Helper()
	a.proc.start()
	a.waitRegistered()
}

// waitRegistered waits until the agent has recorded its registration (in
// its data dir's agent-state.json, see package agent) and the server shows
// the instance connected. A registration the agent had already recorded
// must not change.
func (a *agentProc) waitRegistered() {
	t := a.e.t
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if a.proc != nil {
			a.exitedEarly("registering")
		} else {
			a.e.srv.exitedEarly("its agent registered")
		}
		var st struct {
			Arn string `json:"containerInstanceArn"`
		}
		if b, err := os.ReadFile(filepath.Join(a.dir, "agent-state.json")); err == nil && json.Unmarshal(b, &st) == nil && st.Arn != "" {
			if a.arn != "" && st.Arn != a.arn {
				t.Fatalf("the agent registered again as %s, was %s", st.Arn, a.arn)
			}
			a.arn = st.Arn
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent did not register within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.e.waitConnected(a.arn, true, time.Minute)
}

// id is the agent's container instance ID.
func (a *agentProc) id() string { return lastSegment(a.arn) }

// openRuntime opens a driver of the agent's runtime (on its state dir for
// the process runtime), for looking at its containers from the test.
func (a *agentProc) openRuntime() {
	t := a.e.t
	t.Helper()
	if a.e.rt == rtDocker {
		a.drv = a.e.docker
		return
	}
	d, err := process.New(process.Options{StateDir: filepath.Join(a.dir, "runtime", "process"),
		ShimPath: berthBin, ShimArgs: []string{process.ShimCommand}})
	if err != nil {
		t.Fatalf("process runtime: %v", err)
	}
	a.drv = d
}

// containers returns the runtime's containers of the env's tasks: every
// container of the process runtime's state dir, the containers of tasks
// of the env's account on the Docker engine (of any agent of the env).
func (a *agentProc) containers(c context.Context) ([]driver.Handle, error) {
	hs, err := a.drv.List(c)
	if err != nil {
		return nil, err
	}
	var out []driver.Handle
	for _, h := range hs {
		if strings.Contains(h.Labels[driver.LabelTaskARN], ":"+a.e.account+":") {
			out = append(out, h)
		}
	}
	return out, nil
}

// removeContainers stops and removes the containers of the env's agents,
// whose processes are gone. A container the runtime was creating when its
// agent was killed may appear a moment later (the Docker engine finishes a
// create whose client is gone), so the runtimes must show none three times
// in a row, a second apart.
func (e *env) removeContainers() {
	t := e.t
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	agents := e.agents
	if e.rt == rtDocker && len(agents) > 1 {
		agents = agents[:1] // one engine: the first agent's view is every agent's
	}
	for empty := 0; empty < 3; {
		var left []driver.Handle
		for _, a := range agents {
			hs, err := a.containers(c)
			if err != nil {
				t.Errorf("list containers: %v", err)
				return
			}
			left = append(left, hs...)
			for _, h := range hs {
				if err := a.drv.Stop(c, h, 0); err != nil && !errors.Is(err, driver.ErrNotFound) {
					t.Errorf("stop container %s: %v", h.ID, err)
					return
				}
				if err := a.drv.Remove(c, h); err != nil && !errors.Is(err, driver.ErrNotFound) {
					t.Errorf("remove container %s: %v", h.ID, err)
					return
				}
			}
		}
		if len(left) == 0 {
			empty++
		} else {
			empty = 0
		}
		select {
		case <-c.Done():
			t.Errorf("containers still there after two minutes of removing them: %v", left)
			return
		case <-time.After(time.Second):
		}
	}
}

// containerRunning asks the runtime whether container id runs (a removed
// one does not).
func (a *agentProc) containerRunning(id string) bool {
	t := a.e.t
	t.Helper()
	st, err := a.drv.Inspect(ctx(t), driver.Handle{ID: id})
	if errors.Is(err, driver.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("inspect container %s: %v", id, err)
	}
	return st.Running
}

// waitConnected waits until the instance's agentConnected is want.
func (e *env) waitConnected(arn string, want bool, within time.Duration) types.ContainerInstance {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ci := e.instance(arn)
		if ci.AgentConnected == want {
			return ci
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("agentConnected of %s stayed %v for %s", lastSegment(arn), ci.AgentConnected, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReconnected waits until the instance shows its agent connected in a
// version newer than v0 (at most a minute).
func (e *env) waitReconnected(arn string, v0 int64) types.ContainerInstance {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ci := e.instance(arn)
		if ci.AgentConnected && ci.Version > v0 {
			return ci
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the agent of %s did not connect again within a minute: agentConnected=%v version=%d (was %d before)",
				lastSegment(arn), ci.AgentConnected, ci.Version, v0)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// instance describes one container instance.
func (e *env) instance(arn string) types.ContainerInstance {
	e.t.Helper()
	out, err := e.ecs.DescribeContainerInstances(ctx(e.t), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(e.cluster),
		ContainerInstances: []string{arn}})
	if err != nil || len(out.ContainerInstances) != 1 {
		e.t.Fatalf("describe instance %s: %v %v", arn, err, out)
	}
	return out.ContainerInstances[0]
}

// register registers a task definition of one container running the test
// application, which serves until it is stopped.
func (e *env) register(family string) string {
	e.t.Helper()
	var args []string
	if e.rt == rtProcess {
		args = []string{"--listen", "127.0.0.1:0"} // no port of its own on the host
	}
	out, err := e.ecs.RegisterTaskDefinition(ctx(e.t), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Memory: aws.Int32(64), EntryPoint: []string{e.bin}, Command: args,
		}},
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// createService creates a REPLICA service of desired tasks of taskDef.
func (e *env) createService(name, taskDef string, desired int32) {
	e.t.Helper()
	_, err := e.ecs.CreateService(ctx(e.t), &ecs.CreateServiceInput{Cluster: aws.String(e.cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(taskDef), DesiredCount: aws.Int32(desired)})
	if err != nil {
		e.t.Fatalf("create service %s: %v", name, err)
	}
}

// service describes one service.
func (e *env) service(name string) types.Service {
	e.t.Helper()
	out, err := e.ecs.DescribeServices(ctx(e.t), &ecs.DescribeServicesInput{Cluster: aws.String(e.cluster), Services: []string{name}})
	if err != nil {
		e.t.Fatalf("describe service %s: %v", name, err)
	}
	if len(out.Services) != 1 {
		e.t.Fatalf("describe service %s: got %d services, failures %v", name, len(out.Services), out.Failures)
	}
	return out.Services[0]
}

// waitService polls service name until cond holds (at most 3 minutes: the
// machine may be slow; no assertion depends on how long it takes).
func (e *env) waitService(name, what string, cond func(types.Service) bool) types.Service {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s := e.service(name)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("service %s did not get %s within 3 minutes: %s", name, what, serviceString(s))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSteady waits until the service's one deployment is COMPLETED with
// every task running, and the service has said it reached a steady state.
func (e *env) waitSteady(name string) types.Service {
	e.t.Helper()
	return e.waitService(name, "a steady state", func(s types.Service) bool {
		return len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted &&
			s.RunningCount == s.DesiredCount && s.PendingCount == 0 &&
			slices.Contains(eventMessages(s), "(service "+name+") has reached a steady state.")
	})
}

// tasks lists every task of service name, whatever its status (ListTasks
// with desired status RUNNING, then STOPPED), and describes them, sorted
// by ARN.
func (e *env) tasks(name string) []types.Task {
	e.t.Helper()
	var arns []string
	for _, desired := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		p := ecs.NewListTasksPaginator(e.ecs, &ecs.ListTasksInput{Cluster: aws.String(e.cluster), ServiceName: aws.String(name), DesiredStatus: desired})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(e.t))
			if err != nil {
				e.t.Fatalf("list tasks of %s: %v", name, err)
			}
			arns = append(arns, page.TaskArns...)
		}
	}
	var out []types.Task
	for i := 0; i < len(arns); i += 100 {
		d, err := e.ecs.DescribeTasks(ctx(e.t), &ecs.DescribeTasksInput{Cluster: aws.String(e.cluster), Tasks: arns[i:min(i+100, len(arns))]})
		if err != nil || len(d.Failures) > 0 {
			e.t.Fatalf("describe tasks: %v %v", err, d)
		}
		out = append(out, d.Tasks...)
	}
	slices.SortFunc(out, func(a, b types.Task) int { return strings.Compare(aws.ToString(a.TaskArn), aws.ToString(b.TaskArn)) })
	return out
}

// eventMessages returns a service's event messages, oldest first.
func eventMessages(s types.Service) []string {
	out := make([]string, 0, len(s.Events))
	for i := len(s.Events) - 1; i >= 0; i-- {
		out = append(out, aws.ToString(s.Events[i].Message))
	}
	return out
}

// lastSegment is the part of an ARN after its last slash (a task or
// instance ID).
func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func taskArns(ts []types.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = aws.ToString(t.TaskArn)
	}
	return out
}

// runtimeID is the runtime ID of the task's (one) container.
func runtimeID(t types.Task) string {
	if len(t.Containers) != 1 {
		return ""
	}
	return aws.ToString(t.Containers[0].RuntimeId)
}

// serviceString renders the fields the tests look at.
func serviceString(s types.Service) string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s status=%s desired=%d running=%d pending=%d", aws.ToString(s.ServiceName),
		aws.ToString(s.Status), s.DesiredCount, s.RunningCount, s.PendingCount)
	for _, d := range s.Deployments {
		fmt.Fprintf(&b, "\n  deployment %s %s %s desired=%d running=%d pending=%d failed=%d", aws.ToString(d.Id), aws.ToString(d.Status),
			d.RolloutState, d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks)
	}
	for _, e := range eventMessages(s) {
		fmt.Fprintf(&b, "\n  event %s", e)
	}
	return b.String()
}

// taskString renders the fields the tests look at.
func taskString(t types.Task) string {
	ts := func(p *time.Time) string {
		if p == nil {
			return "-"
		}
		return p.Format("15:04:05.000")
	}
	return fmt.Sprintf("task %s last=%s desired=%s instance=%s stopCode=%s reason=%q started=%s stopped=%s container=%s",
		lastSegment(aws.ToString(t.TaskArn)), aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus),
		lastSegment(aws.ToString(t.ContainerInstanceArn)), t.StopCode, aws.ToString(t.StoppedReason),
		ts(t.StartedAt), ts(t.StoppedAt), runtimeID(t))
}

func tasksString(ts []types.Task) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString("\n  " + taskString(t))
	}
	return b.String()
}
