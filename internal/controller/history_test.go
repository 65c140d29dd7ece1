package controller

import (
	"testing"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/fsm"
)

// The state machine writes the circuit breaker's threshold and words into
// deployment history records without importing the reconciler that
// decides them: they must be the reconciler's.
func TestHistoryUsesTheReconcilersBreaker(t *testing.T) {
	for desired := range 500 {
		if got, want := fsm.BreakerThreshold(desired), deploy.BreakerThreshold(desired); got != want {
			t.Fatalf("desired %d: fsm's threshold %d, deploy's %d", desired, got, want)
		}
	}
	if fsm.BreakerReason != deploy.BreakerReason {
		t.Errorf("fsm's breaker reason %q, deploy's %q", fsm.BreakerReason, deploy.BreakerReason)
	}
	if got, want := fsm.RollbackReason("ecs-svc/1"), deploy.RollbackReason("ecs-svc/1"); got != want {
		t.Errorf("fsm's rollback reason %q, deploy's %q", got, want)
	}
}
