package awsvpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/nsdial"
)

// envRequire is dockertest.EnvRequire: CI sets it, and then a test that
// cannot run here fails instead of skipping.
const envRequire = "BERTH_REQUIRE_DOCKER"

// requireNetAdmin skips the test unless it can make network namespaces and
// run iptables (root), or fails it when envRequire is 1.
func requireNetAdmin(t *testing.T) {
	t.Helper()
	var why string
	if os.Geteuid() != 0 {
		why = "needs root to make network namespaces"
	} else {
		for _, bin := range []string{"ip", "nsenter", "iptables", "iptables-restore"} {
			if _, err := exec.LookPath(bin); err != nil {
				why = "needs " + bin
			}
		}
	}
	if why == "" {
		return
	}
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("%s (%s=1)", why, envRequire)
	}
	t.Skipf("%s (set %s=1 to fail instead)", why, envRequire)
}

// segment is a simulated network: a bridge in a namespace of its own, and
// namespaces ("hosts") joined to it by veth pairs, with addresses
// 10.251.0.N/24. The machine's own namespace is not changed.
type segment struct {
	t      *testing.T
	prefix string // unique per test: names of namespaces and links
	ns     string // the segment's namespace
	hosts  []string
}

// newSegment makes the segment namespace and its bridge; t.Cleanup removes
// every namespace of the segment and kills what still runs in them.
func newSegment(t *testing.T) *segment {
	t.Helper()
	requireNetAdmin(t)
	b := make([]byte, 3)
	rand.Read(b)
	s := &segment{t: t, prefix: "bv" + hex.EncodeToString(b)}
	s.ns = s.prefix + "seg"
	t.Cleanup(s.remove)
	s.ip("netns", "add", s.ns)
	s.in(s.ns, "ip", "link", "set", "lo", "up")
	s.in(s.ns, "ip", "link", "add", "seg0", "type", "bridge")
	s.in(s.ns, "ip", "link", "set", "seg0", "up")
	return s
}

// host makes namespace NAME joined to the segment as 10.251.0.N and
// returns its namespace name and address.
func (s *segment) host(n int) (string, string) {
	s.t.Helper()
	name := fmt.Sprintf("%sh%d", s.prefix, n)
	s.ip("netns", "add", name)
	s.hosts = append(s.hosts, name)
	outer, inner := fmt.Sprintf("%so%d", s.prefix, n), fmt.Sprintf("%si%d", s.prefix, n)
	s.ip("link", "add", outer, "type", "veth", "peer", "name", inner)
	s.ip("link", "set", outer, "netns", s.ns)
	s.ip("link", "set", inner, "netns", name)
	s.in(s.ns, "ip", "link", "set", outer, "master", "seg0", "up")
	addr := fmt.Sprintf("10.251.0.%d", n)
	s.in(name, "ip", "link", "set", "lo", "up")
	s.in(name, "ip", "link", "set", inner, "name", "eth0")
	s.in(name, "ip", "addr", "add", addr+"/24", "dev", "eth0")
	s.in(name, "ip", "link", "set", "eth0", "up")
	return name, addr
}

func (s *segment) ip(args ...string) {
	s.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// in runs a command in namespace ns.
func (s *segment) in(ns string, args ...string) string {
	s.t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("in %s: %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// remove kills every process of the segment's namespaces, and every
// process of the test's berth binary (process-runtime tasks live in task
// namespaces of their own, and their shims outlive agents), and deletes
// the namespaces.
func (s *segment) remove() {
	killBinary(berthBin)
	for _, ns := range append(append([]string{}, s.hosts...), s.ns) {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			s.t.Errorf("remove namespace %s: %v: %s", ns, err, out)
		}
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), s.prefix) {
		s.t.Errorf("namespaces left: %s", out)
	}
}

// dialer dials from inside namespace ns (a name under /var/run/netns or a
// path such as /proc/PID/ns/net).
func dialer(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return nsdial.Dialer(ns, net.Dialer{Timeout: 5 * time.Second})
}

// killBinary kills every process running the executable path.
func killBinary(path string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == path {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
