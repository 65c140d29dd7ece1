//go:build !linux

package lbaddr

import (
	"log/slog"
	"net"
	"net/netip"
)

// DefaultLink is the interface load-balancer addresses go on (Linux).
const DefaultLink = "lo"

// Manager is net.Listen outside Linux.
type Manager struct{}

// New returns a manager that adds nothing.
func New(_ any, _ string, _ *slog.Logger) *Manager { return &Manager{} }

// Listen is net.Listen.
func (m *Manager) Listen(network, address string) (net.Listener, error) {
	return net.Listen(network, address)
}

// Ensure does nothing outside Linux.
func (m *Manager) Ensure(netip.Addr) error { return nil }

// Close does nothing.
func (m *Manager) Close() error { return nil }
