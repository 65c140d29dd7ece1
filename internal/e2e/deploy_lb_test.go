package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth.dev/berth/internal/sdkhttp"
)

// newELBClient returns an ELBv2 client for endpoint that makes one attempt
// per call.
func newELBClient(t *testing.T, endpoint string) *elbv2.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }),
	)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return elbv2.NewFromConfig(cfg, func(o *elbv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New()
	})
}

// lbManifest is a `berth deploy` manifest of a service with no tasks
// (desiredCount 0: the deployment completes without agents) behind an ALB
// rule for path.
func lbManifest(path string) string {
	return `cluster: lb
service: web
desiredCount: 0
taskDefinition:
  family: web
  networkMode: bridge
  containerDefinitions:
    - name: app
      image: berth-demo:1
      memory: 64
      portMappings:
        - containerPort: 8080
          hostPort: 0
loadBalancer:
  name: web
  listener:
    port: 80
  rule:
    priority: 10
    pathPatterns: ["` + path + `"]
    hostHeaders: [api.example.com]
  targetGroup:
    name: web-tg
    healthCheck: {path: /health, intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 2, matcher: "200-399"}
    deregistrationDelaySeconds: 30
`
}

// TestDeployLoadBalancer runs `berth deploy` with a manifest that declares
// its load balancer, listener, rule and target group: the first run creates
// them and a service that names the target group, a second run creates
// nothing, and a changed path modifies the rule in place.
func TestDeployLoadBalancer(t *testing.T) {
	t.Parallel()
	e := startServer(t, serverOptions{lbAddresses: "127.77.0.0/24"})
	te := &taskEnv{env: e, t: t, cluster: "lb"}
	if _, err := e.ecs.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("lb")}); err != nil {
		t.Fatal(err)
	}
	c := newELBClient(t, e.endpoint)
	file := filepath.Join(t.TempDir(), "web.yaml")
	deploy := func(path string) string {
		t.Helper()
		if err := os.WriteFile(file, []byte(lbManifest(path)), 0o600); err != nil {
			t.Fatal(err)
		}
		return te.mustBerth("deploy", "-f", file, "--timeout", "20s")
	}

	// check reads the ELBv2 state and the service, and returns the rule's ARN.
	check := func(path string) string {
		t.Helper()
		cx := ctx(t)
		lbs, err := c.DescribeLoadBalancers(cx, &elbv2.DescribeLoadBalancersInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(lbs.LoadBalancers) != 1 {
			t.Fatalf("%d load balancers, want 1", len(lbs.LoadBalancers))
		}
		lb := lbs.LoadBalancers[0]
		if aws.ToString(lb.LoadBalancerName) != "web" || lb.Type != elbtypes.LoadBalancerTypeEnumApplication {
			t.Errorf("load balancer %s %s", aws.ToString(lb.LoadBalancerName), lb.Type)
		}
		tgs, err := c.DescribeTargetGroups(cx, &elbv2.DescribeTargetGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(tgs.TargetGroups) != 1 {
			t.Fatalf("%d target groups, want 1", len(tgs.TargetGroups))
		}
		tg := tgs.TargetGroups[0]
		tgArn := aws.ToString(tg.TargetGroupArn)
		if aws.ToString(tg.TargetGroupName) != "web-tg" || tg.TargetType != elbtypes.TargetTypeEnumInstance || aws.ToInt32(tg.Port) != 8080 ||
			tg.Protocol != elbtypes.ProtocolEnumHttp || aws.ToString(tg.HealthCheckPath) != "/health" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 5 ||
			aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 2 || aws.ToInt32(tg.HealthyThresholdCount) != 2 || aws.ToInt32(tg.UnhealthyThresholdCount) != 2 ||
			tg.Matcher == nil || aws.ToString(tg.Matcher.HttpCode) != "200-399" || !slices.Equal(tg.LoadBalancerArns, []string{aws.ToString(lb.LoadBalancerArn)}) {
			t.Errorf("target group: %+v", tg)
		}
		attrs, err := c.DescribeTargetGroupAttributes(cx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range attrs.Attributes {
			if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" && aws.ToString(a.Value) != "30" {
				t.Errorf("deregistration delay %s, want 30", aws.ToString(a.Value))
			}
		}
		ls, err := c.DescribeListeners(cx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls.Listeners) != 1 || aws.ToInt32(ls.Listeners[0].Port) != 80 || ls.Listeners[0].Protocol != elbtypes.ProtocolEnumHttp {
			t.Fatalf("listeners: %+v", ls.Listeners)
		}
		rules, err := c.DescribeRules(cx, &elbv2.DescribeRulesInput{ListenerArn: ls.Listeners[0].ListenerArn})
		if err != nil {
			t.Fatal(err)
		}
		var mine []elbtypes.Rule
		for _, r := range rules.Rules {
			if !aws.ToBool(r.IsDefault) {
				mine = append(mine, r)
			}
		}
		if len(mine) != 1 {
			t.Fatalf("%d rules besides the default one, want 1: %+v", len(mine), rules.Rules)
		}
		r := mine[0]
		var paths, hosts []string
		for _, cond := range r.Conditions {
			switch aws.ToString(cond.Field) {
			case "path-pattern":
				paths = cond.PathPatternConfig.Values
			case "host-header":
				hosts = cond.HostHeaderConfig.Values
			}
		}
		if aws.ToString(r.Priority) != "10" || !slices.Equal(paths, []string{path}) || !slices.Equal(hosts, []string{"api.example.com"}) ||
			len(r.Actions) != 1 || r.Actions[0].Type != elbtypes.ActionTypeEnumForward || aws.ToString(r.Actions[0].TargetGroupArn) != tgArn {
			t.Errorf("rule %s: conditions %v %v, actions %+v", aws.ToString(r.Priority), paths, hosts, r.Actions)
		}
		svc := te.service("web")
		if len(svc.LoadBalancers) != 1 || aws.ToString(svc.LoadBalancers[0].TargetGroupArn) != tgArn ||
			aws.ToString(svc.LoadBalancers[0].ContainerName) != "app" || aws.ToInt32(svc.LoadBalancers[0].ContainerPort) != 8080 {
			t.Errorf("service load balancers: %+v", svc.LoadBalancers)
		}
		return aws.ToString(r.RuleArn)
	}

	out := deploy("/api/*")
	for _, want := range []string{"load balancer web: created (application, internet-facing)", "target group web-tg: created (instance HTTP:8080)",
		"target group web-tg: deregistration delay 30s", "listener HTTP:80: created (default action: fixed-response 404)",
		"rule 10: created (path-pattern=/api/* host-header=api.example.com -> web-tg)", "completed",
		"load balancer web: web-", " at 127.77.0.1\n", "curl -H 'Host: api.example.com' http://127.77.0.1/api/\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("first deploy printed no %q:\n%s", want, out)
		}
	}
	rule := check("/api/*")

	out = deploy("/api/*")
	for _, want := range []string{"load balancer web: exists", "target group web-tg: exists", "listener HTTP:80: exists", "rule 10: exists"} {
		if !strings.Contains(out, want) {
			t.Errorf("second deploy printed no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "created") || strings.Contains(out, "modified") || strings.Contains(out, "load balancers changed") {
		t.Errorf("second deploy changed something:\n%s", out)
	}
	if got := check("/api/*"); got != rule {
		t.Errorf("rule %s after the second deploy, want %s", got, rule)
	}

	out = deploy("/v2/*")
	if !strings.Contains(out, "rule 10: modified (path-pattern=/v2/* host-header=api.example.com -> web-tg)") {
		t.Errorf("third deploy printed:\n%s", out)
	}
	if got := check("/v2/*"); got != rule {
		t.Errorf("rule %s after the path changed, want %s modified in place", got, rule)
	}

	// Refusals, before the service changes: without a rule the listener's
	// default action (the 404) would have to forward to the target group;
	// awsvpc needs ip targets, and web-tg has instance ones.
	for _, c := range []struct{ from, to, want string }{
		{"  rule:\n    priority: 10\n    pathPatterns: [\"/v2/*\"]\n    hostHeaders: [api.example.com]\n", "",
			"listener HTTP:80 of load balancer web forwards elsewhere (fixed-response 404), not to target group web-tg"},
		{"networkMode: bridge", "networkMode: awsvpc",
			"target group web-tg exists with target type instance; the task definition's network mode needs ip"},
	} {
		body := strings.Replace(lbManifest("/v2/*"), c.from, c.to, 1)
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := te.berth(ctx(t), "deploy", "-f", file, "--timeout", "20s"); r.code != 1 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stdout, "registered") {
			t.Errorf("deploy with %q: exit %d, want 1 and %q, nothing registered\nstdout:\n%s\nstderr:\n%s", c.to, r.code, c.want, r.stdout, r.stderr)
		}
	}
	check("/v2/*")
}
