//go:build linux

// Package hostaddr makes host-local addresses: a /32 on the loopback
// interface, labelled so that berth's own addresses are told apart, which
// packets for never leave the host (the kernel's local table routes them).
// The task endpoint (internal/taskendpoint) is one.
package hostaddr

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"

	"berth.dev/berth/internal/taskendpoint"
)

// Link is the interface host-local addresses go on.
const Link = "lo"

// TaskEndpointLabel is the label of the task endpoint address (an IPv4
// address label must start with its interface's name).
const TaskEndpointLabel = Link + ":berthtask"

// Ensure makes ip/32 an address of lo with label in the network namespace
// of nl (nil: the process's own), idempotently. It returns a cleanup that
// removes the address if Ensure added it, and does nothing if the address
// was already there (someone else's, or an earlier run's: left alone).
func Ensure(nl *netlink.Handle, ip netip.Addr, label string) (cleanup func() error, err error) {
	if !ip.Is4() {
		return nil, fmt.Errorf("host address %s: only IPv4 addresses", ip)
	}
	if nl == nil {
		nl = &netlink.Handle{}
	}
	l, err := nl.LinkByName(Link)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", Link, err)
	}
	if err := nl.LinkSetUp(l); err != nil {
		return nil, fmt.Errorf("set %s up: %w", Link, err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(32, 32)}, Label: label}
	noop := func() error { return nil }
	if err := nl.AddrAdd(l, a); err != nil {
		if errors.Is(err, syscall.EEXIST) {
			return noop, nil
		}
		return nil, fmt.Errorf("add %s to %s: %w", ip, Link, err)
	}
	return func() error {
		if err := nl.AddrDel(l, a); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			return fmt.Errorf("remove %s from %s: %w", ip, Link, err)
		}
		return nil
	}, nil
}

// IsLocal reports whether the kernel routes ip to this host (a route of
// type local), in the network namespace of nl (nil: the process's own).
func IsLocal(nl *netlink.Handle, ip netip.Addr) (bool, error) {
	if nl == nil {
		nl = &netlink.Handle{}
	}
	routes, err := nl.RouteGet(ip.AsSlice())
	if err != nil {
		return false, fmt.Errorf("route to %s: %w", ip, err)
	}
	for _, r := range routes {
		if r.Type == syscall.RTN_LOCAL {
			return true, nil
		}
	}
	return false, nil
}

// EnsureTaskEndpoint makes the task endpoint (taskendpoint.IP) an address
// of this host, on lo with label lo:berthtask, and checks that packets for
// it stay on the host. cleanup removes the address if it was added here;
// the agent calls it when it stops serving the endpoint.
func EnsureTaskEndpoint(log *slog.Logger) (cleanup func() error, err error) {
	return ensureTaskEndpoint(nil, log)
}

func ensureTaskEndpoint(nl *netlink.Handle, log *slog.Logger) (func() error, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cleanup, err := Ensure(nl, taskendpoint.Addr, TaskEndpointLabel)
	if err != nil {
		return nil, fmt.Errorf("task endpoint: %w", err)
	}
	local, err := IsLocal(nl, taskendpoint.Addr)
	if err == nil && !local {
		err = fmt.Errorf("packets for %s would leave the host", taskendpoint.IP)
	}
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("task endpoint: %w", err)
	}
	log.Info("task endpoint address is local", "address", taskendpoint.IP, "link", Link)
	return cleanup, nil
}
