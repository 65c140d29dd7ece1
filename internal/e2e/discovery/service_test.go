package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

const (
	nsName  = "disco.local"
	apiName = "api.disco.local"
)

// TestDiscoveryDocker runs the service-discovery flow on two Docker agents
// (bridge mode, dynamic host ports).
func TestDiscoveryDocker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rtDocker, 2)
	runFlow(t, e, flowConfig{mode: ecstypes.NetworkModeBridge, port: 8080, hostPort: 0, desired: 2, scaleTo: []int32{3, 1, 2},
		minHealthy: 100, maxPercent: 200})
}

// TestDiscoveryProcess runs the service-discovery flow on one agent of the
// process runtime (host mode: a task's host port is its container port,
// so one task of the service runs at a time).
func TestDiscoveryProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rtProcess, 1)
	port := int32(freePort(t))
	runFlow(t, e, flowConfig{mode: ecstypes.NetworkModeHost, port: port, hostPort: port, webPort: int32(freePort(t)), desired: 1,
		minHealthy: 0, maxPercent: 100})
}

// flowConfig is what differs between the runtimes.
type flowConfig struct {
	mode                   ecstypes.NetworkMode
	port, hostPort         int32 // the app's container port and its host port (0: dynamic)
	webPort                int32 // the web task's port (0: 8081 with a dynamic host port)
	desired                int32
	scaleTo                []int32 // desired counts to scale to in turn
	minHealthy, maxPercent int32
}

// with is the env for a subtest.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// flow is the state the steps of runFlow share.
type flow struct {
	cfg          flowConfig
	svcID, arn   string // the Cloud Map service
	lastRevision int64
}

func runFlow(t *testing.T, e *env, cfg flowConfig) {
	nsID, nsARN := e.namespace(nsName)
	f := &flow{cfg: cfg}
	f.svcID, f.arn = e.sdService(nsID, "api", true, sdtypes.RecordTypeSrv)
	_ = nsARN
	td1 := e.appDef("api", cfg.mode, cfg.port, cfg.hostPort, "v1")
	_, err := e.ecs.CreateService(e.ctx(), &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String("api"), TaskDefinition: aws.String(td1), DesiredCount: aws.Int32(cfg.desired),
		ServiceRegistries:             []ecstypes.ServiceRegistry{{RegistryArn: aws.String(f.arn), ContainerName: aws.String("app"), ContainerPort: aws.Int32(cfg.port)}},
		HealthCheckGracePeriodSeconds: aws.Int32(600), // an unhealthy task stays (and leaves the DNS answers)
		DeploymentConfiguration:       &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(cfg.minHealthy), MaximumPercent: aws.Int32(cfg.maxPercent)},
	})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}

	ok := t.Run("registered", func(t *testing.T) {
		e := e.with(t)
		e.waitStable("api", 90*time.Second)
		tasks := e.runningTasks("api", int(cfg.desired), 10*time.Second)
		f.waitTasksInDNS(e, tasks)
		f.checkDiscover(e, tasks)
		svc := e.describeService("api")
		if len(svc.ServiceRegistries) != 1 || aws.ToString(svc.ServiceRegistries[0].RegistryArn) != f.arn ||
			aws.ToString(svc.ServiceRegistries[0].ContainerName) != "app" || aws.ToInt32(svc.ServiceRegistries[0].ContainerPort) != cfg.port {
			t.Errorf("DescribeServices registries: %+v", svc.ServiceRegistries)
		}
		e.waitEvent("api", 10*time.Second, "(service api) registered 1 instances in (service-registry "+f.arn+")")
		// The service has SRV records only: A is NODATA; an unknown name
		// in the namespace is NXDOMAIN; both with the zone's SOA.
		for _, tcp := range []bool{false, true} {
			r := e.query(apiName, dns.TypeA, tcp)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || !hasSOA(r, nsName+".") {
				t.Errorf("A %s (tcp %v): want NODATA with the SOA, got %v", apiName, tcp, r)
			}
			r = e.query("web."+nsName, dns.TypeSRV, tcp)
			if r.Rcode != dns.RcodeNameError || !hasSOA(r, nsName+".") {
				t.Errorf("SRV web.%s (tcp %v): want NXDOMAIN with the SOA, got %v", nsName, tcp, r)
			}
		}
		ls, err := e.ecs.ListServicesByNamespace(e.ctx(), &ecs.ListServicesByNamespaceInput{Namespace: aws.String(nsName)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ls.ServiceArns, []string{aws.ToString(svc.ServiceArn)}) {
			t.Errorf("ListServicesByNamespace(%s): %v, want %s", nsName, ls.ServiceArns, aws.ToString(svc.ServiceArn))
		}
		ls, err = e.ecs.ListServicesByNamespace(e.ctx(), &ecs.ListServicesByNamespaceInput{Namespace: aws.String(nsARN)})
		if err != nil || len(ls.ServiceArns) != 1 {
			t.Errorf("ListServicesByNamespace(%s): %v %v", nsARN, ls, err)
		}
	})
	if !ok {
		return
	}

	for _, n := range cfg.scaleTo {
		if !t.Run(fmt.Sprintf("scale to %d", n), func(t *testing.T) { f.scale(e.with(t), n) }) {
			return
		}
	}
	if !t.Run("unhealthy", func(t *testing.T) { f.unhealthy(e.with(t)) }) {
		return
	}
	if !t.Run("roll", func(t *testing.T) { f.roll(e.with(t)) }) {
		return
	}
	if !t.Run("stop task", func(t *testing.T) { f.stopTask(e.with(t)) }) {
		return
	}
	if !t.Run("task exits", func(t *testing.T) { f.taskExits(e.with(t)) }) {
		return
	}
	t.Run("task resolves", func(t *testing.T) {
		if !e.taskDNS {
			t.Skip("no DNS at the task endpoint (needs root on Linux)")
		}
		f.taskResolves(e.with(t))
	})
	t.Run("delete", func(t *testing.T) { f.deleteService(e.with(t), aws.ToString(e.describeService("api").ServiceArn)) })
}

