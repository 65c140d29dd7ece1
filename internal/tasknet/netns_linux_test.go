package tasknet

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
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
	} else if _, err := exec.LookPath("iptables"); err != nil {
		why = "needs the iptables binary"
	} else if _, err := exec.LookPath("iptables-restore"); err != nil {
		why = "needs the iptables-restore binary"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "needs the ip binary (iproute2)"
	}
	if why == "" {
		return
	}
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("%s (%s=1)", why, envRequire)
	}
	t.Skipf("%s (set %s=1 to fail instead)", why, envRequire)
}

// testNS is a named network namespace a test made; it is deleted (its
// bind mount unmounted and removed) when the test ends, whatever happened.
type testNS struct {
	name, path string
	h          netns.NsHandle
	nl         *netlink.Handle
}

func newNS(t *testing.T, label string) *testNS {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	name := fmt.Sprintf("berthtest-%s-%s", label, hex.EncodeToString(b))
	type result struct {
		h   netns.NsHandle
		err error
	}
	c := make(chan result, 1)
	go func() {
		// The thread unshares into the new namespace and is thrown away
		// with this goroutine (never unlocked).
		runtime.LockOSThread()
		h, err := netns.NewNamed(name)
		c <- result{h, err}
	}()
	r := <-c
	n := &testNS{name: name, path: filepath.Join("/var/run/netns", name), h: r.h}
	t.Cleanup(func() {
		if n.nl != nil {
			n.nl.Close()
		}
		if n.h.IsOpen() {
			n.h.Close()
		}
		if _, err := os.Stat(n.path); err == nil {
			if err := netns.DeleteNamed(name); err != nil {
				t.Errorf("delete namespace %s: %v", name, err)
			}
		}
	})
	if r.err != nil {
		t.Fatalf("make namespace %s: %v", name, r.err)
	}
	nl, err := netlink.NewHandleAt(n.h)
	if err != nil {
		t.Fatalf("netlink in %s: %v", name, err)
	}
	n.nl = nl
	lo, err := nl.LinkByName("lo")
	if err == nil {
		err = nl.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("%s: lo up: %v", name, err)
	}
	return n
}

// run runs fn on a thread switched into the namespace (thrown away after).
func (n *testNS) run(fn func() error) error {
	c := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(n.h); err != nil {
			c <- err
			return
		}
		c <- fn()
	}()
	return <-c
}

// sh runs a command inside the namespace with ip netns exec, independently
// of the package's own way of entering it.
func (n *testNS) sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec %s %s: %v\n%s", n.name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// addr puts an address on a link of the namespace and sets it up.
func (n *testNS) addr(t *testing.T, link string, p string) {
	t.Helper()
	l, err := n.nl.LinkByName(link)
	if err != nil {
		t.Fatalf("%s: %s: %v", n.name, link, err)
	}
	if err := n.nl.AddrAdd(l, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix(p))}); err != nil {
		t.Fatalf("%s: address %s on %s: %v", n.name, p, link, err)
	}
	if err := n.nl.LinkSetUp(l); err != nil {
		t.Fatalf("%s: %s up: %v", n.name, link, err)
	}
}

// route adds a route in the namespace.
func (n *testNS) route(t *testing.T, dst, via string) {
	t.Helper()
	r := &netlink.Route{Dst: ipNet(netip.MustParsePrefix(dst)), Gw: netip.MustParseAddr(via).AsSlice()}
	if err := n.nl.RouteAdd(r); err != nil {
		t.Fatalf("%s: route %s via %s: %v", n.name, dst, via, err)
	}
}

// link connects two namespaces with a veth: nameA in a, nameB in b.
func link(t *testing.T, a *testNS, nameA string, b *testNS, nameB string) {
	t.Helper()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(b.h)}
	if err := a.nl.LinkAdd(v); err != nil {
		t.Fatalf("veth %s/%s: %v", nameA, nameB, err)
	}
}

// dockerLike makes the namespace's FORWARD policy DROP, as Docker makes the
// host's, so only berth's rules can let forwarded traffic through.
func dockerLike(t *testing.T, n *testNS) {
	t.Helper()
	n.sh(t, "iptables", "-P", "FORWARD", "DROP")
}

// serve listens on addr inside the namespace and answers every connection
// with "identity remote-address\n": who answered and whom it saw.
func serve(t *testing.T, n *testNS, addr, identity string) {
	t.Helper()
	var ln net.Listener
	if err := n.run(func() (err error) {
		ln, err = net.Listen("tcp4", addr)
		return err
	}); err != nil {
		t.Fatalf("%s: listen %s: %v", n.name, addr, err)
	}
	// The socket holds the namespace: close it before the namespace goes.
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s %s\n", identity, c.RemoteAddr())
			c.Close()
		}
	}()
}

type answer struct {
	identity string
	from     netip.Addr
}

// call connects from inside the namespace to addr and returns who answered
// and the source address it saw.
func call(n *testNS, addr string) (answer, error) {
	var line string
	err := n.run(func() error {
		c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err = bufio.NewReader(c).ReadString('\n')
		if errors.Is(err, io.EOF) && line != "" {
			err = nil
		}
		return err
	})
	if err != nil {
		return answer{}, fmt.Errorf("from %s to %s: %w", n.name, addr, err)
	}
	id, remote, ok := strings.Cut(strings.TrimSpace(line), " ")
	if !ok {
		return answer{}, fmt.Errorf("from %s to %s: answer %q", n.name, addr, line)
	}
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return answer{}, fmt.Errorf("from %s to %s: answer %q: %w", n.name, addr, line, err)
	}
	return answer{id, ap.Addr()}, nil
}

// mustCall is call that fails the test, checking who answered.
func mustCall(t *testing.T, n *testNS, addr, want string) answer {
	t.Helper()
	a, err := call(n, addr)
	if err != nil {
		t.Fatal(err)
	}
	if a.identity != want {
		t.Fatalf("from %s to %s: answered by %q, want %q", n.name, addr, a.identity, want)
	}
	return a
}

// newHost makes a Host working in the namespace, Ensured, torn down and
// closed when the test ends.
func newHost(t *testing.T, n *testNS, subnet, cluster string) *Host {
	t.Helper()
	return newHostWith(t, n, Config{Subnet: netip.MustParsePrefix(subnet), ClusterRange: netip.MustParsePrefix(cluster)})
}

// newHostWith is newHost with a whole config; NetNS is set to n's.
func newHostWith(t *testing.T, n *testNS, cfg Config) *Host {
	t.Helper()
	cfg.NetNS = n.path
	h, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Teardown(context.Background()); err != nil {
			t.Errorf("teardown: %v", err)
		}
		h.Close()
	})
	if err := h.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
