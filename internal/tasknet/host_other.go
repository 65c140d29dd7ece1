//go:build !linux

package tasknet

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
)

// Host is one host's task network; it needs Linux.
type Host struct{}

func unsupported() error { return fmt.Errorf("tasknet: %w on %s", ErrUnsupported, runtime.GOOS) }

// New returns ErrUnsupported: task networks need Linux.
func New(cfg Config, logger *slog.Logger) (*Host, error) { return nil, unsupported() }

// Network is the zero plan.
func (h *Host) Network() Network { return Network{} }

// Close does nothing.
func (h *Host) Close() error { return nil }

// Ensure returns ErrUnsupported.
func (h *Host) Ensure(ctx context.Context) error { return unsupported() }

// Attach returns ErrUnsupported.
func (h *Host) Attach(ctx context.Context, taskID, nsPath string, addr netip.Addr) (Attachment, error) {
	return Attachment{}, unsupported()
}

// Detach returns ErrUnsupported.
func (h *Host) Detach(ctx context.Context, taskID string) error { return unsupported() }

// Sweep returns ErrUnsupported.
func (h *Host) Sweep(ctx context.Context, keep []string) ([]string, error) { return nil, unsupported() }

// SetPeers returns ErrUnsupported.
func (h *Host) SetPeers(ctx context.Context, peers []Peer) error { return unsupported() }

// Teardown returns ErrUnsupported.
func (h *Host) Teardown(ctx context.Context) error { return unsupported() }
