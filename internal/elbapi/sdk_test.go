package elbapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/elbapi"
	"berth.dev/berth/internal/elbshape"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/shape"
)

var namer = arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}

// machineProposer applies commands to an in-memory state machine, as raft
// would on a single node.
type machineProposer struct {
	mu    sync.Mutex
	m     *fsm.Machine
	index uint64
}

func (p *machineProposer) Apply(ctx context.Context, c wire.Command) (any, error) {
	b, err := wire.Encode(c)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.index++
	r := p.m.Apply(p.index, b)
	return r.Value, r.Err
}

type anyAuth struct{}

func (anyAuth) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	return "arn:aws:iam::123456789012:root", nil
}

// fakeHealth reports targets healthy once set.
type fakeHealth struct {
	mu      sync.Mutex
	healthy map[string]bool
}

func (f *fakeHealth) set(tg, id string, port int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.healthy == nil {
		f.healthy = map[string]bool{}
	}
	f.healthy[fmt.Sprintf("%s|%s|%d", tg, id, port)] = true
}

func (f *fakeHealth) TargetHealth(tg, id string, port int) (lbconfig.TargetHealth, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.healthy[fmt.Sprintf("%s|%s|%d", tg, id, port)] {
		return lbconfig.TargetHealth{TargetGroupARN: tg, ID: id, Port: port, State: lbconfig.HealthHealthy}, true
	}
	return lbconfig.TargetHealth{}, false
}

type certs map[string]bool

func (c certs) Certificate(arnValue string) (string, string, bool) {
	return "CHAIN", "KEY", c[arnValue]
}

type harness struct {
	c      *elbv2.Client
	m      *fsm.Machine
	p      *machineProposer
	health *fakeHealth
}

const testCert = "arn:aws:acm:us-east-1:123456789012:certificate/good"

func newHarness(t *testing.T, pool string) *harness {
	t.Helper()
	m := fsm.New(namer, slog.New(slog.DiscardHandler))
	p := &machineProposer{m: m}
	h := &fakeHealth{}
	cfg := elbapi.Config{Namer: namer, State: m, Proposer: p, Health: h, Certificates: certs{testCert: true}}
	if pool != "" {
		cfg.LBAddresses = netip.MustParsePrefix(pool)
	}
	api := elbapi.New(cfg)
	edge := awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{api.Service()}, Auth: anyAuth{}, Log: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(edge)
	t.Cleanup(srv.Close)
	c := elbv2.New(elbv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), Retryer: aws.NopRetryer{}})
	return &harness{c: c, m: m, p: p, health: h}
}

// errCode asserts err is an API error of code whose message contains text.
func errCode(t *testing.T, err error, code, text string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), text) {
		t.Fatalf("got %s: %s, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, text)
	}
}

