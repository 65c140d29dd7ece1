package elb

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var update = flag.Bool("update", false, "rewrite testdata/validation.golden")

func ip(v int) *int       { return &v }
func sp(v string) *string { return &v }

// TestValidationGolden records the answer (ok or code: message) of every
// validation case in testdata/validation.golden: the texts are part of
// the API (Terraform matches some of them).
func TestValidationGolden(t *testing.T) {
	alb := ActionContext{LBType: TypeApplication, Protocol: ProtocolHTTP}
	albs := ActionContext{LBType: TypeApplication, Protocol: ProtocolHTTPS}
	nlb := ActionContext{LBType: TypeNetwork, Protocol: ProtocolTCP}
	fwd := func(tgs ...string) Action {
		f := &ForwardConfig{}
		for _, x := range tgs {
			f.TargetGroups = append(f.TargetGroups, TargetGroupTuple{TargetGroupArn: x})
		}
		return Action{Type: ActionForward, Forward: f}
	}
	redirect := func(r RedirectConfig) []Action { return []Action{{Type: ActionRedirect, Redirect: &r}} }
	fixed := func(code, ct string) []Action {
		return []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponseConfig{StatusCode: code, ContentType: ct}}}
	}
	cond := func(field string, values ...string) RuleCondition { return RuleCondition{Field: field, Values: values} }
	cases := []struct {
		name string
		err  error
	}{
		{"lb name ok", ValidateLoadBalancerName("web-1")},
		{"lb name empty", ValidateLoadBalancerName("")},
		{"lb name long", ValidateLoadBalancerName(strings.Repeat("a", 33))},
		{"lb name hyphen", ValidateLoadBalancerName("-web")},
		{"lb name chars", ValidateLoadBalancerName("web_1")},
		{"lb name internal", ValidateLoadBalancerName("internal-web")},
		{"tg name trailing hyphen", ValidateTargetGroupName("web-")},
		{"lb one subnet", errOf(ValidateLoadBalancer(LoadBalancerInput{Name: "a", Subnets: []string{"subnet-1"}}))},
		{"lb bad subnet", errOf(ValidateLoadBalancer(LoadBalancerInput{Name: "a", Subnets: []string{"x", "subnet-1"}}))},
		{"lb dualstack", errOf(ValidateLoadBalancer(LoadBalancerInput{Name: "a", IPAddressType: "dualstack", Subnets: []string{"subnet-1", "subnet-2"}}))},
		{"lb gateway", errOf(ValidateLoadBalancer(LoadBalancerInput{Name: "a", Type: "gateway", Subnets: []string{"subnet-1"}}))},
		{"lb scheme", errOf(ValidateLoadBalancer(LoadBalancerInput{Name: "a", Scheme: "public", Subnets: []string{"subnet-1", "subnet-2"}}))},
		{"nlb one subnet ok", errOf(ValidateLoadBalancer(LoadBalancerInput{Name: "a", Type: TypeNetwork, Subnets: []string{"subnet-1"}}))},
		{"tg no vpc", errOf3(ValidateTargetGroupProtocol(ProtocolHTTP, 80, "", "", ""))},
		{"tg no port", errOf3(ValidateTargetGroupProtocol(ProtocolHTTP, 0, "", "vpc-1", ""))},
		{"tg no protocol", errOf3(ValidateTargetGroupProtocol("", 80, "", "vpc-1", ""))},
		{"tg udp", errOf3(ValidateTargetGroupProtocol("UDP", 80, "", "vpc-1", ""))},
		{"tg lambda", errOf3(ValidateTargetGroupProtocol(ProtocolHTTP, 80, "lambda", "vpc-1", ""))},
		{"tg bad vpc", errOf3(ValidateTargetGroupProtocol(ProtocolHTTP, 80, "", "v-1", ""))},
		{"tg tcp version", errOf3(ValidateTargetGroupProtocol(ProtocolTCP, 80, "", "vpc-1", "HTTP2"))},
		{"hc interval", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{IntervalSeconds: ip(4)}, ProtocolHTTP, "HTTP1"))},
		{"hc timeout >= interval", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{TimeoutSeconds: ip(30)}, ProtocolHTTP, "HTTP1"))},
		{"hc tcp on http", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{Protocol: ProtocolTCP}, ProtocolHTTP, "HTTP1"))},
		{"hc port", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{Port: sp("70000")}, ProtocolHTTP, "HTTP1"))},
		{"hc path", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{Path: sp("health")}, ProtocolHTTP, "HTTP1"))},
		{"hc matcher alb 500", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{Matcher: &Matcher{HttpCode: "200-500"}}, ProtocolHTTP, "HTTP1"))},
		{"hc matcher list ok", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{Matcher: &Matcher{HttpCode: "200,202"}}, ProtocolHTTP, "HTTP1"))},
		{"hc matcher tcp", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolTCP, ""), HealthCheckInput{Matcher: &Matcher{HttpCode: "200"}}, ProtocolTCP, ""))},
		{"hc disable", errOf(ApplyHealthCheck(DefaultHealthCheck(ProtocolHTTP, ""), HealthCheckInput{Enabled: new(bool)}, ProtocolHTTP, "HTTP1"))},
		{"lb attr unknown", ValidateLoadBalancerAttributes(TypeApplication, []Attribute{{"x.y", "1"}})},
		{"lb attr nlb", ValidateLoadBalancerAttributes(TypeNetwork, []Attribute{{"idle_timeout.timeout_seconds", "60"}})},
		{"lb attr range", ValidateLoadBalancerAttributes(TypeApplication, []Attribute{{"idle_timeout.timeout_seconds", "0"}})},
		{"lb attr enum", ValidateLoadBalancerAttributes(TypeApplication, []Attribute{{"routing.http.desync_mitigation_mode", "lax"}})},
		{"lb attr terraform ok", ValidateLoadBalancerAttributes(TypeApplication, []Attribute{{"access_logs.s3.enabled", "false"}, {"connection_logs.s3.enabled", "false"}})},
		{"tg attr nlb key on alb", ValidateTargetGroupAttributes(ProtocolHTTP, TargetTypeIP, []Attribute{{"proxy_protocol_v2.enabled", "true"}}, nil)},
		{"tg attr app cookie", ValidateTargetGroupAttributes(ProtocolHTTP, TargetTypeIP, []Attribute{{"stickiness.app_cookie.cookie_name", "AWSALBX"}}, nil)},
		{"tg attr slow start", ValidateTargetGroupAttributes(ProtocolHTTP, TargetTypeIP, []Attribute{{"slow_start.duration_seconds", "10"}}, nil)},
		{"tg attr app cookie needs name", ValidateTargetGroupAttributes(ProtocolHTTP, TargetTypeIP, []Attribute{{"stickiness.enabled", "true"}, {"stickiness.type", "app_cookie"}}, map[string]string{"stickiness.enabled": "true", "stickiness.type": "app_cookie"})},
		{"listener attr alb", ValidateListenerAttributes(TypeApplication, ProtocolHTTP, []Attribute{{"tcp.idle_timeout.seconds", "60"}})},
		{"listener attr nlb range", ValidateListenerAttributes(TypeNetwork, ProtocolTCP, []Attribute{{"tcp.idle_timeout.seconds", "59"}})},
		{"listener tcp on alb", errOf(ValidateListener(ListenerInput{LBType: TypeApplication, Protocol: ProtocolTCP, Port: 80}))},
		{"listener udp on nlb", errOf(ValidateListener(ListenerInput{LBType: TypeNetwork, Protocol: "UDP", Port: 53}))},
		{"listener no port", errOf(ValidateListener(ListenerInput{LBType: TypeApplication, Protocol: ProtocolHTTP}))},
		{"listener https no cert", errOf(ValidateListener(ListenerInput{LBType: TypeApplication, Protocol: ProtocolHTTPS, Port: 443}))},
		{"listener bad policy", errOf(ValidateListener(ListenerInput{LBType: TypeApplication, Protocol: ProtocolHTTPS, Port: 443, Certificates: []string{"c"}, SSLPolicy: "nope"}))},
		{"listener alpn on alb", errOf(ValidateListener(ListenerInput{LBType: TypeApplication, Protocol: ProtocolHTTPS, Port: 443, Certificates: []string{"c"}, ALPNPolicy: []string{"HTTP2Only"}}))},
		{"actions none", errOf(NormalizeActions(nil, alb))},
		{"actions two terminal", errOf(NormalizeActions([]Action{{Type: ActionForward, TargetGroupArn: "a", Order: 1}, {Type: ActionForward, TargetGroupArn: "b", Order: 2}}, alb))},
		{"actions no order", errOf(NormalizeActions([]Action{{Type: ActionForward, TargetGroupArn: "a"}, {Type: ActionForward, TargetGroupArn: "b"}}, alb))},
		{"forward six groups", errOf(NormalizeActions([]Action{fwd("1", "2", "3", "4", "5", "6")}, alb))},
		{"forward weight", errOf(NormalizeActions([]Action{{Type: ActionForward, Forward: &ForwardConfig{TargetGroups: []TargetGroupTuple{{TargetGroupArn: "a", Weight: ip(1000)}}}}}, alb))},
		{"forward both", errOf(NormalizeActions([]Action{{Type: ActionForward, TargetGroupArn: "x", Forward: &ForwardConfig{TargetGroups: []TargetGroupTuple{{TargetGroupArn: "a"}}}}}, alb))},
		{"forward nlb two", errOf(NormalizeActions([]Action{fwd("a", "b")}, nlb))},
		{"redirect to itself", errOf(NormalizeActions(redirect(RedirectConfig{StatusCode: "HTTP_301"}), alb))},
		{"redirect https to http", errOf(NormalizeActions(redirect(RedirectConfig{StatusCode: "HTTP_301", Protocol: ProtocolHTTP}), albs))},
		{"redirect status", errOf(NormalizeActions(redirect(RedirectConfig{StatusCode: "HTTP_307", Protocol: ProtocolHTTPS}), alb))},
		{"redirect query", errOf(NormalizeActions(redirect(RedirectConfig{StatusCode: "HTTP_302", Query: "?a=1"}), alb))},
		{"redirect ok", errOf(NormalizeActions(redirect(RedirectConfig{StatusCode: "HTTP_302", Protocol: ProtocolHTTPS, Port: "443"}), alb))},
		{"fixed status", errOf(NormalizeActions(fixed("302", ""), alb))},
		{"fixed content type", errOf(NormalizeActions(fixed("200", "text/xml"), alb))},
		{"fixed on nlb", errOf(NormalizeActions(fixed("200", ""), nlb))},
		{"oidc", errOf(NormalizeActions([]Action{{Type: "authenticate-oidc", Order: 1}, {Type: ActionForward, TargetGroupArn: "a", Order: 2}}, alb))},
		{"conditions two hosts", errOf(NormalizeConditions([]RuleCondition{cond(FieldHostHeader, "a.com"), cond(FieldHostHeader, "b.com")}))},
		{"conditions six values", errOf(NormalizeConditions([]RuleCondition{cond(FieldPathPattern, "/1", "/2", "/3", "/4", "/5", "/6")}))},
		{"conditions bad field", errOf(NormalizeConditions([]RuleCondition{cond("cookie", "x")}))},
		{"conditions empty value", errOf(NormalizeConditions([]RuleCondition{cond(FieldPathPattern, "")}))},
		{"conditions header host", errOf(NormalizeConditions([]RuleCondition{{Field: FieldHTTPHeader, HttpHeaderConfig: &HttpHeaderConfig{HttpHeaderName: "Host", Values: []string{"x"}}}}))},
		{"conditions method lowercase", errOf(NormalizeConditions([]RuleCondition{{Field: FieldHTTPRequestMethod, HttpRequestMethodConfig: &Values{Values: []string{"get"}}}}))},
		{"conditions source ip", errOf(NormalizeConditions([]RuleCondition{{Field: FieldSourceIP, SourceIpConfig: &Values{Values: []string{"10.0.0.1/8"}}}}))},
		{"conditions wildcards", errOf(NormalizeConditions([]RuleCondition{cond(FieldPathPattern, "/*/*/*"), cond(FieldHostHeader, "*.*.*")}))},
		{"conditions ok", errOf(NormalizeConditions([]RuleCondition{cond(FieldPathPattern, "/api/*"), {Field: FieldQueryString, QueryStringConfig: &QueryStringConfig{Values: []QueryStringKeyValue{{Key: "v", Value: "1"}}}}}))},
		{"priority 0", ValidatePriority(0)},
		{"priority 50001", ValidatePriority(50001)},
		{"ip target public", ValidateIPTarget("8.8.8.8")},
		{"ip target v6", ValidateIPTarget("::1")},
		{"ip target loopback ok", ValidateIPTarget("127.0.0.1")},
		{"ip target cgnat ok", ValidateIPTarget("100.64.1.1")},
		{"tags duplicate", ValidateTags([]Tag{{Key: "a"}, {Key: "a"}}, nil)},
		{"tags aws prefix", ValidateTags([]Tag{{Key: "aws:x"}}, nil)},
		{"tags too many", ValidateTags(manyTags(51), nil)},
	}
	var b strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&b, "%s: %s\n", c.name, answer(c.err))
	}
	path := filepath.Join("testdata", "validation.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("validation answers differ from %s (-update rewrites it):\n%s", path, b.String())
	}
}

