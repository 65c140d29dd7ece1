//go:build linux

package lbaddr

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// inNewNetns runs fn on a thread of its own in a new, empty network
// namespace (the thread is thrown away after, and the namespace with it).
func inNewNetns(t *testing.T, fn func(nl *netlink.Handle) error) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("BERTH_REQUIRE_DOCKER") == "1" {
			t.Fatal("needs root to make a network namespace (BERTH_REQUIRE_DOCKER=1)")
		}
		t.Skip("needs root to make a network namespace")
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		h, err := netns.New()
		if err != nil {
			done <- fmt.Errorf("new namespace: %w", err)
			return
		}
		defer h.Close()
		nl, err := netlink.NewHandleAt(h)
		if err != nil {
			done <- err
			return
		}
		defer nl.Close()
		lo, err := nl.LinkByName("lo")
		if err == nil {
			err = nl.LinkSetUp(lo)
		}
		if err != nil {
			done <- err
			return
		}
		done <- fn(nl)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestListenMakesTheAddressLocalAndCloseRemovesIt(t *testing.T) {
	inNewNetns(t, func(nl *netlink.Handle) error {
		m := New(nl, "", nil)
		ln, err := m.Listen("tcp", "10.123.0.7:0")
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Write([]byte("hi"))
				c.Close()
			}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return fmt.Errorf("dial the load-balancer address: %w", err)
		}
		b := make([]byte, 2)
		if _, err := c.Read(b); err != nil || string(b) != "hi" {
			return fmt.Errorf("read %q: %v", b, err)
		}
		c.Close()
		ln.Close()
		if got := added(nl); len(got) != 1 || got[0] != "10.123.0.7/32 lo:berthlb" {
			return fmt.Errorf("addresses berth added: %v", got)
		}
		// A second listener on the same address needs nothing new.
		ln2, err := m.Listen("tcp", "10.123.0.7:0")
		if err != nil {
			return fmt.Errorf("second listen: %w", err)
		}
		ln2.Close()
		if err := m.Close(); err != nil {
			return fmt.Errorf("close: %w", err)
		}
		if got := added(nl); len(got) != 0 {
			return fmt.Errorf("addresses left after Close: %v", got)
		}
		return nil
	})
}

func TestLoopbackAddressesAreNeverAdded(t *testing.T) {
	inNewNetns(t, func(nl *netlink.Handle) error {
		m := New(nl, "", nil)
		ln, err := m.Listen("tcp", "127.0.9.9:0")
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		ln.Close()
		if got := added(nl); len(got) != 0 {
			return fmt.Errorf("an address was added for a loopback address: %v", got)
		}
		return m.Close()
	})
}

// added lists the addresses on lo other than 127.0.0.1, with their labels.
func added(nl *netlink.Handle) []string {
	l, err := nl.LinkByName("lo")
	if err != nil {
		return []string{err.Error()}
	}
	addrs, _ := nl.AddrList(l, netlink.FAMILY_V4)
	var out []string
	for _, a := range addrs {
		if a.IP.String() != "127.0.0.1" {
			out = append(out, a.IPNet.String()+" "+a.Label)
		}
	}
	return out
}
