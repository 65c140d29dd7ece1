//go:build !linux

// Package hostaddr makes host-local addresses (Linux only).
package hostaddr

import (
	"errors"
	"log/slog"
)

// EnsureTaskEndpoint fails outside Linux.
func EnsureTaskEndpoint(*slog.Logger) (func() error, error) {
	return nil, errors.New("task endpoint: host-local addresses need Linux")
}
