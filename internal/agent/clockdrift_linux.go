package agent

import (
	"time"

	"berth.dev/berth/internal/taskhttp"
	"golang.org/x/sys/unix"
)

// Bits of adjtimex(2)'s status.
const (
	staUnsync = 0x0040 // the clock is not synchronized
	staNano   = 0x2000 // offset is in nanoseconds, not microseconds
)

// clockDrift reads the host clock's state from the kernel (adjtimex(2),
// read only) for the task metadata endpoint's ClockDrift, as ECS's
// Fargate serves it: the error bound (estimated error plus the offset
// still to correct) in milliseconds, and whether an NTP daemon keeps the
// clock synchronized. nil when the kernel does not say.
func clockDrift() *taskhttp.ClockDrift {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return nil
	}
	now := time.Now().UTC()
	offset := float64(tx.Offset) // µs
	if tx.Status&staNano != 0 {
		offset /= 1000
	}
	if offset < 0 {
		offset = -offset
	}
	d := &taskhttp.ClockDrift{ClockErrorBound: (float64(tx.Maxerror) + offset) / 1000, ReferenceTimestamp: &now,
		ClockSynchronizationStatus: "SYNCHRONIZED"}
	if state == unix.TIME_ERROR || tx.Status&staUnsync != 0 {
		d.ClockSynchronizationStatus = "NOT_SYNCHRONIZED"
	}
	return d
}