func (h *harness) alb(t *testing.T, name string) types.LoadBalancer {
	t.Helper()
	out, err := h.c.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{Name: aws.String(name),
		Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"},
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.LoadBalancers[0]
}

func (h *harness) tg(t *testing.T, name string, protocol types.ProtocolEnum, port int32) types.TargetGroup {
	t.Helper()
	out, err := h.c.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: protocol,
		Port: aws.Int32(port), VpcId: aws.String("vpc-1"), TargetType: types.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	return out.TargetGroups[0]
}

func forward(tg string) []types.Action {
	return []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
}

func TestLoadBalancerLifecycle(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "127.0.1.0/24")
	// Terraform looks the name up first and expects LoadBalancerNotFound.
	_, err := h.c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}})
	var nf *types.LoadBalancerNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("describe of a missing name: %v", err)
	}
	errCode(t, err, "LoadBalancerNotFound", "Load balancers '[web]' not found")
	lb := h.alb(t, "web")
	if lb.State.Code != types.LoadBalancerStateEnumProvisioning || !strings.HasPrefix(aws.ToString(lb.DNSName), "web-") ||
		!strings.HasSuffix(aws.ToString(lb.DNSName), ".us-east-1.elb.amazonaws.com") || len(lb.AvailabilityZones) != 2 ||
		aws.ToString(lb.AvailabilityZones[1].ZoneName) != "us-east-1b" || lb.Type != types.LoadBalancerTypeEnumApplication {
		t.Fatalf("created %+v", lb)
	}
	if aws.ToString(lb.State.Reason) == "" {
		t.Error("a provisioning load balancer says why")
	}
	// Idempotent create returns the same load balancer; other settings are a duplicate.
	again := h.alb(t, "web")
	if aws.ToString(again.LoadBalancerArn) != aws.ToString(lb.LoadBalancerArn) {
		t.Fatal("the repeat created another load balancer")
	}
	_, err = h.c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-1", "subnet-2"}, Scheme: types.LoadBalancerSchemeEnumInternal})
	var dup *types.DuplicateLoadBalancerNameException
	if !errors.As(err, &dup) {
		t.Fatalf("duplicate name: %v", err)
	}
	// ALBs need two subnets; dualstack is refused.
	_, err = h.c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("one"), Subnets: []string{"subnet-1"}})
	errCode(t, err, "ValidationError", "At least two subnets in two different Availability Zones must be specified")
	_, err = h.c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("ds"), Subnets: []string{"subnet-1", "subnet-2"}, IpAddressType: types.IpAddressTypeDualstack})
	errCode(t, err, "InvalidConfigurationRequest", "dualstack")
	_, err = h.c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("internal-x"), Subnets: []string{"subnet-1", "subnet-2"}})
	errCode(t, err, "ValidationError", "internal-")
	// An NLB: its DNS name carries its ID, its address the next of the pool.
	nlb, err := h.c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("tcp"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: []string{"subnet-1"}})
	if err != nil {
		t.Fatal(err)
	}
	n := nlb.LoadBalancers[0]
	id := aws.ToString(n.LoadBalancerArn)[strings.LastIndexByte(aws.ToString(n.LoadBalancerArn), '/')+1:]
	if aws.ToString(n.DNSName) != "tcp-"+id+".elb.us-east-1.amazonaws.com" || aws.ToString(n.AvailabilityZones[0].LoadBalancerAddresses[0].IpAddress) != "127.0.1.2" {
		t.Fatalf("NLB %s %+v", aws.ToString(n.DNSName), n.AvailabilityZones)
	}

	// Attributes: the full default set; Terraform's first modify; unknown keys with Terraform's texts.
	attrs, err := h.c.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil || len(attrs.Attributes) < 15 {
		t.Fatalf("attributes: %v %d", err, len(attrs.Attributes))
	}
	_, err = h.c.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("access_logs.s3.enabled"), Value: aws.String("false")},
			{Key: aws.String("connection_logs.s3.enabled"), Value: aws.String("false")}, {Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.c.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("bogus.key"), Value: aws.String("1")}}})
	errCode(t, err, "ValidationError", "attribute key 'bogus.key' is not recognized")
	_, err = h.c.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: n.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("connection_logs.s3.enabled"), Value: aws.String("false")}}})
	errCode(t, err, "InvalidConfigurationRequest", "Load balancer attribute key 'connection_logs.s3.enabled' is not supported on load balancers with type 'network'")

	// Deletion protection holds; then deleting twice succeeds.
	_, err = h.c.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn})
	var np *types.OperationNotPermittedException
	if !errors.As(err, &np) {
		t.Fatalf("delete with protection: %v", err)
	}
	if _, err := h.c.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: lb.LoadBalancerArn, SecurityGroups: []string{"sg-2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.SetSubnets(ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: lb.LoadBalancerArn, Subnets: []string{"subnet-3", "subnet-4", "subnet-5"}}); err != nil {
		t.Fatal(err)
	}
	got, err := h.c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lb.LoadBalancerArn)}})
	if err != nil || len(got.LoadBalancers[0].AvailabilityZones) != 3 || got.LoadBalancers[0].SecurityGroups[0] != "sg-2" {
		t.Fatalf("after Set*: %v %+v", err, got)
	}
	if _, err := h.c.DescribeCapacityReservation(ctx, &elbv2.DescribeCapacityReservationInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	tags, err := h.c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(lb.LoadBalancerArn)}})
	if err != nil || len(tags.TagDescriptions[0].Tags) != 1 || aws.ToString(tags.TagDescriptions[0].Tags[0].Key) != "env" {
		t.Fatalf("tags: %v %+v", err, tags)
	}
	if _, err := h.c.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("false")}}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := h.c.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
			t.Fatal(err)
		}
	}
	// The address is free again: the next load balancer gets it.
	next := h.alb(t, "web2")
	snap := h.m.Snapshot()
	if a := snap.LoadBalancer(aws.ToString(next.LoadBalancerArn)).Address; a != "127.0.1.1" {
		t.Fatalf("address %s, want the freed 127.0.1.1", a)
	}
}

