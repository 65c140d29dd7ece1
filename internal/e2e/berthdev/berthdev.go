// Package berthdev runs berth as a process for end-to-end tests that drive
// it as a user does (the AWS CLI scripts, the README's quickstarts): it
// builds the binary once per test process, starts `berth dev` and waits for
// its banner, and gives the clean environment AWS CLI commands run in.
//
// Invariants: a started process is stopped when its test ends, whatever
// happened, and then the containers of its tasks are removed; the environment handed to the AWS CLI never carries the
// caller's own AWS credentials, profile or endpoint.
package berthdev

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// AWSCLI is the AWS CLI the tests run (Debian's awscli: an older CLI may
// sit earlier on PATH).
const AWSCLI = "/usr/bin/aws"

// Region is the region the started servers serve.
const Region = "us-east-1"

// Build builds cmd/berth into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "berth")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "berth.dev/berth/cmd/berth")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build berth: %w", err)
	}
	return bin, nil
}

// RequireAWSCLI skips the test when the AWS CLI is missing, or fails it
// where it is required (BERTH_REQUIRE_AWSCLI=1, or CI set).
func RequireAWSCLI(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(AWSCLI); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%s is required (BERTH_REQUIRE_AWSCLI=1 or CI is set): %v; install the Debian package awscli", AWSCLI, err)
		}
		t.Skipf("%s not found (install the Debian package awscli, or set BERTH_REQUIRE_AWSCLI=1 to make this a failure)", AWSCLI)
	}
}

// Buffer is a bytes.Buffer a process writes while the test reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Dev is a running `berth dev`.
type Dev struct {
	Endpoint string
	// DNS is the address of its DNS server (host:port), from the banner's
	// dns line.
	DNS    string
	Output *Buffer
	// Stop sends SIGTERM and waits for the process (also run at cleanup).
	Stop func()
}

// Start runs `berth dev` on Docker in a new data dir with the root
// credentials keyID/secret, no host task network, and extra flags, and
// waits (up to three minutes: it may build its images) until it has
// printed its banner.
func Start(t testing.TB, bin, keyID, secret string, extra ...string) *Dev {
	t.Helper()
	dir := t.TempDir()
	// An account of its own, whose tasks' containers go once berth dev
	// has stopped (cleanups run last-in first-out); DNS on a free port,
	// nothing forwarded off the machine, and the host's task endpoint
	// left alone (tests run in parallel); extra flags given later win.
	account := newAccount()
	t.Cleanup(func() { removeContainers(t, account) })
	args := append([]string{"dev", "--data-dir", filepath.Join(dir, "berth"), "--listen", "127.0.0.1:0", "--runtime", "docker",
		"--account-id", account,
		"--task-network", "off", "--dns-listen", "127.0.0.1:0", "--dns-forward", "none", "--task-dns", "off"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "BERTH_ROOT_ACCESS_KEY_ID="+keyID, "BERTH_ROOT_SECRET_ACCESS_KEY="+secret)
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	t.Cleanup(stop)
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), "Use it with the AWS CLI") {
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("berth dev printed no banner:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := regexp.MustCompile(`endpoint\s+(http://\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no endpoint in the banner:\n%s", out.String())
	}
	dns := regexp.MustCompile(`(?m)^\s+dns\s+(\S+:\d+)\s`).FindStringSubmatch(out.String())
	if dns == nil {
		t.Fatalf("no DNS address in the banner:\n%s", out.String())
	}
	return &Dev{Endpoint: m[1], DNS: dns[1], Output: out, Stop: stop}
}

// CLIEnv is the environment AWS CLI commands run in against a server
// started with keyID/secret: the caller's AWS settings dropped, no config
// or credentials files, no pager.
func CLIEnv(keyID, secret string) []string {
	return append(WithoutAWSEnv(os.Environ()), "AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_REGION="+Region, "AWS_DEFAULT_REGION="+Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
}

// WithoutAWSEnv drops the caller's AWS credentials, profile and endpoint
// settings from env.
func WithoutAWSEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
			"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// LineLogger forwards a process's output to the test log line by line.
type LineLogger struct {
	T   testing.TB
	mu  sync.Mutex
	buf []byte
}

func (l *LineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.T.Log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(b), nil
}

// Flush logs what is left of an unfinished line.
func (l *LineLogger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.T.Log(string(l.buf))
		l.buf = nil
	}
}
