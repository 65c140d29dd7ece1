package discovery

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/dnstest/taskdns"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/inproc"
	"berth.dev/berth/internal/server"
	"berth.dev/berth/internal/taskendpoint"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDDISCOTEST0000001"
	testSecret  = "disco-test-secret-000000000000000000000"
	cluster     = "disco"

	rtDocker  = inproc.Docker
	rtProcess = inproc.Process
)

// env is a server answering DNS, its clients, and (for a runtime) agents
// whose tasks resolve names at the task endpoint.
type env struct {
	t    *testing.T
	rt   string // rtDocker, rtProcess or "" (no agents)
	srv  *server.Server
	dir  string
	pool string // the load balancers' address pool

	image, bin string // the test application's image and program
	hostAddr   string // the agents' host address (the tasks' A records)

	ecs *ecs.Client
	elb *elb.Client
	sd  *sd.Client

	agents []*agent.Agent
	// taskDNS: the agents' tasks resolve names at the task endpoint, where
	// this test serves DNS (Linux and root only).
	taskDNS bool
}

// newEnv starts a server (DNS on a free port of 127.0.0.1, forwarding
// nothing; load-balancer addresses from a 127.x.y.0/24 of its own) and
// cluster "disco". With a runtime it starts n agents of that runtime and,
// as root on Linux, serves DNS at the task endpoint fed by a DNS node
// streaming from the server, which the agents' tasks use (TaskDNS).
func newEnv(t *testing.T, rt string, n int) *env {
	t.Helper()
	e := &env{t: t, rt: rt, dir: t.TempDir(), hostAddr: "127.0.0.1"}
	e.image, e.bin = inproc.App(t, rt)
	if rt == rtDocker {
		// Containers in bridge mode reach the host at docker0's address
		// (else at another of its own), where their published ports are
		// too; 127.0.0.1 would be the container itself.
		e.hostAddr = hostAddress(t)
	}
	e.pool = fmt.Sprintf("127.%d.%d.0/24", 2+rand.IntN(240), 1+rand.IntN(250))
	d := deploy.DefaultConfig()
	d.SettleTime = time.Second
	srv, cfg := inproc.StartServer(t, inproc.ServerOptions{Region: testRegion, Account: testAccount, KeyID: testKeyID, Secret: testSecret,
		DataDir: e.dir, Config: server.Config{Deploy: &d, LBAddresses: e.pool, DNSListen: "127.0.0.1:0", DNSForward: nil}})
	e.srv = srv
	if srv.DNSAddr() == "" {
		t.Fatal("the server answers no DNS")
	}
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	e.elb = elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
	// The SDK sends DiscoverInstances to "data-" + the endpoint's host:
	// the transport dials the server whatever the host.
	u, err := url.Parse(srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(u.Host)
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, u.Host)
	}}}
	t.Cleanup(hc.CloseIdleConnections)
	e.sd = sd.NewFromConfig(cfg, func(o *sd.Options) {
		o.BaseEndpoint = aws.String("http://berth.localhost:" + port)
		o.HTTPClient = hc
	})
	if _, err := e.ecs.CreateCluster(e.ctx(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if rt == "" {
		return e
	}
	if runtime.GOOS == "linux" && os.Geteuid() == 0 {
		e.serveTaskDNS()
		e.taskDNS = true
	} else {
		t.Log("not root on Linux: the tasks keep the host's resolvers (no DNS at the task endpoint)")
	}
	for range n {
		e.startAgent()
	}
	return e
}

func (e *env) ctx() context.Context { return inproc.Ctx(e.t) }

// hostAddress is an IPv4 address of this host that containers reach it
// at: docker0's, else the first one of an interface that is up and not a
// loopback.
func hostAddress(t *testing.T) string {
	t.Helper()
	first := func(ifc net.Interface) string {
		addrs, err := ifc.Addrs()
		if err != nil {
			return ""
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
		return ""
	}
	if ifc, err := net.InterfaceByName("docker0"); err == nil {
		if a := first(*ifc); a != "" {
			return a
		}
	}
	ifcs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifcs {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 {
			if a := first(ifc); a != "" {
				return a
			}
		}
	}
	t.Fatal("no IPv4 address of this host for containers to reach it at")
	return ""
}

// serveTaskDNS does what an agent host does for its tasks (package
// taskdns).
func (e *env) serveTaskDNS() {
	taskdns.Serve(e.t, taskdns.Config{Server: e.srv.Endpoint(), Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		StateDir: filepath.Join(e.dir, "taskdns"), Log: inproc.Logger("taskdns")})
}

// startAgent starts one more agent of the env's runtime in this process,
// in the next availability zone.
func (e *env) startAgent() *agent.Agent {
	e.t.Helper()
	dir, id := e.t.TempDir(), inproc.InstanceID()
	taskDNS := ""
	if e.taskDNS {
		taskDNS = taskendpoint.IP
	}
	a, _ := inproc.StartAgent(e.t, agent.Config{
		Server: e.srv.Endpoint(), Cluster: cluster, DataDir: dir, Region: testRegion,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret, AvailabilityZone: testRegion + string(rune('a'+len(e.agents))),
		InstanceType: "t3.disco", InstanceID: id, StopTimeout: 2 * time.Second, PullPolicy: driver.PullPreferCached,
		HostAddress: e.hostAddr, TaskDNS: taskDNS, Driver: inproc.NewRuntime(e.t, e.rt, dir, nil), Log: inproc.Logger("agent " + id),
	})
	e.agents = append(e.agents, a)
	return a
}

// ---- Cloud Map ----

// namespace creates a private DNS namespace, waits for its operation and
// returns the namespace's ID and ARN.
func (e *env) namespace(name string) (id, arn string) {
	t := e.t
	t.Helper()
	c := e.ctx()
	out, err := e.sd.CreatePrivateDnsNamespace(c, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String("vpc-disco")})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		op, err := e.sd.GetOperation(c, &sd.GetOperationInput{OperationId: out.OperationId})
		if err != nil {
			t.Fatalf("get operation: %v", err)
		}
		if op.Operation.Status == sdtypes.OperationStatusSuccess {
			id = op.Operation.Targets[string(sdtypes.OperationTargetTypeNamespace)]
			break
		}
		if op.Operation.Status == sdtypes.OperationStatusFail || time.Now().After(deadline) {
			t.Fatalf("namespace operation: %s %s", op.Operation.Status, aws.ToString(op.Operation.ErrorMessage))
		}
		time.Sleep(100 * time.Millisecond)
	}
	ns, err := e.sd.GetNamespace(c, &sd.GetNamespaceInput{Id: aws.String(id)})
	if err != nil {
		t.Fatalf("get namespace %s: %v", id, err)
	}
	if aws.ToString(ns.Namespace.Name) != name || ns.Namespace.Type != sdtypes.NamespaceTypeDnsPrivate {
		t.Fatalf("namespace %s: %+v", id, ns.Namespace)
	}
	return id, aws.ToString(ns.Namespace.Arn)
}

