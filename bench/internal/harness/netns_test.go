package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestNetNS makes a namespace, runs a process in it, dials its address
// from inside it, and removes it. It needs root: it skips without, or fails
// when BERTH_REQUIRE_DOCKER=1 (as the e2e awsvpc tests do).
func TestNetNS(t *testing.T) {
	if why := NetAdminMissing(); why != "" {
		if os.Getenv("BERTH_REQUIRE_DOCKER") == "1" {
			t.Fatalf("%s (BERTH_REQUIRE_DOCKER=1)", why)
		}
		t.Skipf("%s (set BERTH_REQUIRE_DOCKER=1 to fail instead)", why)
	}
	n, err := NewNetNS("berth-bench-test-"+RandomHex(4), "10.252.255.1")
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	defer func() {
		if !removed {
			n.Remove()
		}
	}()
	bin, args := n.Wrap("sleep", []string{"60"})
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(n.Pids(), cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d (nsenter execs sleep) not among the namespace's %v", cmd.Process.Pid, n.Pids())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Nothing listens on port 1 of the namespace's address: refused, which
	// only an address of this namespace answers.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := n.Dialer()(ctx, "tcp", "10.252.255.1:1"); err == nil {
		c.Close()
		t.Error("dial to port 1 succeeded")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial inside the namespace: %v (want connection refused)", err)
	}
	removed = true
	if err := n.Remove(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the process in the namespace still runs after Remove")
	}
	if _, err := os.Stat(n.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace file after Remove: %v", err)
	}
}
