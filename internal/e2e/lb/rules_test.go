package lb

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestListenerRulesAndWeights: an ALB listener routes by path and by host
// to two target groups, answers its default fixed 404 otherwise, follows
// SetRulePriorities, ModifyRule and DeleteRule at once, and a weighted
// forward splits 3:1 between the groups.
func TestListenerRulesAndWeights(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	a, b := startBackend(t, "a"), startBackend(t, "b")
	lbARN := e.newLB("rules", elbtypes.LoadBalancerTypeEnumApplication)
	tgA := e.targetGroup("tg-a", elbtypes.ProtocolEnumHttp, 80, elbtypes.TargetTypeEnumIp, 0)
	tgB := e.targetGroup("tg-b", elbtypes.ProtocolEnumHttp, 80, elbtypes.TargetTypeEnumIp, 0)
	e.register(tgA, a.port)
	e.register(tgB, b.port)
	l := e.listener(lbARN, elbtypes.ProtocolEnumHttp, 80, "", []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404"), ContentType: aws.String("text/plain"),
			MessageBody: aws.String("no route")}}})
	rule := func(prio int32, cond elbtypes.RuleCondition, tg string) string {
		out, err := e.elb.CreateRule(e.ctx(), &elb.CreateRuleInput{ListenerArn: aws.String(l), Priority: aws.Int32(prio),
			Conditions: []elbtypes.RuleCondition{cond}, Actions: forward(tg)})
		if err != nil {
			t.Fatalf("create rule %d: %v", prio, err)
		}
		return aws.ToString(out.Rules[0].RuleArn)
	}
	pathRule := rule(10, elbtypes.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/api/*"}}}, tgA)
	hostRule := rule(20, elbtypes.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{"admin.example.com"}}}, tgB)
	// A second listener forwards 3:1 to the two groups.
	e.listener(lbARN, elbtypes.ProtocolEnumHttp, 8080, "", []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
		ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(tgA), Weight: aws.Int32(3)}, {TargetGroupArn: aws.String(tgB), Weight: aws.Int32(1)}}}}})
	addr := e.waitActive(lbARN)
	e.waitInService(tgA, 30*time.Second)
	e.waitInService(tgB, 30*time.Second)

	c := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		host, path string
		status     int
		backend    string
	}{
		{"www.example.com", "/api/users", 200, "a"},
		{"", "/api/", 200, "a"},
		{"admin.example.com", "/", 200, "b"},
		{"ADMIN.example.com:80", "/settings", 200, "b"},
		{"admin.example.com", "/api/x", 200, "a"}, // priority 10 comes first
		{"www.example.com", "/", 404, "no route"},
		{"", "/apiary", 404, "no route"},
		{"admin.example.org", "/x", 404, "no route"},
	} {
		status, ec, err := get(t, c, "http://"+addr+tc.path, tc.host)
		if err != nil {
			t.Fatalf("GET %s (Host %s): %v", tc.path, tc.host, err)
		}
		if status != tc.status || ec.Version != tc.backend {
			t.Errorf("GET %s (Host %q): %d from %q, want %d from %q", tc.path, tc.host, status, ec.Version, tc.status, tc.backend)
		}
		if status == 200 && ec.Path != tc.path {
			t.Errorf("GET %s reached the backend as %s", tc.path, ec.Path)
		}
	}

	// Rule changes take effect at once (within 5 s; the stream's heartbeat
	// is 10 s): the host rule moves before the path rule, then forwards to
	// a; the path rule goes.
	route := func(what, host, path, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			status, ec, err := get(t, c, "http://"+addr+path, host)
			if err == nil && ec.Version == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: GET %s (Host %q) still answers %d from %q (%v), want %q", what, path, host, status, ec.Version, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if _, err := e.elb.SetRulePriorities(e.ctx(), &elb.SetRulePrioritiesInput{RulePriorities: []elbtypes.RulePriorityPair{
		{RuleArn: aws.String(hostRule), Priority: aws.Int32(5)}}}); err != nil {
		t.Fatal(err)
	}
	route("SetRulePriorities", "admin.example.com", "/api/x", "b")
	if _, err := e.elb.ModifyRule(e.ctx(), &elb.ModifyRuleInput{RuleArn: aws.String(hostRule), Actions: forward(tgA)}); err != nil {
		t.Fatal(err)
	}
	route("ModifyRule", "admin.example.com", "/", "a")
	if _, err := e.elb.DeleteRule(e.ctx(), &elb.DeleteRuleInput{RuleArn: aws.String(pathRule)}); err != nil {
		t.Fatal(err)
	}
	route("DeleteRule", "www.example.com", "/api/users", "no route")

	// The weighted split over 400 requests: 3:1 within 10 points (4.6 standard deviations of a random split).
	const n = 400
	count := map[string]int{}
	for i := range n {
		status, ec, err := get(t, c, fmt.Sprintf("http://%s:8080/w/%d", addr, i), "")
		if err != nil || status != 200 {
			t.Fatalf("weighted request %d: %d %v", i, status, err)
		}
		count[ec.Version]++
	}
	share := float64(count["a"]) / n
	t.Logf("weighted 3:1 over %d requests: %v (a %.1f%%)", n, count, 100*share)
	if count["a"]+count["b"] != n || math.Abs(share-0.75) > 0.10 {
		t.Fatalf("weighted 3:1 forward split %v over %d requests, want about 75%% to a", count, n)
	}
}
