package agent

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver/fakedriver"
)

// fakeTaskNetwork records what the agent asks of the host's task network;
// at each Detach it notes the status the server had for the task, so a test
// can tell that the interface was gone before the server heard STOPPED.
type fakeTaskNetwork struct {
	srv *fakeServer

	mu         sync.Mutex
	configured []agentproto.HostNetwork
	attached   map[string]string // task ID → namespace path
	attaches   int
	detaches   []string // the server's status at each detach
	failAttach error
}

func newFakeTaskNetwork(srv *fakeServer) *fakeTaskNetwork {
	return &fakeTaskNetwork{srv: srv, attached: map[string]string{}}
}

func (f *fakeTaskNetwork) Configure(_ context.Context, n agentproto.HostNetwork) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configured = append(f.configured, n)
	return nil
}

func (f *fakeTaskNetwork) Attach(_ context.Context, id, ns string, n agentproto.TaskNetwork) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attaches++
	if f.failAttach != nil {
		return f.failAttach
	}
	if ns == "" || n.Address == "" {
		return errors.New("attach without a namespace or address")
	}
	f.attached[id] = ns
	return nil
}

func (f *fakeTaskNetwork) Detach(_ context.Context, id string) error {
	status := f.srv.last("arn:aws:ecs:us-east-1:000000000000:task/default/" + id)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.attached, id)
	f.detaches = append(f.detaches, status)
	return nil
}

func (f *fakeTaskNetwork) Sweep(context.Context, []string) error { return nil }

// vpcTask is app(n, images...) in network mode awsvpc.
func vpcTask(n int, images ...string) agentproto.Task {
	t := app(n, images...)
	t.Definition.NetworkMode = "awsvpc"
	t.Network = &agentproto.TaskNetwork{Address: "10.200.0.2/24", Gateway: "10.200.0.1", PrivateDNSName: "ip-10-200-0-2.ec2.internal"}
	return t
}

func statuses(reports []string) string { return strings.Join(slices.Compact(reports), " ") }

func (s *fakeServer) statusesOf(arn string) []string {
	var out []string
	for _, r := range s.taskReports(arn) {
		out = append(out, aws.ToString(r.Status))
	}
	return out
}

// An awsvpc task gets its sandbox and interface before any container, runs
// its containers in the sandbox, and loses both before it reports STOPPED:
// PROVISIONING, PENDING, RUNNING, DEPROVISIONING, STOPPED.
func TestTaskNetwork_Lifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		tn := newFakeTaskNetwork(h.srv)
		h.cfg.TaskNetwork = tn
		ta := h.start()
		task := vpcTask(1, "web", "sidecar")
		h.srv.run(task)
		ta.settle()
		if got := h.srv.last(task.TaskArn); got != "RUNNING" {
			t.Fatalf("server has %s, want RUNNING", got)
		}
		sbs, _ := h.rt.ListSandboxes(context.Background())
		if len(sbs) != 1 || sbs[0].Labels["com.amazonaws.ecs.task-arn"] != task.TaskArn {
			t.Fatalf("sandboxes %+v, want one for the task", sbs)
		}
		tn.mu.Lock()
		ns := tn.attached[taskID(task.TaskArn)]
		tn.mu.Unlock()
		if ns != sbs[0].NetNSPath {
			t.Fatalf("attached in %q, want the sandbox's %q", ns, sbs[0].NetNSPath)
		}
		if creates := h.rt.Calls(fakedriver.OpCreateSandbox, fakedriver.OpCreate); len(creates) != 3 || creates[0].Op != fakedriver.OpCreateSandbox {
			t.Fatalf("runtime calls %+v: the sandbox first, then the two containers", creates)
		}
		h.srv.stopTask(task.TaskArn)
		ta.settle()
		// The reporter sends the latest status: PENDING and DEPROVISIONING
		// may be overtaken before they are sent.
		if got := statuses(h.srv.statusesOf(task.TaskArn)); !regexp.MustCompile(`^PROVISIONING (PENDING )?RUNNING (DEPROVISIONING )?STOPPED$`).MatchString(got) {
			t.Errorf("reports %s", got)
		}
		tn.mu.Lock()
		detaches := slices.Clone(tn.detaches)
		tn.mu.Unlock()
		if len(detaches) != 1 || detaches[0] == "STOPPED" {
			t.Errorf("detaches %v: once, before the server had STOPPED", detaches)
		}
		if sbs, _ := h.rt.ListSandboxes(context.Background()); len(sbs) != 0 {
			t.Errorf("sandboxes left: %+v", sbs)
		}
	})
}

// A task whose interface cannot be made stops as a task that failed to
// start, with the reason on its containers, and leaves no sandbox.
func TestTaskNetwork_ProvisioningFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		tn := newFakeTaskNetwork(h.srv)
		tn.failAttach = errors.New("no such bridge")
		h.cfg.TaskNetwork = tn
		ta := h.start()
		task := vpcTask(2, "web")
		h.srv.run(task)
		ta.settle()
		rep := h.srv.lastReport(task.TaskArn)
		if aws.ToString(rep.Status) != "STOPPED" || len(rep.Containers) != 1 ||
			!strings.Contains(aws.ToString(rep.Containers[0].Reason), "CannotCreateContainerError: task network: no such bridge") {
			t.Fatalf("last report %s %+v", aws.ToString(rep.Status), rep.Containers)
		}
		if n := h.calls(fakedriver.OpCreate); n != 0 {
			t.Errorf("%d containers created without a network", n)
		}
		if sbs, _ := h.rt.ListSandboxes(context.Background()); len(sbs) != 0 {
			t.Errorf("sandboxes left: %+v", sbs)
		}
	})
}

// A restarted agent attaches its running awsvpc tasks again in the sandbox
// they have (no second sandbox), and applies the task network it kept
// before the server answers.
func TestTaskNetwork_AdoptedAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		tn := newFakeTaskNetwork(h.srv)
		h.cfg.TaskNetwork = tn
		ta := h.start()
		ta.a.configureNetwork(context.Background(), agentproto.HostNetwork{Range: "10.200.0.0/16", Subnet: "10.200.0.0/24", Peers: []agentproto.Peer{}}, true)
		task := vpcTask(3, "web")
		h.srv.run(task)
		ta.settle()
		ta.stop()
		h.srv.setDown(true)
		tn.mu.Lock()
		before, configured := tn.attaches, len(tn.configured)
		tn.mu.Unlock()
		ta = h.startAsync()
		time.Sleep(time.Second)
		synctest.Wait()
		tn.mu.Lock()
		after, reconfigured := tn.attaches, len(tn.configured)
		tn.mu.Unlock()
		if after != before+1 {
			t.Errorf("attaches %d → %d, want one more for the adopted task", before, after)
		}
		if reconfigured != configured+1 {
			t.Errorf("the kept task network was not applied at start (%d → %d)", configured, reconfigured)
		}
		if n := h.calls(fakedriver.OpCreateSandbox); n != 1 {
			t.Errorf("%d sandboxes created, want the first only", n)
		}
		h.srv.setDown(false)
		ta.settle()
		if got := h.srv.last(task.TaskArn); got != "RUNNING" {
			t.Errorf("server has %s after the restart", got)
		}
	})
}
