package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/driver/process"
	"berth.dev/berth/internal/e2e/testimage"
	"berth.dev/berth/internal/server"
)

// The runtimes task tests run on.
const (
	rtProcess = "process"
	rtDocker  = "docker"
)

// labelAgent is the label the agent puts on its containers (its instance ID).
const labelAgent = "berth.agent"

// forEachRuntime runs f as one subtest per runtime; the Docker one needs an
// engine (dockertest.RequireDocker).
func forEachRuntime(t *testing.T, f func(t *testing.T, rt string)) {
	for _, rt := range []string{rtProcess, rtDocker} {
		t.Run(rt, func(t *testing.T) {
			if rt == rtDocker {
				dockertest.RequireDocker(t)
			}
			f(t, rt)
		})
	}
}

// serverOptions configure startServer.
type serverOptions struct {
	dir       string // data dir; default a new temporary one
	listen    string // default 127.0.0.1:0
	retention time.Duration
	gc        time.Duration
	deploy    *deploy.Config // the service reconciler's timings; nil: the defaults
	// lbAddresses is the load balancer address pool (CIDR); "": none, and
	// CreateLoadBalancer is refused. Tests take pools apart from each other's.
	lbAddresses string
}

// startServer runs a server in process; Close runs when the test ends (and
// may run earlier).
func startServer(t *testing.T, o serverOptions) *env {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	if o.listen == "" {
		o.listen = "127.0.0.1:0"
	}
	srv, err := server.Start(context.Background(), server.Config{
		DataDir: o.dir, Listen: o.listen, Region: testRegion, AccountID: testAccount,
		Getenv: fixedEnv(map[string]string{
			server.EnvRootAccessKeyID:     testKeyID,
			server.EnvRootSecretAccessKey: testSecret,
		}),
		Log:                  testLogger("server"),
		StoppedTaskRetention: o.retention,
		GCInterval:           o.gc,
		Deploy:               o.deploy,
		LBAddresses:          o.lbAddresses,
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, srv: srv, dataDir: o.dir, endpoint: srv.Endpoint()}
	e.ecs = newClient(t, e.endpoint, testKeyID, testSecret)
	return e
}

func testLogger(component string) *slog.Logger {
	if os.Getenv("BERTH_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("side", component)
}

// taskEnv is a server, a cluster and agents of one runtime.
type taskEnv struct {
	*env
	t       *testing.T
	rt      string
	cluster string
	image   string // the task definitions' image
	bin     string // the test application as the runtime runs it
	agents  []*testAgent
}

// agentOptions configure one agent; zero values get test defaults.
type agentOptions struct {
	az, instanceType string
	attributes       map[string]string
	reservedMemory   int64
	stopTimeout      time.Duration // default 2s: tests not about it stay short
}

// newTaskEnv starts a server with o, creates cluster "tasks" and starts one
// agent per agents entry, waiting until each is connected.
func newTaskEnv(t *testing.T, rt string, o serverOptions, agents ...agentOptions) *taskEnv {
	t.Helper()
	te := &taskEnv{t: t, rt: rt, cluster: "tasks"}
	switch rt {
	case rtDocker:
		te.image = dockertest.TestappImage(t) // before any container: removed after them
		te.bin = testimage.BinaryInImage
	case rtProcess:
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bin, err := testimage.BinaryPath(c)
		if err != nil {
			t.Fatalf("build test app: %v", err)
		}
		te.image, te.bin = "berth-testapp:process", bin
	default:
		t.Fatalf("unknown runtime %q", rt)
	}
	te.env = startServer(t, o)
	te.createCluster(te.cluster)
	for _, ao := range agents {
		te.startAgent(ao)
	}
	return te
}

// testAgent is one agent running in this process.
type testAgent struct {
	te      *taskEnv
	cfg     agent.Config
	drv     driver.Driver
	a       *agent.Agent
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// startAgent starts a new agent with its own data dir and waits until it
// is connected. Its containers are stopped and removed when the test ends.
func (te *taskEnv) startAgent(o agentOptions) *testAgent {
	t := te.t
	t.Helper()
	if o.stopTimeout == 0 {
		o.stopTimeout = 2 * time.Second
	}
	n := len(te.agents)
	if o.az == "" {
		o.az = testRegion + string(rune('a'+n%26))
	}
	if o.instanceType == "" {
		o.instanceType = fmt.Sprintf("t3.agent%d", n)
	}
	dir := t.TempDir()
	cfg := agent.Config{
		Server: te.endpoint, Cluster: te.cluster, DataDir: dir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		Attributes: o.attributes, AvailabilityZone: o.az, InstanceType: o.instanceType,
		InstanceID:        "i-" + randomHex(17)[:17],
		StopTimeout:       o.stopTimeout,
		ReservedMemoryMiB: o.reservedMemory,
		PullPolicy:        driver.PullPreferCached, // test images exist only here
	}
	cleanupContainers(t, te.rt, dir, cfg.InstanceID)
	ta := &testAgent{te: te, cfg: cfg}
	ta.start()
	te.agents = append(te.agents, ta)
	return ta
}

// openDriver opens the runtime driver an agent with data dir dir uses.
func openDriver(t *testing.T, rt, dir string) driver.Driver {
	t.Helper()
	switch rt {
	case rtProcess:
		d, err := process.New(process.Options{StateDir: filepath.Join(dir, "runtime", "process"),
			ShimPath: berthBin, ShimArgs: []string{process.ShimCommand}})
		if err != nil {
			t.Fatalf("process runtime: %v", err)
		}
		return d
	case rtDocker:
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d, err := docker.New(c, docker.Options{StateDir: filepath.Join(dir, "runtime", "docker"), Logger: testLogger("docker")})
		if err != nil {
			t.Fatalf("docker runtime: %v", err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	t.Fatalf("unknown runtime %q", rt)
	return nil
}

// cleanupContainers stops and removes, when the test ends, every container
// of the agent whose instance ID is id.
func cleanupContainers(t *testing.T, rt, dir, id string) {
	t.Cleanup(func() {
		d := openDriver(t, rt, dir)
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
	})
}

// start runs the agent (a new driver and agent on its data dir) and waits
// until its stream is open.
func (ta *testAgent) start() {
	t := ta.te.t
	t.Helper()
	ta.drv = openDriver(t, ta.te.rt, ta.cfg.DataDir)
	cfg := ta.cfg
	cfg.Driver = ta.drv
	cfg.Log = testLogger("agent " + cfg.InstanceID)
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
	c, cancel := context.WithCancel(context.Background())
	ta.a, ta.cancel, ta.done, ta.stopped = a, cancel, make(chan error, 1), false
	go func() { ta.done <- a.Run(c) }()
	t.Cleanup(ta.stop)
	select {
	case <-a.Connected():
	case err := <-ta.done:
		t.Fatalf("agent ended before connecting: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not connect within 30s")
	}
}

// stop cancels the agent and waits until Run returns: containers keep
// running.
func (ta *testAgent) stop() {
	if ta.stopped {
		return
	}
	ta.stopped = true
	ta.cancel()
	select {
	case err := <-ta.done:
		if err != nil {
			ta.te.t.Errorf("agent run: %v", err)
		}
	case <-time.After(30 * time.Second):
		ta.te.t.Error("agent did not return within 30s of its context ending")
	}
}

// settle waits until the agent has applied the server's task list, acted
// on all it knows and had every report acknowledged (agent.WaitSettled).
func (ta *testAgent) settle(t *testing.T) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := ta.a.WaitSettled(c); err != nil {
		t.Fatalf("the agent did not settle within 2 minutes: %v", err)
	}
}

// waitOffline waits until the agent has seen its stream end (a new stream
// has not applied a task list yet).
func (ta *testAgent) waitOffline(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for synced(ta.a) {
		if time.Now().After(deadline) {
			t.Fatal("the agent did not see its stream end within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func synced(a *agent.Agent) bool {
	select {
	case <-a.Synced():
		return true
	default:
		return false
	}
}

// waitAgentStatus waits until the agent itself has decided status for task
// arn (whether or not the server has heard of it).
func (ta *testAgent) waitAgentStatus(t *testing.T, arn, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := ta.a.TaskStatus(arn)
		if got == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent's status of task %s stayed %q for 30s, want %s", arn, got, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// arn is the agent's container instance ARN.
func (ta *testAgent) arn() string { return ta.a.InstanceArn() }

// containers returns the runtime's containers of this agent for task arn.
func (ta *testAgent) containers(t *testing.T, taskArn string) []driver.Handle {
	t.Helper()
	hs, err := ta.drv.List(ctx(t))
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var out []driver.Handle
	for _, h := range hs {
		if h.Labels[labelAgent] == ta.cfg.InstanceID && h.Labels[driver.LabelTaskARN] == taskArn {
			out = append(out, h)
		}
	}
	return out
}

// inspect returns the runtime status of the container with runtime ID id.
func (ta *testAgent) inspect(t *testing.T, id string) driver.Status {
	t.Helper()
	st, err := ta.drv.Inspect(ctx(t), driver.Handle{ID: id})
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return st
}

// waitListening waits until the test application in container id wrote
// "listening on": its signal handlers are set from then on, so a stop
// sent earlier would meet the runtime's default action instead (exit 143,
// or 2 for a Go program that is PID 1 in a container).
func (ta *testAgent) waitListening(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ta.logsContain(t, id, "listening on ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s did not write \"listening on\" within 30s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logsContain reports whether the output of container id has a line
// containing s.
func (ta *testAgent) logsContain(t *testing.T, id, s string) bool {
	t.Helper()
	ls, err := ta.drv.Logs(ctx(t), driver.Handle{ID: id}, false)
	if err != nil {
		t.Fatalf("logs of %s: %v", id, err)
	}
	defer ls.Close()
	for {
		l, err := ls.Next()
		if err != nil {
			return false
		}
		if strings.Contains(string(l.Text), s) {
			return true
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// freePort returns a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// app is a container definition running the test application with args.
// On the process runtime the application listens on a port of its own
// unless args give --listen.
func (te *taskEnv) app(name string, args ...string) types.ContainerDefinition {
	if te.rt == rtProcess && !slices.Contains(args, "--listen") {
		args = append([]string{"--listen", "127.0.0.1:0"}, args...)
	}
	return types.ContainerDefinition{
		Name: aws.String(name), Image: aws.String(te.image), Memory: aws.Int32(64),
		EntryPoint: []string{te.bin}, Command: args,
	}
}

// healthCheck runs the test application's health command against url.
func (te *taskEnv) healthCheck(url string, interval, retries int32) *types.HealthCheck {
	return &types.HealthCheck{
		Command:  []string{"CMD", te.bin, "health", url},
		Interval: aws.Int32(interval), Timeout: aws.Int32(3), Retries: aws.Int32(retries),
	}
}

// register registers family with containers and returns its ARN.
func (te *taskEnv) register(family string, mode types.NetworkMode, containers ...types.ContainerDefinition) string {
	te.t.Helper()
	out, err := te.ecs.RegisterTaskDefinition(ctx(te.t), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: mode, ContainerDefinitions: containers,
	})
	if err != nil {
		te.t.Fatalf("register %s: %v", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// runTask runs taskDef in the cluster and returns the output.
func (te *taskEnv) runTask(in ecs.RunTaskInput) *ecs.RunTaskOutput {
	te.t.Helper()
	in.Cluster = aws.String(te.cluster)
	out, err := te.ecs.RunTask(ctx(te.t), &in)
	if err != nil {
		te.t.Fatalf("run task: %v", err)
	}
	return out
}

// run runs count tasks of taskDef and fails unless all were placed.
func (te *taskEnv) run(taskDef string, count int32) []types.Task {
	te.t.Helper()
	out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(taskDef), Count: aws.Int32(count)})
	if len(out.Failures) != 0 || len(out.Tasks) != int(count) {
		te.t.Fatalf("run %s: got %d tasks and failures %s, want %d tasks", taskDef, len(out.Tasks), failuresString(out.Failures), count)
	}
	return out.Tasks
}

func failuresString(fs []types.Failure) string {
	s := "["
	for i, f := range fs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("{%s %s %s}", aws.ToString(f.Arn), aws.ToString(f.Reason), aws.ToString(f.Detail))
	}
	return s + "]"
}

func taskArns(ts []types.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = aws.ToString(t.TaskArn)
	}
	return out
}

// describe returns task arn.
func (te *taskEnv) describe(arn string) types.Task {
	te.t.Helper()
	out, err := te.ecs.DescribeTasks(ctx(te.t), &ecs.DescribeTasksInput{Cluster: aws.String(te.cluster), Tasks: []string{arn}})
	if err != nil {
		te.t.Fatalf("describe %s: %v", arn, err)
	}
	if len(out.Tasks) != 1 {
		te.t.Fatalf("describe %s: got %d tasks and failures %s", arn, len(out.Tasks), failuresString(out.Failures))
	}
	return out.Tasks[0]
}

// waitRunning waits with the SDK's TasksRunning waiter.
func (te *taskEnv) waitRunning(arns ...string) {
	te.t.Helper()
	w := ecs.NewTasksRunningWaiter(te.ecs, func(o *ecs.TasksRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	err := w.Wait(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(te.cluster), Tasks: arns}, 2*time.Minute)
	if err != nil {
		for _, a := range arns {
			te.t.Logf("%s", taskString(te.describe(a)))
		}
		te.t.Fatalf("tasks running waiter: %v", err)
	}
}

// waitStopped waits with the SDK's TasksStopped waiter.
func (te *taskEnv) waitStopped(arns ...string) {
	te.t.Helper()
	w := ecs.NewTasksStoppedWaiter(te.ecs, func(o *ecs.TasksStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	err := w.Wait(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(te.cluster), Tasks: arns}, 2*time.Minute)
	if err != nil {
		for _, a := range arns {
			te.t.Logf("%s", taskString(te.describe(a)))
		}
		te.t.Fatalf("tasks stopped waiter: %v", err)
	}
}

// waitTask polls task arn until cond holds (at most a minute).
func (te *taskEnv) waitTask(arn, what string, cond func(types.Task) bool) types.Task {
	te.t.Helper()
	return te.waitTaskWithin(arn, what, time.Minute, cond)
}

// waitTaskWithin polls task arn until cond holds, at most for within.
func (te *taskEnv) waitTaskWithin(arn, what string, within time.Duration, cond func(types.Task) bool) types.Task {
	te.t.Helper()
	deadline := time.Now().Add(within)
	for {
		task := te.describe(arn)
		if cond(task) {
			return task
		}
		if time.Now().After(deadline) {
			te.t.Fatalf("task did not get %s within %s: %s", what, within, taskString(task))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopTask stops task arn and returns the answer's task.
func (te *taskEnv) stopTask(arn string) types.Task {
	te.t.Helper()
	out, err := te.ecs.StopTask(ctx(te.t), &ecs.StopTaskInput{Cluster: aws.String(te.cluster), Task: aws.String(arn)})
	if err != nil {
		te.t.Fatalf("stop task: %v", err)
	}
	return *out.Task
}

// agentOf returns the agent whose instance holds task.
func (te *taskEnv) agentOf(task types.Task) *testAgent {
	te.t.Helper()
	for _, a := range te.agents {
		if a.arn() == aws.ToString(task.ContainerInstanceArn) {
			return a
		}
	}
	te.t.Fatalf("no agent has instance %s", aws.ToString(task.ContainerInstanceArn))
	return nil
}

func container(t *testing.T, task types.Task, name string) types.Container {
	t.Helper()
	for _, c := range task.Containers {
		if aws.ToString(c.Name) == name {
			return c
		}
	}
	t.Fatalf("task has no container %s: %s", name, taskString(task))
	return types.Container{}
}

// taskString renders the fields the tests look at.
func taskString(t types.Task) string {
	ts := func(p *time.Time) string {
		if p == nil {
			return "-"
		}
		return p.Format("15:04:05.000")
	}
	s := fmt.Sprintf("task %s last=%s desired=%s version=%d health=%s stopCode=%s reason=%q created=%s started=%s stopping=%s stopped=%s execStopped=%s",
		aws.ToString(t.TaskArn), aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus), t.Version, t.HealthStatus,
		t.StopCode, aws.ToString(t.StoppedReason), ts(t.CreatedAt), ts(t.StartedAt), ts(t.StoppingAt), ts(t.StoppedAt), ts(t.ExecutionStoppedAt))
	for _, c := range t.Containers {
		code := "-"
		if c.ExitCode != nil {
			code = strconv.Itoa(int(*c.ExitCode))
		}
		s += fmt.Sprintf("\n  container %s last=%s exit=%s reason=%q runtimeId=%s health=%s bindings=%d",
			aws.ToString(c.Name), aws.ToString(c.LastStatus), code, aws.ToString(c.Reason), aws.ToString(c.RuntimeId), c.HealthStatus, len(c.NetworkBindings))
	}
	return s
}
