package fsm

import (
	"berth.dev/berth/internal/state"
	"testing"

	"berth.dev/berth/internal/shape"
)

// TestHistoryStatus checks how a reconciler round moves a deployment's
// history record (ListServiceDeployments / DescribeServiceDeployments),
// including a circuit breaker rollback from start to end.
func TestHistoryStatus(t *testing.T) {
	dep := func(id, status, rollout string, rollback bool) *state.Deployment {
		return &state.Deployment{ID: id, Status: status, RolloutState: rollout, Rollback: rollback}
	}
	const (
		P, A            = statusPrimary, statusActive
		run, done, fail = rolloutInProgress, rolloutCompleted, rolloutFailed
		none            = shape.ServiceDeploymentStatus("")
		inProgress      = shape.ServiceDeploymentStatusInProgress
		successful      = shape.ServiceDeploymentStatusSuccessful
		stopped         = shape.ServiceDeploymentStatusStopped
		rollingBack     = shape.ServiceDeploymentStatusRollbackInProgress
		rolledBack      = shape.ServiceDeploymentStatusRollbackSuccessful
		rollbackFailed  = shape.ServiceDeploymentStatusRollbackFailed
	)
	cases := []struct {
		name     string
		before   *state.Deployment
		after    *state.Deployment // nil: left the array
		primary  *state.Deployment
		recorded shape.ServiceDeploymentStatus
		want     shape.ServiceDeploymentStatus
	}{
		{"completes", dep("2", P, run, false), dep("2", P, done, false), dep("2", P, done, false), inProgress, successful},
		{"still running", dep("2", P, run, false), dep("2", P, run, false), dep("2", P, run, false), inProgress, none},
		{"replaced before it completed", dep("1", A, run, false), nil, dep("2", P, done, false), inProgress, stopped},
		{"completed one leaves", dep("1", A, done, false), nil, dep("2", P, done, false), successful, none},
		{"breaker fails it and rolls back", dep("3", P, run, false), dep("3", A, fail, false), dep("2", P, run, true), inProgress, rollingBack},
		{"breaker fails it, nothing to roll back to", dep("3", P, run, false), dep("3", P, fail, false), dep("3", P, fail, false), inProgress, stopped},
		{"rollback running", dep("3", A, fail, false), dep("3", A, fail, false), dep("2", P, run, true), rollingBack, none},
		{"rollback completed", dep("3", A, fail, false), nil, dep("2", P, done, true), rollingBack, rolledBack},
		{"rollback failed too", dep("3", A, fail, false), dep("3", A, fail, false), dep("2", P, fail, true), rollingBack, rollbackFailed},
		{"rollback replaced by a new deployment", dep("3", A, fail, false), nil, dep("4", P, done, false), rollingBack, stopped},
		{"failed without rollback leaves", dep("3", A, fail, false), nil, dep("4", P, done, false), stopped, none},
		{"rolled back one leaves later", dep("3", A, fail, false), nil, dep("4", P, done, false), rolledBack, none},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := historyStatus(*tc.before, tc.after, tc.primary, tc.recorded); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if got := revisedStatus(*tc.before, tc.after, tc.primary, tc.recorded); got != tc.want {
				t.Fatalf("revised record: got %q, want %q", got, tc.want)
			}
		})
	}
	// The circuit breaker fails the PRIMARY, none of whose tasks ran, and
	// the rollback completes in the same round: the failed one left the
	// array at once. A revised record tells a rollback; a record made
	// before revisions keeps what that release recorded.
	before, primary := dep("3", P, run, false), dep("2", P, done, true)
	if got := revisedStatus(*before, nil, primary, inProgress); got != rolledBack {
		t.Errorf("rolled back within one round, revised record: got %q, want %q", got, rolledBack)
	}
	if got := historyStatus(*before, nil, primary, inProgress); got != stopped {
		t.Errorf("rolled back within one round, record made before revisions: got %q, want %q", got, stopped)
	}
}
