package awsvpc

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sys/unix"
)

const (
	testKeyID  = "AKIAAWSVPCTEST000001"
	testSecret = "awsvpc-test-secret-0000000000000000000000"
	serverAddr = "10.251.0.1"
	region     = "us-east-1"
)

// proc is a berth process in a namespace.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs berth with args in network namespace ns; the test's end
// stops it. nsenter enters the network namespace alone: `ip netns exec`
// would also give the process a mount namespace of its own, and the
// process runtime's namespace mounts would end with the process.
func start(t *testing.T, name, ns string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{"--net=/var/run/netns/" + ns, berthBin}, args...)...)
	cmd.Env = append(os.Environ(), "BERTH_ROOT_ACCESS_KEY_ID="+testKeyID, "BERTH_ROOT_SECRET_ACCESS_KEY="+testSecret)
	p := &proc{name: name, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(p.out.String(), 6000))
		}
	})
	return p
}

// stop ends the process with SIGTERM (SIGKILL after 20 s) and waits.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// cluster is a server and its agents, each in a host namespace of seg.
type cluster struct {
	t       *testing.T
	seg     *segment
	srvNS   string
	server  *proc
	ecs     *ecs.Client
	agents  map[int]*agentHost
	account string // unique per test: its containers carry its cluster ARN
	runtime string // of the agents: process or docker
}

type agentHost struct {
	ns, addr, dir string
	proc          *proc
	args          []string
}

// newCluster starts a server (extra: its flags) on host 1 of a new segment.
func newCluster(t *testing.T, rt string, extra ...string) *cluster {
	t.Helper()
	seg := newSegment(t)
	ns, _ := seg.host(1)
	c := &cluster{t: t, seg: seg, srvNS: ns, agents: map[int]*agentHost{}, runtime: rt,
		account: fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)}
	dir := t.TempDir()
	args := append([]string{"server", "--data-dir", dir, "--listen", serverAddr + ":4566", "--region", region,
		"--account-id", c.account, "--task-settle-time", "1s", "--dns-forward", "none"}, extra...)
	c.server = start(t, "server", ns, args...)
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DialContext = dialer(ns) })
	c.ecs = ecs.New(ecs.Options{
		Region: region, BaseEndpoint: aws.String("http://" + serverAddr + ":4566"), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	})
	c.eventually(30*time.Second, "the server answers", func() error {
		_, err := c.ecs.ListClusters(context.Background(), &ecs.ListClustersInput{})
		return err
	})
	return c
}

// agent starts an agent with the cluster's runtime on host n (n ≥ 2).
func (c *cluster) agent(n int, extra ...string) *agentHost {
	c.t.Helper()
	ns, addr := c.seg.host(n)
	dir := c.t.TempDir()
	c.t.Cleanup(func() { unmountUnder(processNetNS(dir)) }) // before the TempDir goes
	h := &agentHost{ns: ns, addr: addr, dir: dir}
	h.args = append([]string{"agent", "--server", "http://" + serverAddr + ":4566", "--data-dir", dir, "--region", region,
		"--runtime", c.runtime, "--image-pull-behavior", "prefer-cached", "--task-network", "on", "--host-address", addr, "--stop-timeout", "2s", "--log-level", "debug",
		"--dns-forward", "none"}, extra...)
	h.proc = start(c.t, fmt.Sprintf("agent %d", n), ns, h.args...)
	c.agents[n] = h
	return h
}

// restart stops an agent and starts it again on the same data dir.
func (c *cluster) restart(n int) {
	c.t.Helper()
	h := c.agents[n]
	h.proc.stop()
	h.proc = start(c.t, fmt.Sprintf("agent %d (again)", n), h.ns, h.args...)
}

// processNetNS is where the process runtime of an agent with data dir dir
// mounts its sandboxes' namespaces.
func processNetNS(dir string) string { return filepath.Join(dir, "runtime", "process", "netns") }

// unmountUnder unmounts what a process runtime left mounted in netnsDir
// (its sandboxes' namespaces and the directory itself).
func unmountUnder(netnsDir string) {
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		unix.Unmount(filepath.Join(netnsDir, e.Name()), unix.MNT_DETACH)
	}
	unix.Unmount(netnsDir, unix.MNT_DETACH)
}

// eventually calls fn until it succeeds or d passes.
func (c *cluster) eventually(d time.Duration, what string, fn func() error) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	var err error
	for time.Now().Before(deadline) {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%s: not within %s: %v", what, d, err)
}

// instances waits until n instances are registered and connected, and
// returns their ARNs by host address.
func (c *cluster) instances(n int) map[string]string {
	c.t.Helper()
	out := map[string]string{}
	c.eventually(60*time.Second, fmt.Sprintf("%d connected instances", n), func() error {
		list, err := c.ecs.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{})
		if err != nil {
			return err
		}
		if len(list.ContainerInstanceArns) < n {
			return fmt.Errorf("%d instances", len(list.ContainerInstanceArns))
		}
		desc, err := c.ecs.DescribeContainerInstances(context.Background(), &ecs.DescribeContainerInstancesInput{ContainerInstances: list.ContainerInstanceArns})
		if err != nil {
			return err
		}
		for _, ci := range desc.ContainerInstances {
			if !ci.AgentConnected {
				return fmt.Errorf("%s not connected", aws.ToString(ci.ContainerInstanceArn))
			}
			for _, a := range ci.Attributes {
				if aws.ToString(a.Name) == "berth.host-address" {
					out[aws.ToString(a.Value)] = aws.ToString(ci.ContainerInstanceArn)
				}
			}
		}
		if len(out) < n {
			return fmt.Errorf("%d instances with a host address", len(out))
		}
		return nil
	})
	return out
}

// task describes one task.
func (c *cluster) task(arn string) types.Task {
	c.t.Helper()
	out, err := c.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: []string{arn}})
	if err != nil || len(out.Tasks) != 1 {
		c.t.Fatalf("describe %s: %v %+v", arn, err, out)
	}
	return out.Tasks[0]
}

// waitStatus waits until every task has lastStatus status.
func (c *cluster) waitStatus(status string, arns ...string) {
	c.t.Helper()
	c.eventually(90*time.Second, "tasks "+status, func() error {
		out, err := c.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: arns})
		if err != nil {
			return err
		}
		for _, t := range out.Tasks {
			if aws.ToString(t.LastStatus) != status {
				return fmt.Errorf("%s is %s (%s)", aws.ToString(t.TaskArn), aws.ToString(t.LastStatus), aws.ToString(t.StoppedReason))
			}
		}
		return nil
	})
}

// detail is an ENI attachment detail of a task.
func detail(t types.Task, name string) string {
	for _, at := range t.Attachments {
		for _, d := range at.Details {
			if aws.ToString(d.Name) == name {
				return aws.ToString(d.Value)
			}
		}
	}
	return ""
}

// get fetches http://addr/ from inside namespace ns.
func get(ns, addr string) (string, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dialer(ns), DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(b.String()))
	}
	return b.String(), nil
}
