//go:build !linux

package agent

import "berth.dev/berth/internal/taskhttp"

// clockDrift is not read outside Linux.
func clockDrift() *taskhttp.ClockDrift { return nil }
