package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// berth lbs prints headed columns, the address to connect to on each
// listener, a target group's name for a single-group forward, and a
// target's health reason with its description; -o json leaves out the
// members an answer did not have, as the AWS CLI does.
func TestPrintLBs(t *testing.T) {
	tgARN := "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web-tg/29b3b6f7e0606d0a"
	views := []lbView{{
		LoadBalancer: elbtypes.LoadBalancer{
			LoadBalancerName: aws.String("web"), Type: elbtypes.LoadBalancerTypeEnumApplication, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing,
			State:   &elbtypes.LoadBalancerState{Code: elbtypes.LoadBalancerStateEnumProvisioning, Reason: aws.String("no load-balancer node serves it yet")},
			DNSName: aws.String("web-1.us-east-1.elb.amazonaws.com"),
			AvailabilityZones: []elbtypes.AvailabilityZone{{ZoneName: aws.String("us-east-1a"),
				LoadBalancerAddresses: []elbtypes.LoadBalancerAddress{{IpAddress: aws.String("127.0.1.1")}}}},
		},
		Listeners: []listenerView{{
			Listener: elbtypes.Listener{Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8000)},
			Rules: []elbtypes.Rule{
				{Priority: aws.String("10"), Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/", "/health"}}}},
					Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN),
						ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(tgARN), Weight: aws.Int32(1)}}}}}},
				{Priority: aws.String("default"), Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}}},
			},
		}},
		TargetGroups: []targetGroupView{{
			TargetGroup: elbtypes.TargetGroup{TargetGroupName: aws.String("web-tg"), TargetGroupArn: aws.String(tgARN)},
			Targets: []elbtypes.TargetHealthDescription{
				{Target: &elbtypes.TargetDescription{Id: aws.String("i-0123"), Port: aws.Int32(32790)}, TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumHealthy}},
				{Target: &elbtypes.TargetDescription{Id: aws.String("i-0123"), Port: aws.Int32(32791)}, TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumUnhealthy,
					Reason: elbtypes.TargetHealthReasonEnumResponseCodeMismatch, Description: aws.String("Health checks failed with these codes: [500]")}},
			},
		}},
	}}
	var out bytes.Buffer
	if err := printLBs(&Env{Stdout: &out}, views); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"LOAD BALANCER  TYPE", "web            application  internet-facing  provisioning  127.0.1.1",
		"  provisioning: no load-balancer node serves it yet",
		"  HTTP 127.0.1.1:8000  10       path-pattern=/,/health  forward web-tg\n",
		"  HTTP 127.0.1.1:8000  default  -                       fixed-response 404",
		"  web-tg        i-0123  32790  healthy    -\n",
		"unhealthy  Target.ResponseCodeMismatch: Health checks failed with these codes: [500]",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := encodeLBViews(&out, views); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"null", `""`} {
		if strings.Contains(out.String(), absent) {
			t.Errorf("json output has %s:\n%s", absent, out.String())
		}
	}
	if !strings.Contains(out.String(), `"IpAddress": "127.0.1.1"`) {
		t.Errorf("json output lacks the address:\n%s", out.String())
	}
}
