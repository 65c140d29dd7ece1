package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/e2e/testimage"
	"berth.dev/berth/internal/pause"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// agentEnv makes the test binary act as a short-lived agent (see
// TestContainersOutliveTheAgent): it creates and starts a container and
// exits without stopping it.
const agentEnv = "BERTH_DOCKER_TEST_AGENT"

// shared is the test application's image, built once for this test binary
// and removed when it ends.
var shared struct {
	once sync.Once
	tag  string
	err  error
}

// pauseTag is the pause image of this test binary's drivers, made from
// the test binary itself (TestMain runs pause.Run when asked to, as berth
// does) and removed when it ends.
var pauseTag = "berth-pause:test-" + randomHex(4)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == pause.Command {
		os.Exit(pause.Run(os.Stdout))
	}
	if spec := os.Getenv(agentEnv); spec != "" {
		os.Exit(agent(spec))
	}
	code := m.Run()
	if err := testimage.Remove(context.Background(), pauseTag); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if shared.tag != "" {
		if err := testimage.Remove(context.Background(), shared.tag); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// agent creates and starts the container the JSON spec describes and prints
// its ID.
func agent(js string) int {
	var spec driver.Spec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	d, err := docker.New(ctx, docker.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	h, err := d.Create(ctx, spec)
	if err == nil {
		_, err = d.Start(ctx, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println(h.ID)
	return 0
}

// image requires Docker and returns the test application's image tag.
func image(t *testing.T) string {
	t.Helper()
	dockertest.RequireDocker(t)
	shared.once.Do(func() {
		tag := "berth-testapp:docker-driver-" + randomHex(4)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared.err = testimage.Build(ctx, tag)
		if shared.err == nil {
			shared.tag = tag
		}
	})
	if shared.err != nil {
		t.Fatalf("build test image: %v", shared.err)
	}
	return shared.tag
}

// env is what most tests need: a context, a driver, the raw client and the image.
type env struct {
	t     *testing.T
	ctx   context.Context
	d     *docker.Driver
	cli   *client.Client
	image string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cli := dockertest.RequireDocker(t)
	img := image(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, d: newDriver(t, ctx, t.TempDir()), cli: cli, image: img}
}

func newDriver(t *testing.T, ctx context.Context, stateDir string) *docker.Driver {
	t.Helper()
	d, err := docker.New(ctx, docker.Options{StateDir: stateDir, PauseImage: pauseTag})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// spec is a container of the test application with these arguments.
func (e *env) spec(args ...string) driver.Spec {
	return driver.Spec{
		Name:    "berth-test-" + randomHex(6),
		Image:   e.image,
		Command: args,
		Labels:  map[string]string{driver.LabelContainerName: "app", driver.LabelTaskARN: "arn:aws:ecs:local:0:task/test/" + randomHex(4)},
	}
}

// create creates the container and removes it (forcibly) when the test ends.
func (e *env) create(spec driver.Spec) driver.Handle {
	e.t.Helper()
	h, err := e.d.Create(e.ctx, spec)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	e.removeAtEnd(h.ID)
	return h
}

func (e *env) removeAtEnd(id string) {
	e.t.Cleanup(func() {
		_, err := e.cli.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			e.t.Errorf("remove container: %v", err)
		}
	})
}

// run creates and starts the container.
func (e *env) run(spec driver.Spec) (driver.Handle, driver.Status) {
	e.t.Helper()
	h := e.create(spec)
	st, err := e.d.Start(e.ctx, h)
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return h, st
}

func (e *env) wait(h driver.Handle) driver.Status {
	e.t.Helper()
	st, err := e.d.Wait(e.ctx, h)
	if err != nil {
		e.t.Fatalf("wait: %v", err)
	}
	return st
}

// get polls url until it answers (the server may still be starting) and
// returns the status code and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// runSelf runs this test binary with extra environment and returns its
// standard output.
func runSelf(ctx context.Context, env ...string) (string, error) {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

// readLogs returns the container's output as "stream: text" lines.
func readLogs(t *testing.T, e *env, h driver.Handle, follow bool) string {
	t.Helper()
	s, err := e.d.Logs(e.ctx, h, follow)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	defer s.Close()
	var b strings.Builder
	for {
		l, err := s.Next()
		if errors.Is(err, io.EOF) {
			return b.String()
		}
		if err != nil {
			t.Fatalf("logs: %v", err)
		}
		fmt.Fprintf(&b, "%s: %s\n", l.Stream, l.Text)
	}
}
