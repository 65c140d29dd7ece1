package awsvpc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
)

// devNS is `berth dev` as root on Docker in a network namespace of the
// test's (with its own 169.254.170.2), for the README's quickstarts that
// need task networking: task DNS and the task endpoint on, berth's DNS on
// a free port, nothing forwarded, an account of its own so that its
// containers are told from other tests'.
type devNS struct {
	t                          *testing.T
	dev                        *proc
	ns, repoRoot, account      string
	endpoint, dnsHost, dnsPort string
	ctx                        context.Context
	env                        []string
}

// startDevNS checks for Docker and the AWS CLI, and starts berth dev; its
// commands run within timeout.
func startDevNS(t *testing.T, timeout time.Duration) *devNS {
	t.Helper()
	cli := dockertest.RequireDocker(t)
	if _, err := os.Stat(awsBin); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("%s not found (BERTH_REQUIRE_AWSCLI=1)", awsBin)
		}
		t.Skipf("%s not found", awsBin)
	}
	_, here, _, _ := runtime.Caller(0)
	d := &devNS{t: t, repoRoot: filepath.Join(filepath.Dir(here), "..", "..", "..")}
	seg := newSegment(t)
	d.ns, _ = seg.host(1)
	dir := t.TempDir()
	d.account = fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)
	// The test's tasks and pause containers, once berth dev has stopped
	// (cleanups run last-in first-out): while it runs, its services
	// would replace what is removed.
	// A container whose creation the engine was still carrying out when
	// berth dev stopped shows up a moment later: remove until a listing
	// finds none.
	t.Cleanup(func() {
		ctx := context.Background()
		filter := make(client.Filters).Add("label", driver.LabelCluster+"=arn:aws:ecs:us-east-1:"+d.account+":cluster/default")
		for range 10 {
			list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
			if err != nil || len(list.Items) == 0 {
				return
			}
			for _, ct := range list.Items {
				cli.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true})
			}
			time.Sleep(300 * time.Millisecond)
		}
	})
	d.dev = start(t, "berth dev", d.ns, "dev", "--data-dir", filepath.Join(dir, "berth"), "--listen", "127.0.0.1:0",
		"--runtime", "docker", "--account-id", d.account, "--dns-listen", "127.0.0.1:0", "--dns-forward", "none", "--task-dns", "on")
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(d.dev.out.String(), "Use it with the AWS CLI") {
		select {
		case <-d.dev.done:
			t.Fatalf("berth dev exited:\n%s", d.dev.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("berth dev printed no banner:\n%s", d.dev.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := regexp.MustCompile(`endpoint\s+(http://\S+)`).FindStringSubmatch(d.dev.out.String())
	dns := regexp.MustCompile(`(?m)^\s+dns\s+(\S+):(\d+)\s`).FindStringSubmatch(d.dev.out.String())
	if m == nil || dns == nil {
		t.Fatalf("no endpoint or DNS address in the banner:\n%s", d.dev.out.String())
	}
	d.endpoint, d.dnsHost, d.dnsPort = m[1], dns[1], dns[2]
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	d.ctx = ctx
	d.env = append(cleanEnv(os.Environ()), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	return d
}

// readme fails unless the README still says each of lines.
func (d *devNS) readme(section string, lines ...string) {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.repoRoot, "README.md"))
	if err != nil {
		d.t.Fatal(err)
	}
	for _, line := range lines {
		if !strings.Contains(string(b), line) {
			d.t.Fatalf("the README's %s quickstart no longer says %q", section, line)
		}
	}
}

// run runs a command in the namespace, from the repository's root.
func (d *devNS) run(name string, args ...string) (string, error) {
	return d.runEnv(nil, name, args...)
}

// runEnv runs a command in the namespace with extra environment.
func (d *devNS) runEnv(extra []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(d.ctx, "nsenter", append([]string{"--net=/var/run/netns/" + d.ns, name}, args...)...)
	cmd.Dir = d.repoRoot
	cmd.Env = append(append([]string{}, d.env...), extra...)
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// must is run, failing the test on an error.
func (d *devNS) must(name string, args ...string) string {
	d.t.Helper()
	out, err := d.run(name, args...)
	if err != nil {
		d.t.Fatalf("%s %s: %v\n%s\nberth dev:\n%s", name, strings.Join(args, " "), err, out, tail(d.dev.out.String(), 6000))
	}
	return out
}

// aws runs the AWS CLI against berth dev.
func (d *devNS) aws(args ...string) string {
	d.t.Helper()
	return d.must(awsBin, append([]string{"--endpoint-url", d.endpoint}, args...)...)
}

// awsBin is Debian's AWS CLI (package awscli).
const awsBin = "/usr/bin/aws"
