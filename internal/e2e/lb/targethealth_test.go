package lb

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestTargetHealthTransitions follows one hand-registered target through
// ELB's health states as DescribeTargetHealth reports them from the real
// data plane's checks (traffic.md C.3): initial, healthy, unhealthy with
// the codes, healthy again, draining, and not registered; and a target
// group no listener uses reports its targets not in use.
func TestTargetHealthTransitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	b := startBackend(t, "b")
	lbARN := e.newLB("health", elbtypes.LoadBalancerTypeEnumApplication)
	tg := e.targetGroup("health", elbtypes.ProtocolEnumHttp, 80, elbtypes.TargetTypeEnumIp, 3*time.Second)
	e.listener(lbARN, elbtypes.ProtocolEnumHttp, 80, "", forward(tg))
	e.waitActive(lbARN)

	// Registered, its first check held: initial.
	b.holdHealth()
	e.register(tg, b.port)
	h := e.targetHealth(tg, "127.0.0.1", b.port)
	if h.State != elbtypes.TargetHealthStateEnumInitial ||
		(h.Reason != elbtypes.TargetHealthReasonEnumRegistrationInProgress && h.Reason != elbtypes.TargetHealthReasonEnumInitialHealthChecking) {
		t.Fatalf("a new target is %s (%s), want initial", h.State, h.Reason)
	}
	b.releaseHealth()

	// One passing check: healthy, with neither reason nor description; the
	// target-in-service waiter agrees.
	e.waitInService(tg, 30*time.Second)
	h = e.targetHealth(tg, "127.0.0.1", b.port)
	if h.State != elbtypes.TargetHealthStateEnumHealthy || h.Reason != "" || h.Description != nil {
		t.Fatalf("healthy target: %s (%s) %v", h.State, h.Reason, aws.ToString(h.Description))
	}

	// /health answers 500: unhealthy after two failed checks, with the codes.
	b.status.Store(http.StatusInternalServerError)
	h = e.waitTargetState(tg, "127.0.0.1", b.port, elbtypes.TargetHealthStateEnumUnhealthy, 30*time.Second)
	if h.Reason != elbtypes.TargetHealthReasonEnumResponseCodeMismatch || aws.ToString(h.Description) != "Health checks failed with these codes: [500]" {
		t.Fatalf("unhealthy target: reason %s, description %q", h.Reason, aws.ToString(h.Description))
	}

	// And back.
	b.status.Store(http.StatusOK)
	h = e.waitTargetState(tg, "127.0.0.1", b.port, elbtypes.TargetHealthStateEnumHealthy, 30*time.Second)
	if h.Reason != "" || h.Description != nil {
		t.Fatalf("healthy again: reason %s, description %q", h.Reason, aws.ToString(h.Description))
	}

	// Deregistered: draining for the delay (3 s), then not registered; the
	// target-deregistered waiter sees it.
	target := []elbtypes.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(b.port))}}
	if _, err := e.elb.DeregisterTargets(e.ctx(), &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: target}); err != nil {
		t.Fatal(err)
	}
	h = e.targetHealth(tg, "127.0.0.1", b.port)
	if h.State != elbtypes.TargetHealthStateEnumDraining || h.Reason != elbtypes.TargetHealthReasonEnumDeregistrationInProgress ||
		aws.ToString(h.Description) != "Target deregistration is in progress" {
		t.Fatalf("deregistered target: %s (%s) %q, want draining", h.State, h.Reason, aws.ToString(h.Description))
	}
	w := elb.NewTargetDeregisteredWaiter(e.elb, func(o *elb.TargetDeregisteredWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(e.ctx(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg), Targets: target}, 30*time.Second); err != nil {
		t.Fatalf("target-deregistered waiter: %v", err)
	}
	h = e.targetHealth(tg, "127.0.0.1", b.port)
	if h.State != elbtypes.TargetHealthStateEnumUnused || h.Reason != elbtypes.TargetHealthReasonEnumNotRegistered ||
		aws.ToString(h.Description) != "Target is not registered to the target group" {
		t.Fatalf("after the deregistration delay: %s (%s) %q, want unused / Target.NotRegistered", h.State, h.Reason, aws.ToString(h.Description))
	}
	all, err := e.elb.DescribeTargetHealth(e.ctx(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.TargetHealthDescriptions) != 0 {
		t.Fatalf("the group still lists %d targets after the delay", len(all.TargetHealthDescriptions))
	}

	// A group no listener or rule uses: its target is unused, not in use.
	idle := e.targetGroup("idle", elbtypes.ProtocolEnumHttp, 80, elbtypes.TargetTypeEnumIp, 0)
	e.register(idle, b.port)
	h = e.targetHealth(idle, "127.0.0.1", b.port)
	if h.State != elbtypes.TargetHealthStateEnumUnused || h.Reason != elbtypes.TargetHealthReasonEnumNotInUse ||
		aws.ToString(h.Description) != "Target group is not configured to receive traffic from the load balancer" {
		t.Fatalf("target of an unused group: %s (%s) %q, want unused / Target.NotInUse", h.State, h.Reason, aws.ToString(h.Description))
	}
}