// sdService creates a Cloud Map service in the namespace with DNS records
// of the types given (TTL 10 s, MULTIVALUE) and, when custom, a custom
// health check; it returns its ID and ARN.
func (e *env) sdService(nsID, name string, custom bool, types ...sdtypes.RecordType) (id, arn string) {
	e.t.Helper()
	in := &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID),
		DnsConfig: &sdtypes.DnsConfig{RoutingPolicy: sdtypes.RoutingPolicyMultivalue}}
	for _, typ := range types {
		in.DnsConfig.DnsRecords = append(in.DnsConfig.DnsRecords, sdtypes.DnsRecord{Type: typ, TTL: aws.Int64(10)})
	}
	if custom {
		in.HealthCheckCustomConfig = &sdtypes.HealthCheckCustomConfig{}
	}
	out, err := e.sd.CreateService(e.ctx(), in)
	if err != nil {
		e.t.Fatalf("create Cloud Map service %s: %v", name, err)
	}
	return aws.ToString(out.Service.Id), aws.ToString(out.Service.Arn)
}

// ---- DNS ----

// query asks the server's DNS (over TCP when tcp) one question.
func (e *env) query(name string, qtype uint16, tcp bool) *dns.Msg {
	e.t.Helper()
	return queryAt(e.t, e.srv.DNSAddr(), name, qtype, tcp)
}

func queryAt(t *testing.T, addr, name string, qtype uint16, tcp bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: 3 * time.Second}
	if tcp {
		c.Net = "tcp"
	}
	var err error
	for range 3 {
		var r *dns.Msg
		r, _, err = c.Exchange(m, addr)
		if err == nil {
			return r
		}
	}
	t.Fatalf("DNS %s %s at %s (tcp %v): %v", name, dns.TypeToString[qtype], addr, tcp, err)
	return nil
}

// srvSet is an SRV answer as "target:port" entries, sorted, and the A
// records of the additional section by name.
type srvSet struct {
	entries []string
	adds    map[string][]string
}

func (s srvSet) String() string { return strings.Join(s.entries, ",") }

