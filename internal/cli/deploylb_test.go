package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestReadManifest_LoadBalancer(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "m.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "service: web\ndesiredCount: 2\n"
	const bridge = "taskDefinition:\n  networkMode: bridge\n  containerDefinitions:\n" +
		"    - {name: side, image: busybox, memory: 32}\n" +
		"    - {name: app, image: demo, memory: 64, portMappings: [{containerPort: 8080}, {containerPort: 9090}]}\n"
	const awsvpc = "taskDefinition:\n  networkMode: awsvpc\n  containerDefinitions:\n" +
		"    - {name: app, image: demo, memory: 64, portMappings: [{containerPort: 8080}]}\n"

	// Defaults: an ALB, HTTP listener and target group, the first container
	// with a port mapping and its first port, the service's name, instance
	// targets for bridge.
	m, _, err := readManifest(write(head + bridge + "loadBalancer: {name: web, listener: {port: 80}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	lb := m.LoadBalancer
	if lb.Type != "application" || lb.Listener.Protocol != "HTTP" || lb.ContainerName != "app" || aws.ToInt32(lb.ContainerPort) != 8080 ||
		lb.TargetGroup.Name != "web" || aws.ToInt32(lb.TargetGroup.Port) != 8080 || lb.TargetGroup.Protocol != "HTTP" ||
		lb.targetType != "instance" || len(lb.Subnets) != 2 || lb.healthCheck.Path != "/" || lb.healthCheck.Matcher.HttpCode != "200" {
		t.Errorf("defaults: %+v %+v %+v", lb, lb.Listener, lb.TargetGroup)
	}

	// Everything given; awsvpc gives ip targets.
	m, _, err = readManifest(write(head + awsvpc + `loadBalancer:
  name: web
  type: application
  scheme: internal
  listener: {port: 8000, protocol: HTTP}
  rule: {priority: 10, pathPatterns: ["/api/*"], hostHeaders: [api.example.com]}
  targetGroup:
    name: web-tg
    port: 8081
    protocol: HTTP
    healthCheck: {path: /health, intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 3, matcher: "200-399"}
    deregistrationDelaySeconds: 30
  containerName: app
  containerPort: 8080
`))
	if err != nil {
		t.Fatal(err)
	}
	lb = m.LoadBalancer
	hc := lb.healthCheck
	if lb.targetType != "ip" || lb.TargetGroup.Name != "web-tg" || aws.ToInt32(lb.TargetGroup.Port) != 8081 ||
		aws.ToInt32(lb.Rule.Priority) != 10 || aws.ToInt32(lb.TargetGroup.DeregistrationDelaySeconds) != 30 ||
		hc.Path != "/health" || hc.IntervalSeconds != 5 || hc.TimeoutSeconds != 2 || hc.HealthyThreshold != 2 || hc.UnhealthyThreshold != 3 ||
		hc.Matcher.HttpCode != "200-399" {
		t.Errorf("given: %+v %+v %+v", lb, lb.TargetGroup, hc)
	}
	if got := curlLine(lb, "127.0.1.1"); got != "curl -H 'Host: api.example.com' http://127.0.1.1:8000/api/" {
		t.Errorf("curl line: %q", got)
	}

	// An NLB: TCP listener and target group by default, TCP health check.
	m, _, err = readManifest(write(head + awsvpc + "loadBalancer: {name: tcp, type: network, listener: {port: 5432}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if lb := m.LoadBalancer; lb.Listener.Protocol != "TCP" || lb.TargetGroup.Protocol != "TCP" || lb.healthCheck.Protocol != "TCP" || lb.healthCheck.Matcher != nil {
		t.Errorf("network defaults: %+v %+v", lb.Listener, lb.TargetGroup)
	}

	for _, c := range []struct{ lb, want string }{
		{"{name: web, listner: {port: 80}}", "loadBalancer.listner: unknown member"},
		{"{name: web, listener: {port: 80, proto: HTTP}}", "loadBalancer.listener.proto: unknown member"},
		{"{name: web, listener: {port: 80}, targetGroup: {healthCheck: {paht: /}}}", "loadBalancer.targetGroup.healthCheck.paht: unknown member"},
		{"{name: web, listener: {port: eighty}}", "loadBalancer.listener.port: must be a whole number"},
		{"{listener: {port: 80}}", "loadBalancer.name is required"},
		{"{name: -web, listener: {port: 80}}", "loadBalancer.name: The load balancer name '-web' cannot begin or end with a hyphen"},
		{"{name: web, type: gateway, listener: {port: 80}}", `loadBalancer.type: "gateway" is not application or network`},
		{"{name: web, scheme: public, listener: {port: 80}}", "loadBalancer.scheme"},
		{"{name: web}", "loadBalancer.listener is required"},
		{"{name: web, listener: {protocol: HTTP}}", "loadBalancer.listener.port is required"},
		{"{name: web, listener: {port: 70000}}", "loadBalancer.listener.port: 70000 is not between 1 and 65535"},
		{"{name: web, listener: {port: 80, protocol: TCP}}", `loadBalancer.listener.protocol: "TCP" is not HTTP or HTTPS`},
		{"{name: web, type: network, listener: {port: 80, protocol: HTTP}}", `loadBalancer.listener.protocol: "HTTP" is not TCP or TLS`},
		{"{name: web, listener: {port: 443, protocol: HTTPS}}", "loadBalancer.listener.certificateArn is required for a HTTPS listener"},
		{"{name: web, listener: {port: 80, certificateArn: arn:aws:acm:us-east-1:0:certificate/x}}", "takes no certificate"},
		{"{name: web, listener: {port: 80}, rule: {pathPatterns: [/api/*]}}", "loadBalancer.rule.priority is required"},
		{"{name: web, listener: {port: 80}, rule: {priority: 0, pathPatterns: [/api/*]}}", "loadBalancer.rule.priority: Priority '0' must be between 1 and 50000"},
		{"{name: web, listener: {port: 80}, rule: {priority: 10}}", "loadBalancer.rule: pathPatterns or hostHeaders is required"},
		{"{name: web, listener: {port: 80}, rule: {priority: 10, pathPatterns: [a, b, c], hostHeaders: [d, e, f]}}", "at most 5"},
		{"{name: web, type: network, listener: {port: 80}, rule: {priority: 10, pathPatterns: [/]}}", "loadBalancer.rule: a network load balancer's listeners have no rules"},
		{"{name: web, listener: {port: 80}, containerName: db}", "loadBalancer.containerName: taskDefinition has no container db"},
		{"{name: web, listener: {port: 80}, containerName: side}", "loadBalancer.containerPort: container side has no port mapping"},
		{"{name: web, listener: {port: 80}, containerPort: 80}", "loadBalancer.containerPort: container app maps no containerPort 80"},
		{"{name: web, listener: {port: 80}, targetGroup: {protocol: TCP}}", `loadBalancer.targetGroup.protocol: "TCP" is not HTTP or HTTPS`},
		{"{name: web, listener: {port: 80}, targetGroup: {name: web_tg}}", "loadBalancer.targetGroup.name: The target group name 'web_tg'"},
		{"{name: web, listener: {port: 80}, targetGroup: {deregistrationDelaySeconds: 4000}}", "deregistrationDelaySeconds: 4000 is not between 0 and 3600"},
		{"{name: web, listener: {port: 80}, targetGroup: {healthCheck: {path: health}}}", "loadBalancer.targetGroup.healthCheck: Health check path must begin with a '/' character"},
		{"{name: web, listener: {port: 80}, targetGroup: {healthCheck: {intervalSeconds: 5, timeoutSeconds: 5}}}", "Health check interval must be greater than the timeout"},
		{"{name: web, type: network, listener: {port: 80}, targetGroup: {healthCheck: {matcher: '200'}}}", "You cannot specify a matcher for TCP health checks"},
		{"{name: web, subnets: [subnet-1], listener: {port: 80}}", "loadBalancer.subnets: an application load balancer needs at least two"},
	} {
		_, _, err := readManifest(write(head + bridge + "loadBalancer: " + c.lb + "\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s", c.lb, err, c.want)
		}
	}
	// The default target group name is the service's, which must be a valid one.
	_, _, err = readManifest(write("service: web_app\ndesiredCount: 1\n" + bridge + "loadBalancer: {name: web, listener: {port: 80}}\n"))
	if err == nil || !strings.Contains(err.Error(), "loadBalancer.targetGroup.name: the default, the service name") {
		t.Errorf("default target group name: %v", err)
	}
}

func TestDeployLB_Compare(t *testing.T) {
	tg := "arn:aws:elasticloadbalancing:us-east-1:0:targetgroup/web/0123456789abcdef"
	if !forwardsOnlyTo([]elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}, tg) ||
		!forwardsOnlyTo([]elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(tg), Weight: aws.Int32(1)}}}}}, tg) {
		t.Error("a forward to the target group")
	}
	if forwardsOnlyTo([]elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
		TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(tg)}, {TargetGroupArn: aws.String(tg + "x")}}}}}, tg) ||
		forwardsOnlyTo([]elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse}}, tg) {
		t.Error("a forward elsewhere or a fixed response")
	}
	want := ruleConditions(&manifestRule{PathPatterns: []string{"/a/*", "/b"}, HostHeaders: []string{"x.example.com"}})
	have := []elbtypes.RuleCondition{
		{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{"x.example.com"}}},
		{Field: aws.String("path-pattern"), Values: []string{"/b", "/a/*"}},
	}
	if !sameConditions(have, want) {
		t.Error("the same conditions in another order and form")
	}
	if sameConditions(have[:1], want) || sameConditions(append(have, elbtypes.RuleCondition{Field: aws.String("http-request-method"),
		HttpRequestMethodConfig: &elbtypes.HttpRequestMethodConditionConfig{Values: []string{"GET"}}}), want) {
		t.Error("other conditions")
	}
	a := []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
	b := []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8081)}}
	if !sameServiceLBs(a, a) || sameServiceLBs(a, b) || sameServiceLBs(nil, a) {
		t.Error("service load balancers")
	}
	if got := shortTGArn(a[0]); got != "web" {
		t.Errorf("shortTGArn: %q", got)
	}
	https := &manifestLB{Listener: &manifestListener{Port: aws.Int32(443), Protocol: "HTTPS"}}
	if got := curlLine(https, "127.0.1.1"); got != "curl -k https://127.0.1.1/" {
		t.Errorf("https curl line: %q", got)
	}
}
