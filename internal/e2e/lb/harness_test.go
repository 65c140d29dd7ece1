package lb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
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
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	lbengine "berth.dev/berth/internal/lb"
	"berth.dev/berth/internal/lbnode"
	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDLBTEST0000000001"
	testSecret  = "lb-test-secret-0000000000000000000000000"
	cluster     = "web"
	labelAgent  = "berth.agent"
)

func testLogger(component string) *slog.Logger {
	if os.Getenv("BERTH_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("side", component)
}

// env is a server with its data plane, a cluster, Docker agents and
// clients.
type env struct {
	t       *testing.T
	srv     *server.Server
	dir     string
	pool    string // the load balancers' address pool
	image   string
	ecs     *ecs.Client
	elb     *elb.Client
	agents  []*testAgent
	lbStop  context.CancelFunc
	lbDone  chan struct{}
	lbState string
}

// newEnv starts a server (with its own load-balancer address pool), a data
// plane node, cluster "web" and n Docker agents.
func newEnv(t *testing.T, n int) *env {
	t.Helper()
	dockertest.RequireDocker(t)
	e := &env{t: t, dir: t.TempDir()}
	e.image = dockertest.TestappImage(t)
	e.pool = fmt.Sprintf("127.%d.%d.0/24", 2+rand.IntN(240), 1+rand.IntN(250))
	d := deploy.DefaultConfig()
	d.SettleTime = 2 * time.Second
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
		Log: testLogger("server"), Deploy: &d, LBAddresses: e.pool,
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
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()); o.HTTPClient = sdkhttp.New() })
	e.elb = elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()); o.HTTPClient = sdkhttp.New() })
	e.lbState = filepath.Join(e.dir, "lb", "lb-config.json")
	e.startLB()
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	for range n {
		e.startAgent()
	}
	return e
}

func (e *env) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	e.t.Cleanup(cancel)
	return c
}

// startLB runs a data-plane node (engine and stream) in this process.
func (e *env) startLB() {
	if err := os.MkdirAll(filepath.Dir(e.lbState), 0o700); err != nil {
		e.t.Fatal(err)
	}
	eng := lbengine.New(lbengine.Config{Log: testLogger("lb"), Node: "test"})
	n := lbnode.New(lbnode.Config{Server: e.srv.Endpoint(), Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		Node: "test", StateFile: e.lbState, Engine: eng, Log: testLogger("lbnode")})
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.Run(c)
		eng.Close()
	}()
	e.lbStop, e.lbDone = cancel, done
	e.t.Cleanup(e.stopLB)
}

func (e *env) stopLB() {
	if e.lbStop == nil {
		return
	}
	e.lbStop()
	<-e.lbDone
	e.lbStop = nil
}

// testAgent is one Docker agent in this process.
type testAgent struct {
	a      *agent.Agent
	id     string
	cancel context.CancelFunc
	done   chan error
}

func (e *env) startAgent() *testAgent {
	t := e.t
	t.Helper()
	dir := t.TempDir()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	drv, err := docker.New(c, docker.Options{StateDir: filepath.Join(dir, "runtime", "docker"), Logger: testLogger("docker")})
	if err != nil {
		t.Fatalf("docker runtime: %v", err)
	}
	id := fmt.Sprintf("i-%017x", rand.Uint64()&0xfffffffffffffff)[:19]
	t.Cleanup(func() { removeContainers(t, drv, id); drv.Close() })
	a, err := agent.New(agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: dir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + string(rune('a'+len(e.agents))),
		InstanceType: "t3.lb", InstanceID: id, StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		HostAddress: "127.0.0.1", Driver: drv, Log: testLogger("agent " + id),
	})
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
	rc, rcancel := context.WithCancel(context.Background())
	ta := &testAgent{a: a, id: id, cancel: rcancel, done: make(chan error, 1)}
	go func() { ta.done <- a.Run(rc) }()
	t.Cleanup(func() {
		rcancel()
		select {
		case <-ta.done:
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop within 30s")
		}
	})
	select {
	case <-a.Connected():
	case err := <-ta.done:
		t.Fatalf("agent ended before connecting: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not connect within 30s")
	}
	e.agents = append(e.agents, ta)
	return ta
}

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