func TestNoAddressPool(t *testing.T) {
	h := newHarness(t, "")
	_, err := h.c.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-1", "subnet-2"}})
	errCode(t, err, "InvalidConfigurationRequest", "--lb-addresses")
}

func TestPaging(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "127.0.1.0/24")
	for i := range 5 {
		h.tg(t, fmt.Sprintf("tg-%d", i), types.ProtocolEnumHttp, 80)
	}
	p := elbv2.NewDescribeTargetGroupsPaginator(h.c, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(2)})
	seen, pages := map[string]bool{}, 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tg := range out.TargetGroups {
			seen[aws.ToString(tg.TargetGroupName)] = true
		}
	}
	if len(seen) != 5 || pages != 3 {
		t.Fatalf("%d target groups in %d pages", len(seen), pages)
	}
	_, err := h.c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(401)})
	errCode(t, err, "ValidationError", "Page size")
	_, err = h.c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"nope"}})
	var tnf *types.TargetGroupNotFoundException
	if !errors.As(err, &tnf) {
		t.Fatalf("missing target group: %v", err)
	}
}

func TestTargetGroupsListenersRules(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "127.0.1.0/24")
	lb := h.alb(t, "web")
	tg := h.tg(t, "web", types.ProtocolEnumHttp, 8080)
	if aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 5 || aws.ToString(tg.HealthCheckPath) != "/" || aws.ToString(tg.Matcher.HttpCode) != "200" ||
		aws.ToString(tg.HealthCheckPort) != "traffic-port" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 30 {
		t.Fatalf("health check defaults: %+v", tg)
	}
	_, err := h.c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("novpc"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})
	errCode(t, err, "ValidationError", "A VPC ID must be specified")
	_, err = h.c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("udp"), Protocol: types.ProtocolEnumUdp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
	errCode(t, err, "UnsupportedProtocol", "UDP")
	_, err = h.c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), VpcId: aws.String("vpc-1"), TargetType: types.TargetTypeEnumIp})
	var dupTG *types.DuplicateTargetGroupNameException
	if !errors.As(err, &dupTG) {
		t.Fatalf("duplicate target group: %v", err)
	}
	if _, err := h.c.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckPath: aws.String("/health"),
		Matcher: &types.Matcher{HttpCode: aws.String("200-299")}}); err != nil {
		t.Fatal(err)
	}
	tgAttrs, err := h.c.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil || len(tgAttrs.Attributes) < 10 {
		t.Fatalf("target group attributes: %v", err)
	}
	if _, err := h.c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("proxy_protocol_v2.enabled"), Value: aws.String("true")}}})
	errCode(t, err, "InvalidConfigurationRequest", "not supported")

	// Listeners: HTTPS needs a known certificate.
	_, err = h.c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/unknown")}}, DefaultActions: forward(aws.ToString(tg.TargetGroupArn))})
	var cnf *types.CertificateNotFoundException
	if !errors.As(err, &cnf) {
		t.Fatalf("unknown certificate: %v", err)
	}
	https, err := h.c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: []types.Certificate{{CertificateArn: aws.String(testCert)}}, DefaultActions: forward(aws.ToString(tg.TargetGroupArn))})
	if err != nil {
		t.Fatal(err)
	}
	l := https.Listeners[0]
	if aws.ToString(l.SslPolicy) == "" {
		t.Error("an HTTPS listener gets the default SSL policy")
	}
	_, err = h.c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(443), DefaultActions: forward(aws.ToString(tg.TargetGroupArn))})
	var dupL *types.DuplicateListenerException
	if !errors.As(err, &dupL) {
		t.Fatalf("duplicate listener: %v", err)
	}
	_, err = h.c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumTcp, Port: aws.Int32(81), DefaultActions: forward(aws.ToString(tg.TargetGroupArn))})
	var up *types.UnsupportedProtocolException
	if !errors.As(err, &up) {
		t.Fatalf("TCP on an ALB: %v", err)
	}
	// Terraform: deleting a target group in use.
	_, err = h.c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
	errCode(t, err, "ResourceInUse", "is currently in use by a listener or a rule")
	// The target group now names its load balancer.
	d, err := h.c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil || len(d.TargetGroups) != 1 || d.TargetGroups[0].LoadBalancerArns[0] != aws.ToString(lb.LoadBalancerArn) {
		t.Fatalf("target groups of the load balancer: %v %+v", err, d)
	}

	// Rules: a rule without priority gets max+1 as Terraform computes it.
	rule := func(prio int32, path string) (*elbv2.CreateRuleOutput, error) {
		return h.c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(prio),
			Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{path}}}},
			Actions:    []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	}
	if _, err := rule(5, "/a/*"); err != nil {
		t.Fatal(err)
	}
	_, err = rule(5, "/b/*")
	var piu *types.PriorityInUseException
	if !errors.As(err, &piu) {
		t.Fatalf("priority in use: %v", err)
	}
	rules, err := h.c.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
	if err != nil || len(rules.Rules) != 2 || aws.ToString(rules.Rules[1].Priority) != "default" || !aws.ToBool(rules.Rules[1].IsDefault) {
		t.Fatalf("rules: %v %+v", err, rules)
	}
	maxp := 0
	for _, r := range rules.Rules {
		var n int
		if _, err := fmt.Sscan(aws.ToString(r.Priority), &n); err == nil && n > maxp {
			maxp = n
		}
	}
	r2, err := rule(int32(maxp+1), "/b/*")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.c.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: rules.Rules[1].RuleArn})
	var onp *types.OperationNotPermittedException
	if !errors.As(err, &onp) {
		t.Fatalf("deleting the default rule: %v", err)
	}
	if _, err := h.c.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: rules.Rules[0].RuleArn, Priority: aws.Int32(6)}, {RuleArn: r2.Rules[0].RuleArn, Priority: aws.Int32(5)}}}); err != nil {
		t.Fatal(err)
	}
	mod, err := h.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: r2.Rules[0].RuleArn, Actions: []types.Action{{Type: types.ActionTypeEnumRedirect,
		RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301, Host: aws.String("example.com")}}}})
	if err != nil || len(mod.Rules) != 1 || mod.Rules[0].Actions[0].Type != types.ActionTypeEnumRedirect {
		t.Fatalf("modify rule: %v", err)
	}
	_, err = h.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: r2.Rules[0].RuleArn, Actions: []types.Action{{Type: types.ActionTypeEnumRedirect,
		RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}})
	var ila *types.InvalidLoadBalancerActionException
	if !errors.As(err, &ila) {
		t.Fatalf("a redirect to itself: %v", err)
	}
	if _, err := h.c.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{aws.ToString(r2.Rules[0].RuleArn), aws.ToString(l.ListenerArn)},
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{aws.ToString(tg.TargetGroupArn)},
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}, {Key: aws.String("a"), Value: aws.String("c")}}})
	var dtk *types.DuplicateTagKeysException
	if !errors.As(err, &dtk) {
		t.Fatalf("duplicate tag keys: %v", err)
	}
	if _, err := h.c.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{aws.ToString(l.ListenerArn)}, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	certsOut, err := h.c.DescribeListenerCertificates(ctx, &elbv2.DescribeListenerCertificatesInput{ListenerArn: l.ListenerArn})
	if err != nil || len(certsOut.Certificates) != 1 || !aws.ToBool(certsOut.Certificates[0].IsDefault) {
		t.Fatalf("listener certificates: %v", err)
	}
	la, err := h.c.DescribeListenerAttributes(ctx, &elbv2.DescribeListenerAttributesInput{ListenerArn: l.ListenerArn})
	if err != nil || len(la.Attributes) != 0 {
		t.Fatalf("ALB listener attributes: %v %+v", err, la)
	}
	// Deleting the load balancer deletes its listeners and rules; the target group is then free.
	if _, err := h.c.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{aws.ToString(l.ListenerArn)}})
	var lnf *types.ListenerNotFoundException
	if !errors.As(err, &lnf) {
		t.Fatalf("listener of a deleted load balancer: %v", err)
	}
	_, err = h.c.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{aws.ToString(r2.Rules[0].RuleArn)}})
	var rnf *types.RuleNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("rule of a deleted load balancer: %v", err)
	}
	if _, err := h.c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err != nil {
		t.Fatal(err)
	}
}

