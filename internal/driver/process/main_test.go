//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

// Helper binaries built by TestMain.
var (
	shimBin     string // internal/shimcmd: RunShim
	workloadBin string // internal/testworkload
)

// envHelperBin passes the built binaries' directory to a re-executed test
// binary (see TestHelperAgent), which then builds nothing.
const envHelperBin = "BERTH_PROCESS_TEST_BIN"

func TestMain(m *testing.M) {
	dir := os.Getenv(envHelperBin)
	if dir == "" {
		var err error
		dir, err = os.MkdirTemp("", "berth-process-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cmd := exec.Command("go", "build", "-o", dir+"/", "./internal/shimcmd", "./internal/testworkload")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building the test shim:", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		// Workloads may run as another user.
		os.Chmod(dir, 0o755)
	}
	shimBin = filepath.Join(dir, "shimcmd")
	workloadBin = filepath.Join(dir, "testworkload")
	code := m.Run()
	if os.Getenv(envHelperBin) == "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// newDriver returns a driver on a fresh state directory (or opts.StateDir)
// that stops and removes its containers when the test ends.
func newDriver(t *testing.T, opts Options) *Driver {
	t.Helper()
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.ShimPath == "" {
		opts.ShimPath = shimBin
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 10 * time.Millisecond
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupDriver(t, d) })
	return d
}

func cleanupDriver(t *testing.T, d *Driver) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	handles, _ := d.List(ctx)
	for _, h := range handles {
		if err := d.Stop(ctx, h, 0); err != nil {
			t.Errorf("cleanup: stop %s: %v", h.ID, err)
		}
		if err := d.Remove(ctx, h); err != nil && !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("cleanup: remove %s: %v", h.ID, err)
		}
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sh is a spec running script with /bin/sh -c.
func sh(script string) driver.Spec {
	return driver.Spec{EntryPoint: []string{"/bin/sh", "-c"}, Command: []string{script}}
}

func mustCreate(t *testing.T, d *Driver, spec driver.Spec) driver.Handle {
	t.Helper()
	h, err := d.Create(ctxT(t), spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return h
}

func mustStart(t *testing.T, d *Driver, spec driver.Spec) (driver.Handle, driver.Status) {
	t.Helper()
	h := mustCreate(t, d, spec)
	st, err := d.Start(ctxT(t), h)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return h, st
}

func mustWait(t *testing.T, d *Driver, h driver.Handle) driver.Status {
	t.Helper()
	st, err := d.Wait(ctxT(t), h)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	if !st.Exited || st.Running {
		t.Fatalf("wait returned %+v, want exited", st)
	}
	return st
}

// readLogs reads a container's log stream to its end.
func readLogs(t *testing.T, d *Driver, h driver.Handle, follow bool) []driver.LogLine {
	t.Helper()
	ls, err := d.Logs(ctxT(t), h, follow)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	defer ls.Close()
	var lines []driver.LogLine
	for {
		l, err := ls.Next()
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatalf("logs: %v", err)
		}
		lines = append(lines, l)
	}
}

// texts returns the lines of one stream ("" for all).
func texts(lines []driver.LogLine, stream string) []string {
	var out []string
	for _, l := range lines {
		if stream == "" || l.Stream == stream {
			out = append(out, string(l.Text))
		}
	}
	return out
}

// snap reads a container's state as the driver sees it.
func snap(t *testing.T, d *Driver, h driver.Handle) *snapshot {
	t.Helper()
	s, err := d.snapshot(h.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFile polls for a file's content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			return strings.TrimSpace(string(data))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never written", path)
	return ""
}

// eventually polls cond for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processWithArgs reports whether a live (non-zombie) process has exactly
// this command line.
func processWithArgs(args ...string) bool {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(data) == want {
			return true
		}
	}
	return false
}

// token returns a number unique to this test run, for command lines the
// test looks for.
func token() string { return fmt.Sprintf("%d", 100000+time.Now().UnixNano()%800000) }
