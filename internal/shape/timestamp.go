package shape

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Timestamp is an ECS timestamp: a JSON number of epoch seconds, fractional
// part allowed. It is emitted with millisecond precision.
type Timestamp struct {
	t time.Time
}

// NewTimestamp returns t truncated to the millisecond, as ECS keeps it.
func NewTimestamp(t time.Time) *Timestamp {
	return &Timestamp{t: t.Truncate(time.Millisecond).UTC()}
}

// Time returns the instant; the zero Time for a nil Timestamp.
func (ts *Timestamp) Time() time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.t
}

// MarshalJSON writes epoch seconds with three decimals, e.g. 1714567890.123.
func (ts Timestamp) MarshalJSON() ([]byte, error) {
	ms := ts.t.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Appendf(nil, "%s%d.%03d", sign, ms/1000, ms%1000), nil
}

// UnmarshalJSON accepts any JSON number of epoch seconds.
func (ts *Timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e11 {
		return fmt.Errorf("timestamp must be a number of epoch seconds, got %s", truncate(b))
	}
	sec, frac := math.Modf(f)
	ts.t = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return nil
}

func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}