func TestTargetHealthAndWaiters(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "127.0.1.0/24")
	lb := h.alb(t, "web")
	tg := h.tg(t, "web", types.ProtocolEnumHttp, 8080)
	tgARN := aws.ToString(tg.TargetGroupArn)
	_, err := h.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("8.8.8.8")}}})
	var it *types.InvalidTargetException
	if !errors.As(err, &it) {
		t.Fatalf("a public IP target: %v", err)
	}
	if _, err := h.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	state := func(targets ...types.TargetDescription) types.TargetHealthDescription {
		t.Helper()
		out, err := h.c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn, Targets: targets})
		if err != nil || len(out.TargetHealthDescriptions) != 1 {
			t.Fatalf("target health: %v %+v", err, out)
		}
		return out.TargetHealthDescriptions[0]
	}
	d := state()
	if d.TargetHealth.State != types.TargetHealthStateEnumUnused || d.TargetHealth.Reason != types.TargetHealthReasonEnumNotInUse || aws.ToInt32(d.Target.Port) != 8080 || aws.ToString(d.HealthCheckPort) != "8080" {
		t.Fatalf("a target of an unused group: %+v %+v", d.Target, d.TargetHealth)
	}
	if _, err := h.c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: forward(tgARN)}); err != nil {
		t.Fatal(err)
	}
	if d := state(); d.TargetHealth.State != types.TargetHealthStateEnumInitial || d.TargetHealth.Reason != types.TargetHealthReasonEnumRegistrationInProgress ||
		aws.ToString(d.TargetHealth.Description) != "Target registration is in progress" {
		t.Fatalf("a new target: %+v", d.TargetHealth)
	}
	// The data plane serves the load balancer, and reports the target healthy.
	if _, err := h.p.Apply(ctx, wire.LoadBalancerActive{Meta: wire.Meta{Now: time.Now()}, ARN: aws.ToString(lb.LoadBalancerArn)}); err != nil {
		t.Fatal(err)
	}
	h.health.set(tgARN, "127.0.0.1", 8080)
	fast := func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 10*time.Millisecond
	}
	if err := elbv2.NewLoadBalancerAvailableWaiter(h.c, fast).Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lb.LoadBalancerArn)}}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	inService := func(o *elbv2.TargetInServiceWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 10*time.Millisecond
	}
	if err := elbv2.NewTargetInServiceWaiter(h.c, inService).Wait(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := state(); d.TargetHealth.State != types.TargetHealthStateEnumHealthy || d.TargetHealth.Reason != "" || d.TargetHealth.Description != nil {
		t.Fatalf("a healthy target: %+v", d.TargetHealth)
	}
	// An unregistered target asked for is unused/Target.NotRegistered.
	if d := state(types.TargetDescription{Id: aws.String("10.0.0.9"), Port: aws.Int32(80)}); d.TargetHealth.State != types.TargetHealthStateEnumUnused ||
		d.TargetHealth.Reason != types.TargetHealthReasonEnumNotRegistered {
		t.Fatalf("an unregistered target: %+v", d.TargetHealth)
	}
	// Deregistering drains (delay 1 s here), then the target is gone.
	if _, err := h.c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1")}, {Id: aws.String("10.1.1.1")}}}); err != nil {
		t.Fatal(err)
	}
	if d := state(types.TargetDescription{Id: aws.String("127.0.0.1")}); d.TargetHealth.State != types.TargetHealthStateEnumDraining || d.TargetHealth.Reason != types.TargetHealthReasonEnumDeregistrationInProgress {
		t.Fatalf("a draining target: %+v", d.TargetHealth)
	}
	dereg := func(o *elbv2.TargetDeregisteredWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	}
	if err := elbv2.NewTargetDeregisteredWaiter(h.c, dereg).Wait(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(8080)}}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Instance targets must be ACTIVE container instances.
	itg, err := h.c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("inst"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: itg.TargetGroups[0].TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("i-0001")}}})
	if !errors.As(err, &it) {
		t.Fatalf("an unknown instance: %v", err)
	}
	if _, err := h.p.Apply(ctx, wire.CreateCluster{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.Apply(ctx, wire.RegisterContainerInstance{Cluster: "prod", NewID: "ci1", EC2InstanceID: "i-0001",
		Attributes: []shape.Attribute{{Name: aws.String(elbapi.HostAddressAttribute), Value: aws.String("10.0.0.5")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: itg.TargetGroups[0].TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("i-0001")}}}); err != nil {
		t.Fatal(err)
	}
}

func TestMiscOperations(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "127.0.1.0/24")
	p, err := h.c.DescribeSSLPolicies(ctx, &elbv2.DescribeSSLPoliciesInput{})
	if err != nil || len(p.SslPolicies) == 0 {
		t.Fatalf("SSL policies: %v", err)
	}
	_, err = h.c.DescribeSSLPolicies(ctx, &elbv2.DescribeSSLPoliciesInput{Names: []string{"nope"}})
	var snf *types.SSLPolicyNotFoundException
	if !errors.As(err, &snf) {
		t.Fatalf("unknown policy: %v", err)
	}
	l, err := h.c.DescribeAccountLimits(ctx, &elbv2.DescribeAccountLimitsInput{})
	if err != nil || len(l.Limits) == 0 {
		t.Fatalf("limits: %v", err)
	}
	// A model operation berth does not serve is answered as such.
	_, err = h.c.DescribeTrustStores(ctx, &elbv2.DescribeTrustStoresInput{})
	errCode(t, err, "InvalidAction", "")
}

