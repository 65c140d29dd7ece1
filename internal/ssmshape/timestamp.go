package ssmshape

import (
	"time"

	"berth.dev/berth/internal/shape"
)

// Timestamp is an AWS JSON timestamp: epoch seconds, emitted with millisecond
// precision. ACM's wire format is ECS's, so it is the same type.
type Timestamp = shape.Timestamp

// NewTimestamp returns t truncated to the millisecond.
func NewTimestamp(t time.Time) *Timestamp { return shape.NewTimestamp(t) }