// webDef registers a bridge-mode task definition of the test app that
// serves / on 8080 with VERSION=version in its environment.
func (e *env) webDef(version string) string {
	out, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64),
			Command:      []string{"--listen", ":8080"},
			Environment:  []ecstypes.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}},
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: ecstypes.TransportProtocolTcp}},
		}},
	})
	if err != nil {
		e.t.Fatalf("register: %v", err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// alb creates an application load balancer with an HTTP listener on port
// 80 forwarding to a new instance target group (health checks of /health
// every 5 s, healthy after 2, deregistration delay delay) and waits until
// it is active; it returns the load balancer's address and the target
// group's ARN.
func (e *env) alb(name string, delay time.Duration) (addr, tgARN, listenerARN string) {
	t := e.t
	c := e.ctx()
	lb, err := e.elb.CreateLoadBalancer(c, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatalf("create load balancer: %v", err)
	}
	lbARN := lb.LoadBalancers[0].LoadBalancerArn
	tg, err := e.elb.CreateTargetGroup(c, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumInstance,
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5), HealthyThresholdCount: aws.Int32(2),
		UnhealthyThresholdCount: aws.Int32(2), HealthCheckTimeoutSeconds: aws.Int32(2)})
	if err != nil {
		t.Fatalf("create target group: %v", err)
	}
	tgARN = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := e.elb.ModifyTargetGroupAttributes(c, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(fmt.Sprint(int(delay.Seconds())))}}}); err != nil {
		t.Fatalf("modify target group attributes: %v", err)
	}
	l, err := e.elb.CreateListener(c, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}})
	if err != nil {
		t.Fatalf("create listener: %v", err)
	}
	w := elb.NewLoadBalancerAvailableWaiter(e.elb, func(o *elb.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(c, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lbARN)}}, time.Minute); err != nil {
		t.Fatalf("load balancer not available: %v", err)
	}
	d, err := e.elb.DescribeLoadBalancers(c, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lbARN)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, az := range d.LoadBalancers[0].AvailabilityZones {
		for _, a := range az.LoadBalancerAddresses {
			if a.IpAddress != nil {
				addr = *a.IpAddress
			}
		}
	}
	if addr == "" {
		t.Fatalf("the load balancer lists no address: %+v", d.LoadBalancers[0])
	}
	return addr, tgARN, aws.ToString(l.Listeners[0].ListenerArn)
}

// service creates a service of taskDef behind tgARN (container app, port
// 8080).
func (e *env) service(name, taskDef, tgARN string, desired int32, grace int32) {
	_, err := e.ecs.CreateService(e.ctx(), &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(name), TaskDefinition: aws.String(taskDef), DesiredCount: aws.Int32(desired),
		LoadBalancers:                 []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		HealthCheckGracePeriodSeconds: aws.Int32(grace),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	})
	if err != nil {
		e.t.Fatalf("create service: %v", err)
	}
}

// waitStable waits until the service has one deployment, COMPLETED, with
// runningCount == desiredCount (the services-stable waiter's test, plus
// the rollout state).
func (e *env) waitStable(name string, within time.Duration) ecstypes.Service {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var last ecstypes.Service
	for time.Now().Before(deadline) {
		out, err := e.ecs.DescribeServices(e.ctx(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
		if err == nil && len(out.Services) == 1 {
			last = out.Services[0]
			if len(last.Deployments) == 1 && last.RunningCount == last.DesiredCount && last.Deployments[0].RolloutState == ecstypes.DeploymentRolloutStateCompleted {
				return last
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	var events []string
	for i, ev := range last.Events {
		if i < 15 {
			events = append(events, aws.ToString(ev.Message))
		}
	}
	e.t.Fatalf("service %s not stable within %s: running %d desired %d deployments %d\nevents:\n%s", name, within, last.RunningCount, last.DesiredCount,
		len(last.Deployments), strings.Join(events, "\n"))
	return last
}

// load keeps a steady rate of GET / through addr and counts the answers by
// the VERSION the task reports, and the failures with their first causes.
type load struct {
	url     string
	mu      sync.Mutex
	ok      map[string]int
	fails   int
	causes  []string
	last    string
	stop    chan struct{}
	done    sync.WaitGroup
	client  *http.Client
	started time.Time
}

func startLoad(t *testing.T, addr string, rate int) *load {
	l := &load{url: "http://" + addr + "/", ok: map[string]int{}, stop: make(chan struct{}), started: time.Now(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	workers := 16
	interval := time.Duration(int64(time.Second) * int64(workers) / int64(rate))
	for range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-tick.C:
					l.one()
				}
			}
		}()
	}
	t.Cleanup(l.finish)
	return l
}

func (l *load) one() {
	resp, err := l.client.Get(l.url)
	var version string
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case rerr != nil:
			err = rerr
		case resp.StatusCode != http.StatusOK:
			err = fmt.Errorf("HTTP %d: %.80s", resp.StatusCode, b)
		default:
			version = versionOf(b)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.fails++
		if len(l.causes) < 10 {
			l.causes = append(l.causes, fmt.Sprintf("%s: %v", time.Since(l.started).Round(time.Millisecond), err))
		}
		return
	}
	l.ok[version]++
	l.last = version
}

// versionOf reads "VERSION":"x" out of the test app's echo.
func versionOf(b []byte) string {
	s := string(b)
	i := strings.Index(s, `"VERSION":"`)
	if i < 0 {
		return "?"
	}
	s = s[i+len(`"VERSION":"`):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return "?"
}

func (l *load) finish() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.done.Wait()
}

func (l *load) snapshot() (map[string]int, int, []string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ok := map[string]int{}
	for k, v := range l.ok {
		ok[k] = v
	}
	return ok, l.fails, append([]string(nil), l.causes...), l.last
}

// waitAnswers waits until the load has seen at least n answers of version.
func (l *load) waitAnswers(t *testing.T, version string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ok, _, _, _ := l.snapshot()
		if ok[version] >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	ok, fails, causes, _ := l.snapshot()
	t.Fatalf("fewer than %d answers from %s within %s: %v, %d failures %v", n, version, within, ok, fails, causes)
}
