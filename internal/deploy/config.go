package deploy

import "time"

// Config holds the reconciler's timings. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// SettleTime: a RUNNING task of a deployment without health checks
	// counts as healthy this long after it started (ECS: 40 seconds).
	SettleTime time.Duration
	// LostHostTimeout: tasks on an instance whose agent has been
	// disconnected this long are marked STOPPED and replaced.
	LostHostTimeout time.Duration
	// StopWait bounds how long tasks the scheduler stopped to make room
	// hold back new starts while they are still stopping.
	StopWait time.Duration
	// PlacementRetry: after a placement failure at an unchanged
	// ClusterVersion, the next attempt waits this long.
	PlacementRetry time.Duration
	// ThrottleAfter consecutive launch failures engage the launch
	// throttle; the delay before the next launch is then ThrottleBase,
	// doubling with every further failure, capped at ThrottleCap (ECS:
	// 27 minutes).
	ThrottleAfter int
	ThrottleBase  time.Duration
	ThrottleCap   time.Duration
	// EventRepeat: a repeated condition message (steady state, placement
	// failure, throttle, deadlock) is suppressed this long unless an
	// activity event came in between (ECS: six hours).
	EventRepeat time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		SettleTime:      40 * time.Second,
		LostHostTimeout: time.Minute,
		StopWait:        3 * time.Minute,
		PlacementRetry:  time.Minute,
		ThrottleAfter:   3,
		ThrottleBase:    30 * time.Second,
		ThrottleCap:     27 * time.Minute,
		EventRepeat:     6 * time.Hour,
	}
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SettleTime <= 0 {
		c.SettleTime = d.SettleTime
	}
	if c.LostHostTimeout <= 0 {
		c.LostHostTimeout = d.LostHostTimeout
	}
	if c.StopWait <= 0 {
		c.StopWait = d.StopWait
	}
	if c.PlacementRetry <= 0 {
		c.PlacementRetry = d.PlacementRetry
	}
	if c.ThrottleAfter <= 0 {
		c.ThrottleAfter = d.ThrottleAfter
	}
	if c.ThrottleBase <= 0 {
		c.ThrottleBase = d.ThrottleBase
	}
	if c.ThrottleCap <= 0 {
		c.ThrottleCap = d.ThrottleCap
	}
	if c.EventRepeat <= 0 {
		c.EventRepeat = d.EventRepeat
	}
	return c
}

// throttleDelay is the wait before the next launch after n consecutive
// launch failures (0 below ThrottleAfter).
func (c Config) throttleDelay(n int) time.Duration {
	if n < c.ThrottleAfter {
		return 0
	}
	d := c.ThrottleBase
	for i := c.ThrottleAfter; i < n && d < c.ThrottleCap; i++ {
		d *= 2
	}
	return min(d, c.ThrottleCap)
}

// minHealthy is ceil(desired × pct / 100); maxTotal is
// floor(desired × pct / 100) (ecs-semantics §6.3).
func minHealthy(desired, pct int) int {
	if desired <= 0 || pct <= 0 {
		return 0
	}
	return (desired*pct + 99) / 100
}

func maxTotal(desired, pct int) int {
	if desired <= 0 || pct <= 0 {
		return 0
	}
	return desired * pct / 100
}

// BreakerThreshold is the circuit breaker's threshold: clamp(ceil(0.5 ×
// desired), 3, 200) (ECS deployment circuit breaker docs).
func BreakerThreshold(desired int) int {
	return min(max((desired+1)/2, 3), 200)
}