// racingProposer commits another load balancer on the same address just
// before the first CreateLoadBalancer it is given, as a concurrent request would.
type racingProposer struct {
	*machineProposer
	raced bool
}

func (p *racingProposer) Apply(ctx context.Context, c wire.Command) (any, error) {
	if cl, ok := c.(wire.CreateLoadBalancer); ok && !p.raced {
		p.raced = true
		other := cl
		other.ID, other.Name = "00000000000000ff", "other"
		if _, err := p.machineProposer.Apply(ctx, other); err != nil {
			return nil, err
		}
	}
	return p.machineProposer.Apply(ctx, c)
}

func TestAddressTakenIsRetried(t *testing.T) {
	m := fsm.New(namer, slog.New(slog.DiscardHandler))
	p := &racingProposer{machineProposer: &machineProposer{m: m}}
	api := elbapi.New(elbapi.Config{Namer: namer, State: m, Proposer: p, LBAddresses: netip.MustParsePrefix("127.0.1.0/30")})
	out, err := api.CreateLoadBalancer(context.Background(), &elbapi.Call{Now: time.Now()}, &elbshape.CreateLoadBalancerRequest{
		Name: aws.String("web"), Subnets: []string{"subnet-1", "subnet-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if a := m.Snapshot().LoadBalancer(aws.ToString(out.LoadBalancers[0].LoadBalancerArn)).Address; a != "127.0.1.2" {
		t.Fatalf("address %s, want 127.0.1.2 (127.0.1.1 was taken meanwhile)", a)
	}
	// The /30 pool has two host addresses: the next one is refused.
	_, err = api.CreateLoadBalancer(context.Background(), &elbapi.Call{Now: time.Now()}, &elbshape.CreateLoadBalancerRequest{
		Name: aws.String("third"), Subnets: []string{"subnet-1", "subnet-2"}})
	if e, ok := elbapi.ErrorFor(err); !ok || !strings.Contains(e.Message, "in use") {
		t.Fatalf("a full pool: %v", err)
	}
}
