package e2e

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/demoimage"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/testimage"
	"berth.dev/berth/internal/shape"
)

// repoRoot is the repository root, from this package's directory.
const repoRoot = "../.."

// TestExamples_DemoOnDocker follows the README's path for a machine with
// Docker and no registry: berth dev makes the demo image from its own
// binary (demoimage.Ensure), then examples/demo.json runs with `berth register` and `berth run`
// (RUNNING, then HEALTHY through the image's health check), and
// examples/demo-service.yaml deploys with `berth deploy` (exit 0, COMPLETED).
func TestExamples_DemoOnDocker(t *testing.T) {
	docker := dockertest.RequireDocker(t)
	const tag = "berth-demo:1" // what the examples name
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if !imageExists(c, t, docker, tag) {
		t.Cleanup(func() {
			c, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := testimage.Remove(c, tag); err != nil {
				t.Errorf("remove %s: %v", tag, err)
			}
		})
	}
	if _, err := demoimage.Ensure(c, docker, tag, berthBin, io.Discard); err != nil {
		t.Fatalf("make the demo image as berth dev does: %v", err)
	}
	if !imageExists(c, t, docker, tag) {
		t.Fatalf("demoimage.Ensure made no image %s", tag)
	}

	te := newServiceEnv(t, deploy.Config{}, agentOptions{})
	cl := "--cluster=" + te.cluster
	if out := te.mustBerth("register", filepath.Join(repoRoot, "examples", "demo.json")); !strings.Contains(out, "demo:1") {
		t.Fatalf("register printed %q, want demo:1 in it", out)
	}
	var ran shape.RunTaskResponse // -o json prints ECS's wire shape
	if err := json.Unmarshal([]byte(te.mustBerth("run", "demo", cl, "--wait", "-o", "json")), &ran); err != nil || len(ran.Tasks) != 1 {
		t.Fatalf("run demo -o json: %v, %d tasks", err, len(ran.Tasks))
	}
	arn := aws.ToString(ran.Tasks[0].TaskArn)
	task := te.waitTask(arn, "HEALTHY", func(task types.Task) bool { return task.HealthStatus == types.HealthStatusHealthy })
	if len(task.Containers) != 1 || len(task.Containers[0].NetworkBindings) == 0 {
		t.Fatalf("demo task: want one container with network bindings: %s", taskString(task))
	}
	for _, b := range task.Containers[0].NetworkBindings { // one per address family the engine bound
		if aws.ToInt32(b.ContainerPort) != 8080 || aws.ToInt32(b.HostPort) < 1024 {
			t.Errorf("demo binding %s:%d -> %d, want 8080 on a dynamic host port", aws.ToString(b.BindIP), aws.ToInt32(b.HostPort), aws.ToInt32(b.ContainerPort))
		}
	}
	te.mustBerth("stop", lastSegment(arn), cl)

	// The manifest names cluster default; this server's agents are in te.cluster.
	m, err := os.ReadFile(filepath.Join(repoRoot, "examples", "demo-service.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m), "\ncluster: default\n") {
		t.Fatalf("examples/demo-service.yaml no longer says cluster: default")
	}
	manifest := filepath.Join(t.TempDir(), "demo-service.yaml")
	if err := os.WriteFile(manifest, []byte(strings.Replace(string(m), "\ncluster: default\n", "\ncluster: "+te.cluster+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	dc, dcancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer dcancel()
	if r := te.berth(dc, "deploy", "-f", manifest); r.code != 0 {
		t.Fatalf("berth deploy -f examples/demo-service.yaml: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	s := te.service("demo")
	wantSettled(t, s, aws.ToString(s.TaskDefinition), 2)
	for _, task := range te.serviceTasks("demo", types.DesiredStatusRunning) {
		if task.HealthStatus != types.HealthStatusHealthy {
			t.Errorf("demo service task not HEALTHY after the deployment completed: %s", taskString(task))
		}
	}
}

func imageExists(c context.Context, t *testing.T, docker *client.Client, tag string) bool {
	t.Helper()
	_, err := docker.ImageInspect(c, tag)
	if err != nil && !cerrdefs.IsNotFound(err) {
		t.Fatalf("inspect image %s: %v", tag, err)
	}
	return err == nil
}