// target is a task's SRV target name.
func target(task ecstypes.Task) string {
	return strings.ToLower(taskID(aws.ToString(task.TaskArn))) + "." + apiName + "."
}

// entries are the SRV answers ("target:port") the tasks make.
func (f *flow) entries(t *testing.T, tasks []ecstypes.Task) []string {
	var out []string
	for _, task := range tasks {
		out = append(out, fmt.Sprintf("%s:%d", target(task), hostPort(t, task, f.cfg.port)))
	}
	return out
}

// waitTasksInDNS waits until the SRV answer is exactly the tasks' and
// checks their targets' A records (in the additional section and asked).
func (f *flow) waitTasksInDNS(e *env, tasks []ecstypes.Task) {
	e.t.Helper()
	// A new task's instance is UNHEALTHY until its first health check
	// passes (and while none is healthy, MULTIVALUE answers the unhealthy).
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range taskIDs(tasks) {
		for f.healthStatus(e, id) != sdtypes.HealthStatusHealthy {
			if time.Now().After(deadline) {
				e.t.Fatalf("instance %s not HEALTHY within 30s: %s", id, f.healthStatus(e, id))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	s := e.waitSRV(apiName, f.entries(e.t, tasks), 60*time.Second)
	// Cloud Map's SRV values: priority and weight 1, the record's TTL.
	for _, rr := range e.query(apiName, dns.TypeSRV, false).Answer {
		if srv, ok := rr.(*dns.SRV); !ok || srv.Priority != 1 || srv.Weight != 1 || srv.Hdr.Ttl != 10 {
			e.t.Errorf("SRV record %v: want priority 1, weight 1, TTL 10", rr)
		}
	}
	for _, task := range tasks {
		name := target(task)
		if got := s.adds[name]; !slices.Equal(got, []string{e.hostAddr}) {
			e.t.Errorf("additional A of %s: %v, want %s", name, got, e.hostAddr)
		}
		for _, tcp := range []bool{false, true} {
			r := e.query(name, dns.TypeA, tcp)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != e.hostAddr {
				e.t.Errorf("A %s (tcp %v): %v", name, tcp, r)
			}
		}
	}
}

// discover calls DiscoverInstances for the api service.
func (e *env) discover(in sd.DiscoverInstancesInput) *sd.DiscoverInstancesOutput {
	e.t.Helper()
	in.NamespaceName, in.ServiceName = aws.String(nsName), aws.String("api")
	out, err := e.sd.DiscoverInstances(e.ctx(), &in)
	if err != nil {
		e.t.Fatalf("DiscoverInstances: %v", err)
	}
	return out
}

func instanceIDs(out *sd.DiscoverInstancesOutput) []string {
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	slices.Sort(ids)
	return ids
}

func taskIDs(tasks []ecstypes.Task) []string {
	var ids []string
	for _, task := range tasks {
		ids = append(ids, taskID(aws.ToString(task.TaskArn)))
	}
	slices.Sort(ids)
	return ids
}

// checkDiscover checks DiscoverInstances for the running tasks (all
// healthy): ECS's attributes, the health filters, query and optional
// parameters, and that the revision moved since the last check.
func (f *flow) checkDiscover(e *env, tasks []ecstypes.Task) {
	t := e.t
	t.Helper()
	all := e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterAll})
	if got, want := instanceIDs(all), taskIDs(tasks); !slices.Equal(got, want) {
		t.Fatalf("DiscoverInstances ALL: %v, want %v", got, want)
	}
	rev := aws.ToInt64(all.InstancesRevision)
	dr, err := e.sd.DiscoverInstancesRevision(e.ctx(), &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String(nsName), ServiceName: aws.String("api")})
	if err != nil || aws.ToInt64(dr.InstancesRevision) != rev {
		t.Errorf("DiscoverInstancesRevision: %v %v, want %d", dr, err, rev)
	}
	if rev == 0 || rev == f.lastRevision {
		t.Errorf("InstancesRevision %d (before: %d): it did not change", rev, f.lastRevision)
	}
	f.lastRevision = rev
	byID := map[string]ecstypes.Task{}
	for _, task := range tasks {
		byID[taskID(aws.ToString(task.TaskArn))] = task
	}
	for _, inst := range all.Instances {
		task := byID[aws.ToString(inst.InstanceId)]
		want := map[string]string{
			"AWS_INSTANCE_IPV4": e.hostAddr, "AWS_INSTANCE_PORT": strconv.Itoa(hostPort(t, task, f.cfg.port)),
			"AVAILABILITY_ZONE": aws.ToString(task.AvailabilityZone), "REGION": testRegion, "ECS_CLUSTER_NAME": cluster,
			"ECS_SERVICE_NAME": "api", "ECS_TASK_DEFINITION_FAMILY": "api",
		}
		for k, v := range want {
			if inst.Attributes[k] != v {
				t.Errorf("instance %s attribute %s = %q, want %q (all: %v)", aws.ToString(inst.InstanceId), k, inst.Attributes[k], v, inst.Attributes)
			}
		}
		if !strings.HasPrefix(inst.Attributes["EC2_INSTANCE_ID"], "i-") {
			t.Errorf("instance %s: EC2_INSTANCE_ID %q", aws.ToString(inst.InstanceId), inst.Attributes["EC2_INSTANCE_ID"])
		}
		if inst.HealthStatus != sdtypes.HealthStatusHealthy || aws.ToString(inst.NamespaceName) != nsName || aws.ToString(inst.ServiceName) != "api" {
			t.Errorf("instance %+v", inst)
		}
	}
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterHealthy})); !slices.Equal(got, taskIDs(tasks)) {
		t.Errorf("DiscoverInstances HEALTHY: %v", got)
	}
	if got := e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterUnhealthy}); len(got.Instances) != 0 {
		t.Errorf("DiscoverInstances UNHEALTHY: %v", instanceIDs(got))
	}
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{QueryParameters: map[string]string{"ECS_SERVICE_NAME": "api"}})); !slices.Equal(got, taskIDs(tasks)) {
		t.Errorf("DiscoverInstances ECS_SERVICE_NAME=api: %v", got)
	}
	if got := e.discover(sd.DiscoverInstancesInput{QueryParameters: map[string]string{"ECS_SERVICE_NAME": "web"}}); len(got.Instances) != 0 {
		t.Errorf("DiscoverInstances ECS_SERVICE_NAME=web: %v", instanceIDs(got))
	}
	az := aws.ToString(tasks[0].AvailabilityZone)
	var inAZ []ecstypes.Task
	for _, task := range tasks {
		if aws.ToString(task.AvailabilityZone) == az {
			inAZ = append(inAZ, task)
		}
	}
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{QueryParameters: map[string]string{"AVAILABILITY_ZONE": az}})); !slices.Equal(got, taskIDs(inAZ)) {
		t.Errorf("DiscoverInstances AVAILABILITY_ZONE=%s: %v, want %v", az, got, taskIDs(inAZ))
	}
	// Optional parameters narrow the answer when some instance matches,
	// else they are ignored.
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{OptionalParameters: map[string]string{"AVAILABILITY_ZONE": az}})); !slices.Equal(got, taskIDs(inAZ)) {
		t.Errorf("DiscoverInstances optional AVAILABILITY_ZONE=%s: %v, want %v", az, got, taskIDs(inAZ))
	}
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{OptionalParameters: map[string]string{"AVAILABILITY_ZONE": "nowhere-1z"}})); !slices.Equal(got, taskIDs(tasks)) {
		t.Errorf("DiscoverInstances optional AVAILABILITY_ZONE=nowhere-1z: %v, want all", got)
	}
	if got := e.discover(sd.DiscoverInstancesInput{MaxResults: aws.Int32(1)}); len(got.Instances) != 1 {
		t.Errorf("DiscoverInstances MaxResults 1: %d instances", len(got.Instances))
	}
}

