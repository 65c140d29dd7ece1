//go:build linux

// Package taskhost is a stand-in awsvpc host for tests of the task
// endpoint (internal/dnstest answers there).
package taskhost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/hostaddr"
	"berth.dev/berth/internal/taskendpoint"
	"berth.dev/berth/internal/tasknet"
)

// Host is a stand-in for an awsvpc host in a network namespace of its
// own: berth's task network (bridge, chains), the task endpoint on its lo
// with a responder for dnstest.ProbeName on port 53, and an INPUT policy of DROP,
// so that only berth's chain lets tasks reach the endpoint. Everything
// goes when the test ends, the namespace last.
type Host struct {
	t      testing.TB
	Net    *tasknet.Host
	Server *dnstest.Server
}

// New makes a task host with task subnet subnet ("10.200.9.0/24").
func New(t testing.TB, subnet string) *Host {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "berth-dnstest-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("cleanup: ip netns del %s: %v\n%s", name, err, out)
		}
	})
	path := "/run/netns/" + name
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	nl, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nl.Close)
	remove, err := hostaddr.Ensure(nl, taskendpoint.Addr, hostaddr.TaskEndpointLabel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remove() })
	if out, err := exec.Command("ip", "netns", "exec", name, "iptables", "-P", "INPUT", "DROP").CombinedOutput(); err != nil {
		t.Fatalf("iptables -P INPUT DROP: %v\n%s", err, out)
	}
	h, err := tasknet.New(tasknet.Config{Subnet: netip.MustParsePrefix(subnet), NetNS: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Teardown(context.Background()); err != nil {
			t.Errorf("cleanup: task network: %v", err)
		}
		h.Close()
	})
	if err := h.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The responder's socket is made on a thread that joins the namespace
	// and returns to its own after; a thread that cannot return stays
	// locked, and ends with its goroutine. (A thread left in the namespace
	// would keep it alive, and the main thread is never ended.)
	type result struct {
		s   *dnstest.Server
		err error
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			c <- result{err: err}
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			c <- result{err: err}
			return
		}
		defer func() {
			if netns.Set(orig) == nil {
				runtime.UnlockOSThread()
			}
		}()
		s, err := dnstest.Listen(net.JoinHostPort(taskendpoint.IP, strconv.Itoa(taskendpoint.DNSPort)), map[string]netip.Addr{dnstest.ProbeName: dnstest.ProbeAddr}, nil)
		c <- result{s, err}
	}()
	r := <-c
	if r.err != nil {
		t.Fatalf("responder in %s: %v", name, r.err)
	}
	t.Cleanup(func() { r.s.Close() })
	return &Host{t: t, Net: h, Server: r.s}
}

// Attach gives the namespace at nsPath (a sandbox's) the task address
// addr on the task host's bridge, detached when the test ends.
func (th *Host) Attach(taskID, nsPath string, addr string) {
	th.t.Helper()
	if _, err := th.Net.Attach(context.Background(), taskID, nsPath, netip.MustParseAddr(addr)); err != nil {
		th.t.Fatalf("attach %s: %v", taskID, err)
	}
	th.t.Cleanup(func() {
		if err := th.Net.Detach(context.Background(), taskID); err != nil {
			th.t.Errorf("cleanup: detach %s: %v", taskID, err)
		}
	})
}