func manyTags(n int) []Tag {
	out := make([]Tag, n)
	for i := range out {
		out[i] = Tag{Key: fmt.Sprint("k", i)}
	}
	return out
}

func errOf[T any](_ T, err error) error { return err }

func errOf3[A, B any](_ A, _ B, err error) error { return err }

func answer(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(*Error); ok {
		return e.Code + ": " + e.Message
	}
	return "not an *Error: " + err.Error()
}

func TestNamesAndDNS(t *testing.T) {
	n := Namer{Partition: "aws", Region: "us-west-2", Account: "123456789012"}
	lb := n.LoadBalancer(TypeApplication, "my-lb", "50dc6c495c0c9188")
	if lb != "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-lb/50dc6c495c0c9188" {
		t.Fatal(lb)
	}
	l := n.Listener(lb, "f2f7dc8efc522ab2")
	r := n.Rule(l, "9683b2d02a6cabee")
	if l != "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/my-lb/50dc6c495c0c9188/f2f7dc8efc522ab2" ||
		r != "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/my-lb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee" {
		t.Fatal(l, r)
	}
	if ListenerOfRule(r) != l || LoadBalancerOfListener(l) != lb || ARNKind(r) != "listener-rule" || ARNKind("arn:aws:ecs:x") != "" {
		t.Fatal("ARN derivations")
	}
	if d := n.DNSName(TypeNetwork, SchemeInternetFacing, "my-network-load-balancer", "5d1b75f4f1cee11e"); d != "my-network-load-balancer-5d1b75f4f1cee11e.elb.us-west-2.amazonaws.com" {
		t.Fatal(d)
	}
	alb := regexp.MustCompile(`^internal-web-\d+\.us-west-2\.elb\.amazonaws\.com$`)
	if d := n.DNSName(TypeApplication, SchemeInternal, "web", "50dc6c495c0c9188"); !alb.MatchString(d) {
		t.Fatal(d)
	}
}

