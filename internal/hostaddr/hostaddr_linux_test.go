//go:build linux

package hostaddr

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"berth.dev/berth/internal/taskendpoint"
)

// inNewNetns runs fn on a thread of its own in a new network namespace
// (the thread is thrown away after, and the namespace with every address
// in it): nothing a test adds reaches the host, even when it fails.
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
		done <- fn(nl)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func labelled(nl *netlink.Handle, ip netip.Addr) (string, bool, error) {
	l, err := nl.LinkByName(Link)
	if err != nil {
		return "", false, err
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return "", false, err
	}
	for _, a := range addrs {
		if got, _ := netip.AddrFromSlice(a.IP); got.Unmap() == ip {
			return a.Label, true, nil
		}
	}
	return "", false, nil
}

func TestEnsureTaskEndpointIsLocalIdempotentAndRemovable(t *testing.T) {
	inNewNetns(t, func(nl *netlink.Handle) (err error) {
		cleanup, err := ensureTaskEndpoint(nl, nil)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := cleanup(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		label, ok, err := labelled(nl, taskendpoint.Addr)
		if err != nil || !ok || label != TaskEndpointLabel {
			return fmt.Errorf("address on lo: label %q, present %v, err %v", label, ok, err)
		}
		local, err := IsLocal(nl, taskendpoint.Addr)
		if err != nil || !local {
			return fmt.Errorf("route to %s is local: %v, %v", taskendpoint.IP, local, err)
		}
		// Again: nothing added, and its cleanup leaves the first one's.
		again, err := ensureTaskEndpoint(nl, nil)
		if err != nil {
			return fmt.Errorf("second ensure: %w", err)
		}
		if err := again(); err != nil {
			return err
		}
		if _, ok, _ := labelled(nl, taskendpoint.Addr); !ok {
			return fmt.Errorf("the second ensure's cleanup removed the first one's address")
		}
		if err := cleanup(); err != nil {
			return err
		}
		if _, ok, _ := labelled(nl, taskendpoint.Addr); ok {
			return fmt.Errorf("cleanup left %s on lo", taskendpoint.IP)
		}
		if local, _ := IsLocal(nl, taskendpoint.Addr); local {
			return fmt.Errorf("%s still local after cleanup", taskendpoint.IP)
		}
		return nil
	})
}

func TestEnsureLeavesAnExistingAddressAlone(t *testing.T) {
	inNewNetns(t, func(nl *netlink.Handle) error {
		ip := netip.MustParseAddr("169.254.170.9")
		first, err := Ensure(nl, ip, Link+":other")
		if err != nil {
			return err
		}
		defer first()
		second, err := Ensure(nl, ip, TaskEndpointLabel)
		if err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		if label, ok, _ := labelled(nl, ip); !ok || label != Link+":other" {
			return fmt.Errorf("existing address changed: %q %v", label, ok)
		}
		return nil
	})
}
