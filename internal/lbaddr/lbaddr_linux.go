//go:build linux

package lbaddr

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
)

// DefaultLink is the interface load-balancer addresses go on: the
// loopback interface, which every kernel has (a dummy interface needs a
// module not every kernel carries).
const DefaultLink = "lo"

// Label marks the addresses berth added (an IPv4 address label must start
// with its interface's name).
const labelSuffix = ":berthlb"

// Manager adds load-balancer addresses to a dummy interface on demand.
type Manager struct {
	nl   *netlink.Handle
	link string
	log  *slog.Logger

	mu    sync.Mutex
	added map[netip.Addr]bool
}

// New returns a manager of link in the network namespace of nl (nil: the
// process's own).
func New(nl *netlink.Handle, link string, log *slog.Logger) *Manager {
	if nl == nil {
		nl = &netlink.Handle{}
	}
	if link == "" {
		link = DefaultLink
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{nl: nl, link: link, log: log, added: map[netip.Addr]bool{}}
}

// Listen is net.Listen, except that an address the host does not hold is
// made local first (Ensure) and the bind retried.
func (m *Manager) Listen(network, address string) (net.Listener, error) {
	ln, err := net.Listen(network, address)
	if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return ln, err
	}
	host, _, serr := net.SplitHostPort(address)
	ip, perr := netip.ParseAddr(host)
	if serr != nil || perr != nil {
		return nil, err
	}
	if eerr := m.Ensure(ip); eerr != nil {
		return nil, fmt.Errorf("%w (and it could not be made local: %w)", err, eerr)
	}
	return net.Listen(network, address)
}

// Ensure adds ip to the dummy interface unless it is a loopback address or
// already there.
func (m *Manager) Ensure(ip netip.Addr) error {
	if ip.IsLoopback() || !ip.Is4() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.added[ip] {
		return nil
	}
	l, err := m.nl.LinkByName(m.link)
	if err != nil {
		return fmt.Errorf("find %s: %w", m.link, err)
	}
	if err := m.nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", m.link, err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(32, 32)}, Label: m.link + labelSuffix}
	if err := m.nl.AddrAdd(l, a); err != nil {
		if errors.Is(err, syscall.EEXIST) {
			return nil // someone else's: left alone, never removed
		}
		return fmt.Errorf("add %s to %s: %w", ip, m.link, err)
	}
	m.added[ip] = true
	m.log.Info("load-balancer address made local", "address", ip, "link", m.link)
	return nil
}

// Close removes the addresses the manager added.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.added) == 0 {
		return nil
	}
	l, err := m.nl.LinkByName(m.link)
	if err != nil {
		return fmt.Errorf("find %s: %w", m.link, err)
	}
	var errs []error
	for ip := range m.added {
		a := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(32, 32)}, Label: m.link + labelSuffix}
		if err := m.nl.AddrDel(l, a); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			errs = append(errs, fmt.Errorf("remove %s: %w", ip, err))
		}
		delete(m.added, ip)
	}
	return errors.Join(errs...)
}