// Valid names are exactly those rapid generates from the rule.
func TestNameProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.StringMatching(`[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?`).Draw(t, "name")
		if strings.HasPrefix(name, "internal-") {
			return
		}
		if err := ValidateLoadBalancerName(name); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		bad := rapid.StringMatching(`.*[^A-Za-z0-9-].*`).Draw(t, "bad")
		if ValidateTargetGroupName(bad) == nil {
			t.Fatalf("%q accepted", bad)
		}
	})
}

// LowestFreeAddress returns the lowest free host address of the pool,
// never its network or broadcast address.
func TestLowestFreeAddressProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bits := rapid.IntRange(24, 32).Draw(t, "bits")
		pool := netip.PrefixFrom(netip.MustParseAddr("10.1.2.0"), bits).Masked()
		used := map[netip.Addr]bool{}
		for _, n := range rapid.SliceOf(rapid.IntRange(0, 255)).Draw(t, "used") {
			used[netip.AddrFrom4([4]byte{10, 1, 2, byte(n)})] = true
		}
		got, ok := LowestFreeAddress(pool, func(a netip.Addr) bool { return used[a] })
		var want netip.Addr
		for a := pool.Addr(); pool.Contains(a); a = a.Next() {
			edge := bits < 31 && (a == pool.Addr() || !pool.Contains(a.Next()))
			if !edge && !used[a] {
				want = a
				break
			}
		}
		if ok != want.IsValid() || ok && got != want {
			t.Fatalf("pool %s: got %v %v, want %v", pool, got, ok, want)
		}
	})
}

