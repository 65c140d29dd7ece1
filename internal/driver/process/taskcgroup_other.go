//go:build !linux

package process

import (
	"context"

	"berth.dev/berth/internal/driver"
)

var _ driver.TaskCgroups = (*Driver)(nil)

// TaskLimits reports task limits not enforced.
func (*Driver) TaskLimits() (bool, string) { return false, errUnsupported.Error() }

// RemoveTaskCgroup fails.
func (*Driver) RemoveTaskCgroup(context.Context, string) error { return errUnsupported }
