//go:build linux

package dnstest

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/hostaddr"
	"berth.dev/berth/internal/taskendpoint"
)

// ProbeName is the name the task endpoint responder answers, with
// ProbeAddr.
const ProbeName = "berth-dns-probe.test."

// ProbeAddr is ProbeName's address.
var ProbeAddr = netip.MustParseAddr("10.254.0.53")

// lockPath serialises the tests of every package that use the host's task
// endpoint address: go test runs packages in parallel.
var lockPath = filepath.Join(os.TempDir(), "berth-task-endpoint-test.lock")

// ListenTaskEndpoint makes the task endpoint (169.254.170.2) an address of
// the host (in the test's network namespace) and serves ProbeName on its
// UDP port 53 until the test ends, when the server stops and the address
// is removed (if the test added it), also when the test fails. Tests of
// different packages that call it run one after another.
func ListenTaskEndpoint(t testing.TB) *Server {
	t.Helper()
	LockTaskEndpoint(t)
	remove, err := hostaddr.Ensure(nil, taskendpoint.Addr, hostaddr.TaskEndpointLabel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := remove(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	s, err := Listen(net.JoinHostPort(taskendpoint.IP, strconv.Itoa(taskendpoint.DNSPort)),
		map[string]netip.Addr{ProbeName: ProbeAddr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// LockTaskEndpoint takes the lock that serialises the tests of every
// package using the host's task endpoint address (169.254.170.2) and holds
// it until the test ends: its cleanups registered after this call run
// before the lock is released. Tests that serve on the task endpoint
// themselves (not with ListenTaskEndpoint) call it first. Two tests of one
// process that call it run one after another too (each holds a lock of
// its own open file).
func LockTaskEndpoint(t testing.TB) {
	t.Helper()
	lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		lock.Close()
		t.Fatalf("lock %s: %v", lockPath, err)
	}
	t.Cleanup(func() { lock.Close() }) // closing unlocks; cleanups run last-in first-out
}