func parseSRV(r *dns.Msg) srvSet {
	s := srvSet{adds: map[string][]string{}}
	for _, rr := range r.Answer {
		if srv, ok := rr.(*dns.SRV); ok {
			s.entries = append(s.entries, fmt.Sprintf("%s:%d", srv.Target, srv.Port))
		}
	}
	for _, rr := range r.Extra {
		if a, ok := rr.(*dns.A); ok {
			s.adds[a.Hdr.Name] = append(s.adds[a.Hdr.Name], a.A.String())
		}
	}
	slices.Sort(s.entries)
	return s
}

// waitSRV waits until the SRV answer for name, over UDP and over TCP, is
// exactly want (entries "target:port"), and returns it.
func (e *env) waitSRV(name string, want []string, within time.Duration) srvSet {
	e.t.Helper()
	want = slices.Sorted(slices.Values(want))
	deadline := time.Now().Add(within)
	var last srvSet
	for {
		u := parseSRV(e.query(name, dns.TypeSRV, false))
		if slices.Equal(u.entries, want) {
			tc := parseSRV(e.query(name, dns.TypeSRV, true))
			if slices.Equal(tc.entries, want) {
				return u
			}
			u = tc
		}
		last = u
		if time.Now().After(deadline) {
			e.t.Fatalf("SRV %s: %v after %s, want %v", name, last.entries, within, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---- ECS ----

// appDef registers a task definition of family running the test
// application with one port mapping of container port port (host port
// hostPort) and a health check of /health every 5 s (one failure makes
// it unhealthy), in network mode mode; stopTimeout lets a draining task
// run after SIGTERM.
func (e *env) appDef(family string, mode ecstypes.NetworkMode, port, hostPort int32, version string) string {
	e.t.Helper()
	args := []string{"--listen", fmt.Sprintf(":%d", port), "--drain", "3s"}
	out, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: mode,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64),
			EntryPoint: []string{e.bin}, Command: args, StopTimeout: aws.Int32(10),
			Environment:  []ecstypes.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}},
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(port), HostPort: aws.Int32(hostPort), Protocol: ecstypes.TransportProtocolTcp}},
			HealthCheck: &ecstypes.HealthCheck{
				Command:  []string{"CMD", e.bin, "health", fmt.Sprintf("http://127.0.0.1:%d/health", port)},
				Interval: aws.Int32(5), Timeout: aws.Int32(3), Retries: aws.Int32(1),
			},
		}},
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// describeService describes one service of the cluster.
func (e *env) describeService(name string) ecstypes.Service {
	e.t.Helper()
	out, err := e.ecs.DescribeServices(e.ctx(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		e.t.Fatalf("describe service %s: %v %+v", name, err, out)
	}
	return out.Services[0]
}

// waitStable waits until the service has one deployment, COMPLETED, with
// runningCount == desiredCount.
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
	e.t.Fatalf("service %s not stable within %s: running %d desired %d deployments %d\nevents:\n%s", name, within, last.RunningCount, last.DesiredCount,
		len(last.Deployments), strings.Join(eventTexts(last), "\n"))
	return last
}

func eventTexts(s ecstypes.Service) []string {
	var out []string
	for i, ev := range s.Events {
		if i < 20 {
			out = append(out, aws.ToString(ev.Message))
		}
	}
	return out
}

// waitEvent waits until the service has an event whose message contains
// each of parts.
func (e *env) waitEvent(name string, within time.Duration, parts ...string) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var last ecstypes.Service
	for {
		last = e.describeService(name)
		for _, ev := range last.Events {
			m := aws.ToString(ev.Message)
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(m, p) }) {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("service %s has no event with %q within %s; events:\n%s", name, parts, within, strings.Join(eventTexts(last), "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// runningTasks waits until the service has n tasks RUNNING (desired
// RUNNING) and returns them.
func (e *env) runningTasks(name string, n int, within time.Duration) []ecstypes.Task {
	e.t.Helper()
	return inproc.RunningTasks(e.t, e.ecs, cluster, name, n, within)
}

// task describes one task.
func (e *env) task(arn string) ecstypes.Task {
	e.t.Helper()
	return inproc.Task(e.t, e.ecs, cluster, arn)
}

// taskID is the last segment of a task ARN.
func taskID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// hostPort is the host port of the task's app container's port.
func hostPort(t *testing.T, task ecstypes.Task, port int32) int {
	t.Helper()
	for _, c := range task.Containers {
		for _, nb := range c.NetworkBindings {
			if aws.ToString(c.Name) == "app" && aws.ToInt32(nb.ContainerPort) == port {
				return int(aws.ToInt32(nb.HostPort))
			}
		}
	}
	t.Fatalf("task %s has no binding of port %d: %+v", aws.ToString(task.TaskArn), port, task.Containers)
	return 0
}

// get GETs a URL and returns the status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 15 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
