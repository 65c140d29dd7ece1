//go:build !linux

package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"berth.dev/berth/internal/driver"
)

var errUnsupported = errors.New("the process runtime needs Linux (runtime " + runtime.GOOS + ")")

// Driver runs containers as host processes; only on Linux.
type Driver struct{}

// New fails: the process runtime needs Linux.
func New(Options) (*Driver, error) { return nil, errUnsupported }

// RunShim fails: the process runtime needs Linux.
func RunShim([]string) int {
	fmt.Fprintln(os.Stderr, errUnsupported)
	return 2
}

// Limits reports nothing enforced.
func (*Driver) Limits() Limits { return Limits{Reason: errUnsupported.Error()} }

// Name is "process".
func (*Driver) Name() string { return "process" }

// Pull fails.
func (*Driver) Pull(context.Context, string, driver.PullPolicy) error { return errUnsupported }

// Create fails.
func (*Driver) Create(context.Context, driver.Spec) (driver.Handle, error) {
	return driver.Handle{}, errUnsupported
}

// Start fails.
func (*Driver) Start(context.Context, driver.Handle) (driver.Status, error) {
	return driver.Status{}, errUnsupported
}

// Wait fails.
func (*Driver) Wait(context.Context, driver.Handle) (driver.Status, error) {
	return driver.Status{}, errUnsupported
}

// Stop fails.
func (*Driver) Stop(context.Context, driver.Handle, time.Duration) error { return errUnsupported }

// Inspect fails.
func (*Driver) Inspect(context.Context, driver.Handle) (driver.Status, error) {
	return driver.Status{}, errUnsupported
}

// Remove fails.
func (*Driver) Remove(context.Context, driver.Handle) error { return errUnsupported }

// Exec fails.
func (*Driver) Exec(context.Context, driver.Handle, []string, time.Duration) (driver.ExecResult, error) {
	return driver.ExecResult{}, errUnsupported
}

// Logs fails.
func (*Driver) Logs(context.Context, driver.Handle, bool) (driver.LogStream, error) {
	return nil, errUnsupported
}

// List fails.
func (*Driver) List(context.Context) ([]driver.Handle, error) { return nil, errUnsupported }

var _ driver.Driver = (*Driver)(nil)

// CreateSandbox fails.
func (*Driver) CreateSandbox(context.Context, driver.SandboxSpec) (driver.Sandbox, error) {
	return driver.Sandbox{}, errUnsupported
}

// RemoveSandbox fails.
func (*Driver) RemoveSandbox(context.Context, string) error { return errUnsupported }

// ListSandboxes fails.
func (*Driver) ListSandboxes(context.Context) ([]driver.Sandbox, error) { return nil, errUnsupported }

var _ driver.Sandboxer = (*Driver)(nil)
