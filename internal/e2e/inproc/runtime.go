package inproc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/driver/process"
	"berth.dev/berth/internal/e2e/testimage"
	_ "berth.dev/berth/internal/shimentry" // the test binary is the process runtime's shim
)

// The runtimes.
const (
	Docker  = "docker"
	Process = "process"
)

// labelAgent labels each container with the instance ID of the agent
// that created it (as internal/agent does).
const labelAgent = "berth.agent"

// NoImage is the image of task definitions in tests that run no task.
const NoImage = "berth-testapp:none"

// App is the test application for runtime rt: its image (for Docker a tag
// of the test's own, removed when the test ends; for the process runtime
// a name only) and its program (the path in the image; for the process
// runtime the binary built on this host). For "" it is NoImage and no
// program. On the process runtime it skips the test off Linux.
func App(t testing.TB, rt string) (image, bin string) {
	t.Helper()
	switch rt {
	case Docker:
		return dockertest.TestappImage(t), testimage.BinaryInImage
	case Process:
		if runtime.GOOS != "linux" {
			t.Skip("the process runtime runs on Linux")
		}
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bin, err := testimage.BinaryPath(c)
		if err != nil {
			t.Fatalf("build test app: %v", err)
		}
		return "berth-testapp:process", bin
	case "":
		return NoImage, ""
	}
	t.Fatalf("no runtime %q", rt)
	return "", ""
}

// NewRuntime returns a runtime of kind rt (Docker or Process) keeping its
// state under dir/runtime/<rt>, as an agent with data dir dir does; logs
// captures the Docker runtime's records (side "docker"). StartAgent closes
// it when the test ends.
func NewRuntime(t testing.TB, rt, dir string, logs *Logs) driver.Driver {
	t.Helper()
	state := filepath.Join(dir, "runtime", rt)
	switch rt {
	case Docker:
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d, err := docker.New(c, docker.Options{StateDir: state, Logger: logs.Logger("docker")})
		if err != nil {
			t.Fatalf("docker runtime: %v", err)
		}
		return d
	case Process:
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		d, err := process.New(process.Options{StateDir: state, ShimPath: self, ShimArgs: []string{process.ShimCommand}})
		if err != nil {
			t.Fatalf("process runtime: %v", err)
		}
		return d
	}
	t.Fatalf("no runtime %q", rt)
	return nil
}

// RemoveContainers stops and removes the containers of the runtime that
// the agent with instance ID agentID created.
func RemoveContainers(t testing.TB, d driver.Driver, agentID string) {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hs, err := d.List(c)
	if err != nil {
		t.Errorf("list containers: %v", err)
		return
	}
	for _, h := range hs {
		if h.Labels[labelAgent] != agentID {
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