// scale sets the desired count and waits until the answers follow. The
// tasks the scheduler stops leave the answers before they stop (they
// drain for 3 s after SIGTERM).
func (f *flow) scale(e *env, n int32) {
	t := e.t
	before := e.runningTasks("api", int(e.describeService("api").DesiredCount), 10*time.Second)
	if _, err := e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("api"), DesiredCount: aws.Int32(n)}); err != nil {
		t.Fatal(err)
	}
	if int(n) < len(before) {
		// Wait for the answer to shrink, then check that the tasks that
		// left it have not stopped yet.
		deadline := time.Now().Add(30 * time.Second)
		for {
			s := parseSRV(e.query(apiName, dns.TypeSRV, false))
			if len(s.entries) == int(n) {
				var gone []string
				for _, task := range before {
					if !slices.ContainsFunc(s.entries, func(x string) bool { return strings.HasPrefix(x, target(task)+":") }) {
						gone = append(gone, aws.ToString(task.TaskArn))
					}
				}
				if len(gone) != len(before)-int(n) {
					t.Fatalf("SRV after scaling to %d: %v (tasks before: %v)", n, s.entries, f.entries(t, before))
				}
				for _, arn := range gone {
					if st := e.task(arn); aws.ToString(st.LastStatus) == "STOPPED" {
						t.Errorf("task %s is STOPPED already when it leaves the DNS answers", arn)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("SRV after scaling to %d: %v", n, s.entries)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	e.waitStable("api", 90*time.Second)
	tasks := e.runningTasks("api", int(n), 10*time.Second)
	f.waitTasksInDNS(e, tasks)
	f.checkDiscover(e, tasks)
	if int(n) < len(before) {
		e.waitEvent("api", 10*time.Second, "(service api) deregistered 1 instances in (service-registry "+f.arn+")")
	}
}

// healthStatus is GetInstancesHealthStatus of one instance.
func (f *flow) healthStatus(e *env, id string) sdtypes.HealthStatus {
	e.t.Helper()
	out, err := e.sd.GetInstancesHealthStatus(e.ctx(), &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(f.svcID)})
	if err != nil {
		e.t.Fatalf("GetInstancesHealthStatus: %v", err)
	}
	return out.Status[id]
}

// unhealthy makes a task's health check fail (/fail on its host port):
// its custom health goes UNHEALTHY and it leaves the answers (when another
// task is healthy; when none is, MULTIVALUE answers the unhealthy ones);
// /heal brings it back.
func (f *flow) unhealthy(e *env) {
	t := e.t
	tasks := e.runningTasks("api", int(e.describeService("api").DesiredCount), 10*time.Second)
	sick := tasks[0]
	id := taskID(aws.ToString(sick.TaskArn))
	base := fmt.Sprintf("http://%s/", net.JoinHostPort(e.hostAddr, strconv.Itoa(hostPort(t, sick, f.cfg.port))))
	revision := func() int64 {
		return aws.ToInt64(e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterAll}).InstancesRevision)
	}
	rev := revision()
	if code, body := get(t, base+"fail"); code != 200 {
		t.Fatalf("GET /fail: %d %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for f.healthStatus(e, id) != sdtypes.HealthStatusUnhealthy {
		if time.Now().After(deadline) {
			t.Fatalf("instance %s not UNHEALTHY within 30s: %s", id, f.healthStatus(e, id))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if h := e.task(aws.ToString(sick.TaskArn)).HealthStatus; h != ecstypes.HealthStatusUnhealthy {
		t.Errorf("task health %s while its instance is UNHEALTHY", h)
	}
	healthy := tasks[1:]
	if len(healthy) > 0 {
		e.waitSRV(apiName, f.entries(t, healthy), 10*time.Second)
	} else {
		// None healthy: the unhealthy records are answered.
		e.waitSRV(apiName, f.entries(t, tasks), 10*time.Second)
	}
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterUnhealthy})); !slices.Equal(got, []string{id}) {
		t.Errorf("DiscoverInstances UNHEALTHY: %v, want [%s]", got, id)
	}
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterHealthy})); !slices.Equal(got, taskIDs(healthy)) {
		t.Errorf("DiscoverInstances HEALTHY: %v, want %v", got, taskIDs(healthy))
	}
	want := taskIDs(healthy)
	if len(healthy) == 0 {
		want = []string{id}
	}
	if got := instanceIDs(e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterHealthyOrElseAll})); !slices.Equal(got, want) {
		t.Errorf("DiscoverInstances HEALTHY_OR_ELSE_ALL: %v, want %v", got, want)
	}
	e.waitEvent("api", 10*time.Second, "(service api) (task "+id+") is unhealthy in (service-registry "+f.arn+").")

	if code, body := get(t, base+"heal"); code != 200 {
		t.Fatalf("GET /heal: %d %s", code, body)
	}
	deadline = time.Now().Add(30 * time.Second)
	for f.healthStatus(e, id) != sdtypes.HealthStatusHealthy {
		if time.Now().After(deadline) {
			t.Fatalf("instance %s not HEALTHY again within 30s", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.waitSRV(apiName, f.entries(t, tasks), 10*time.Second)
	// Health changes do not move the instances' revision.
	if got := revision(); got != rev {
		t.Errorf("InstancesRevision %d after health changes, was %d", got, rev)
	}
}

// roll updates the service to a new revision of its task definition: the
// new tasks' records replace the old ones.
func (f *flow) roll(e *env) {
	t := e.t
	old := e.runningTasks("api", int(e.describeService("api").DesiredCount), 10*time.Second)
	td2 := e.appDef("api", f.cfg.mode, f.cfg.port, f.cfg.hostPort, "v2")
	if _, err := e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("api"), TaskDefinition: aws.String(td2)}); err != nil {
		t.Fatal(err)
	}
	svc := e.waitStable("api", 120*time.Second)
	if aws.ToString(svc.TaskDefinition) != td2 {
		t.Fatalf("service runs %s, want %s", aws.ToString(svc.TaskDefinition), td2)
	}
	tasks := e.runningTasks("api", len(old), 10*time.Second)
	for _, task := range tasks {
		if aws.ToString(task.TaskDefinitionArn) != td2 {
			t.Fatalf("task %s runs %s after the roll", aws.ToString(task.TaskArn), aws.ToString(task.TaskDefinitionArn))
		}
	}
	f.waitTasksInDNS(e, tasks)
	f.checkDiscover(e, tasks)
	for _, task := range old {
		if r := e.query(target(task), dns.TypeA, false); r.Rcode != dns.RcodeNameError {
			t.Errorf("A %s of an old task after the roll: %v", target(task), r)
		}
	}
}