func TestAttributeDefaults(t *testing.T) {
	get := func(attrs []Attribute, k string) string {
		for _, a := range attrs {
			if a.Key == k {
				return a.Value
			}
		}
		return "<missing>"
	}
	a := LoadBalancerAttributes(TypeApplication, map[string]string{"idle_timeout.timeout_seconds": "90"})
	if get(a, "idle_timeout.timeout_seconds") != "90" || get(a, "routing.http2.enabled") != "true" || get(a, "routing.http.desync_mitigation_mode") != "defensive" ||
		get(a, "client_keep_alive.seconds") != "3600" || get(a, "access_logs.s3.enabled") != "false" {
		t.Fatalf("%v", a)
	}
	tg := TargetGroupAttributes(ProtocolTCP, TargetTypeIP, nil)
	if get(tg, "preserve_client_ip.enabled") != "false" || get(tg, "stickiness.type") != "source_ip" || get(tg, "deregistration_delay.timeout_seconds") != "300" {
		t.Fatalf("%v", tg)
	}
	if get(TargetGroupAttributes(ProtocolTCP, TargetTypeInstance, nil), "preserve_client_ip.enabled") != "true" {
		t.Fatal("instance TCP groups preserve client IPs")
	}
	if l := ListenerAttributes(TypeNetwork, ProtocolTCP, nil); len(l) != 1 || l[0].Value != "350" {
		t.Fatalf("%v", l)
	}
	if hc := DefaultHealthCheck(ProtocolHTTP, "HTTP1"); hc.TimeoutSeconds != 5 || hc.Matcher.HttpCode != "200" {
		t.Fatalf("%+v", hc)
	}
}