// stopTask stops a task with StopTask: it leaves the answers while its
// container still runs (it drains for 3 s), before it is STOPPED; the
// scheduler's replacement takes its place.
func (f *flow) stopTask(e *env) {
	t := e.t
	tasks := e.runningTasks("api", int(e.describeService("api").DesiredCount), 10*time.Second)
	victim := tasks[0]
	arn := aws.ToString(victim.TaskArn)
	addr := net.JoinHostPort(e.hostAddr, strconv.Itoa(hostPort(t, victim, f.cfg.port)))
	rev := aws.ToInt64(e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterAll}).InstancesRevision)
	if _, err := e.ecs.StopTask(e.ctx(), &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String("disco test")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := parseSRV(e.query(apiName, dns.TypeSRV, false))
		if !slices.ContainsFunc(s.entries, func(x string) bool { return strings.HasPrefix(x, target(victim)+":") }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stopped task stays in the SRV answer: %v", s.entries)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := e.task(arn); aws.ToString(st.LastStatus) == "STOPPED" {
		t.Errorf("task %s is STOPPED already when it leaves the DNS answers", arn)
	}
	d := e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterAll})
	if slices.Contains(instanceIDs(d), taskID(arn)) || aws.ToInt64(d.InstancesRevision) <= rev {
		t.Errorf("after the deregistration: instances %v, revision %d (before %d)", instanceIDs(d), aws.ToInt64(d.InstancesRevision), rev)
	}
	// Its container still answers (draining).
	if code, _ := get(t, "http://"+addr+"/health"); code != 200 {
		t.Errorf("the stopping task's container: GET /health %d", code)
	}
	deadline = time.Now().Add(30 * time.Second)
	for aws.ToString(e.task(arn).LastStatus) != "STOPPED" {
		if time.Now().After(deadline) {
			t.Fatalf("task %s not STOPPED within 30s", arn)
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.waitStable("api", 90*time.Second)
	now := e.runningTasks("api", len(tasks), 10*time.Second)
	if slices.Contains(taskIDs(now), taskID(arn)) {
		t.Fatalf("the stopped task is still running")
	}
	f.waitTasksInDNS(e, now)
	f.checkDiscover(e, now)
}

// taskResolves runs a "web" task whose resolver is the task endpoint: it
// resolves the api service's SRV record and fetches from the api task
// through the target and port it got.
func (f *flow) taskResolves(e *env) {
	t := e.t
	api := e.runningTasks("api", int(e.describeService("api").DesiredCount), 10*time.Second)
	webPort, webHost := f.cfg.webPort, f.cfg.webPort
	if webPort == 0 {
		webPort, webHost = 8081, 0
	}
	td := e.appDef("web", f.cfg.mode, webPort, webHost, "web")
	out, err := e.ecs.RunTask(e.ctx(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(td)})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("run web: %v %+v", err, out)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.ecs.StopTask(c, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn)})
	})
	deadline := time.Now().Add(60 * time.Second)
	var web ecstypes.Task
	for {
		web = e.task(arn)
		if aws.ToString(web.LastStatus) == "RUNNING" {
			break
		}
		if aws.ToString(web.LastStatus) == "STOPPED" || time.Now().After(deadline) {
			t.Fatalf("web task %s: %s (%s)", arn, aws.ToString(web.LastStatus), aws.ToString(web.StoppedReason))
		}
		time.Sleep(200 * time.Millisecond)
	}
	base := fmt.Sprintf("http://%s/", net.JoinHostPort(e.hostAddr, strconv.Itoa(hostPort(t, web, webPort))))
	waitUp(t, base+"health")

	var ans struct {
		SRV []struct {
			Target string `json:"target"`
			Port   int    `json:"port"`
		} `json:"srv"`
		Addresses []string `json:"addresses"`
	}
	code, body := get(t, base+"resolve?"+url.Values{"name": {apiName}, "type": {"SRV"}}.Encode())
	if code != 200 {
		t.Fatalf("web task: resolve SRV %s: %d %s", apiName, code, body)
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatalf("resolve answer %q: %v", body, err)
	}
	var got []string
	for _, s := range ans.SRV {
		got = append(got, fmt.Sprintf("%s:%d", s.Target, s.Port))
	}
	slices.Sort(got)
	if want := slices.Sorted(slices.Values(f.entries(t, api))); !slices.Equal(got, want) {
		t.Fatalf("web task: SRV %s: %v, want %v", apiName, got, want)
	}
	// The target's address, as the task resolves it.
	tgt := strings.TrimSuffix(ans.SRV[0].Target, ".")
	code, body = get(t, base+"resolve?"+url.Values{"name": {tgt}, "type": {"A"}}.Encode())
	ans.Addresses = nil
	if code != 200 || json.Unmarshal([]byte(body), &ans) != nil || !slices.Equal(ans.Addresses, []string{e.hostAddr}) {
		t.Fatalf("web task: resolve A %s: %d %s", tgt, code, body)
	}
	// Fetch from the api task by name and port.
	u := fmt.Sprintf("http://%s/", net.JoinHostPort(tgt, strconv.Itoa(ans.SRV[0].Port)))
	code, body = get(t, base+"fetch?"+url.Values{"url": {u}}.Encode())
	if code != 200 || !strings.Contains(body, `"VERSION":"v2"`) {
		t.Fatalf("web task: fetch %s: %d %s", u, code, body)
	}
	// A load balancer's DNSName, as the task resolves it.
	lb, err := e.elb.CreateLoadBalancer(e.ctx(), &elb.CreateLoadBalancerInput{Name: aws.String("web-front"),
		Type: elbtypes.LoadBalancerTypeEnumApplication, Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatalf("create load balancer: %v", err)
	}
	lbName := aws.ToString(lb.LoadBalancers[0].DNSName)
	pool := netip.MustParsePrefix(e.pool)
	deadline = time.Now().Add(20 * time.Second)
	for {
		code, body = get(t, base+"resolve?"+url.Values{"name": {lbName}, "type": {"A"}}.Encode())
		ans.Addresses = nil
		if code == 200 && json.Unmarshal([]byte(body), &ans) == nil && len(ans.Addresses) == 1 && pool.Contains(netip.MustParseAddr(ans.Addresses[0])) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web task: resolve A %s: %d %s", lbName, code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A name that does not exist in the namespace fails to resolve.
	if code, body := get(t, base+"resolve?"+url.Values{"name": {"nothing." + nsName}, "type": {"A"}}.Encode()); code != 502 {
		t.Errorf("web task: resolve nothing.%s: %d %s", nsName, code, body)
	}
}

// waitUp waits until GET u answers 200.
func waitUp(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up within 20s: %v", u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
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

// taskExits makes a task's container exit on its own (/exit): the task is
// deregistered when it stops, and its replacement registered.
func (f *flow) taskExits(e *env) {
	t := e.t
	tasks := e.runningTasks("api", int(e.describeService("api").DesiredCount), 10*time.Second)
	victim := tasks[0]
	arn := aws.ToString(victim.TaskArn)
	u := fmt.Sprintf("http://%s/exit?code=3", net.JoinHostPort(e.hostAddr, strconv.Itoa(hostPort(t, victim, f.cfg.port))))
	if code, body := get(t, u); code != 200 {
		t.Fatalf("GET /exit: %d %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for aws.ToString(e.task(arn).LastStatus) != "STOPPED" {
		if time.Now().After(deadline) {
			t.Fatalf("task %s not STOPPED within 30s after its container exited", arn)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := e.query(target(victim), dns.TypeA, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("A %s of the stopped task: %v", target(victim), r)
	}
	e.waitStable("api", 90*time.Second)
	now := e.runningTasks("api", len(tasks), 10*time.Second)
	if slices.Contains(taskIDs(now), taskID(arn)) {
		t.Fatalf("the exited task is still running")
	}
	f.waitTasksInDNS(e, now)
	f.checkDiscover(e, now)
}

// deleteService deletes the ECS service (force): its tasks are
// deregistered, the name goes from DNS, ListServicesByNamespace no longer
// lists it, and the Cloud Map service, empty again, can be deleted.
func (f *flow) deleteService(e *env, svcARN string) {
	t := e.t
	if _, err := e.ecs.DeleteService(e.ctx(), &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("api"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.query(apiName, dns.TypeSRV, false)
		if r.Rcode == dns.RcodeNameError && hasSOA(r, nsName+".") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SRV %s after DeleteService: %v", apiName, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.discover(sd.DiscoverInstancesInput{HealthStatus: sdtypes.HealthStatusFilterAll}); len(got.Instances) != 0 {
		t.Errorf("instances after DeleteService: %v", instanceIDs(got))
	}
	ls, err := e.ecs.ListServicesByNamespace(e.ctx(), &ecs.ListServicesByNamespaceInput{Namespace: aws.String(nsName)})
	if err != nil || slices.Contains(ls.ServiceArns, svcARN) {
		t.Errorf("ListServicesByNamespace after DeleteService: %v %v", ls, err)
	}
	if _, err := e.sd.DeleteService(e.ctx(), &sd.DeleteServiceInput{Id: aws.String(f.svcID)}); err != nil {
		t.Errorf("delete the Cloud Map service: %v", err)
	}
}
