package elb

import (
	"sort"
	"strconv"
	"strings"
)

// Attribute is one key and its value (values are strings, as in ELB).
type Attribute struct {
	Key   string
	Value string
}

// attrSpec is one attribute of a catalog.
type attrSpec struct {
	key   string
	def   string
	check func(v string) bool
	// hint describes valid values for the error message.
	hint string
}

func boolean() (func(string) bool, string) {
	return func(v string) bool { return v == "true" || v == "false" }, "true or false"
}

func intRange(lo, hi int) (func(string) bool, string) {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi && strconv.Itoa(n) == v
	}, "an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
}

func oneOf(values ...string) (func(string) bool, string) {
	return func(v string) bool {
		for _, x := range values {
			if v == x {
				return true
			}
		}
		return false
	}, "one of " + strings.Join(values, ", ")
}

func anyString(max int) (func(string) bool, string) {
	return func(v string) bool { return len(v) <= max }, "a string of at most " + strconv.Itoa(max) + " characters"
}

func spec(key, def string, check func(string) bool, hint string) attrSpec {
	return attrSpec{key: key, def: def, check: check, hint: hint}
}

func b(key, def string) attrSpec { c, h := boolean(); return spec(key, def, c, h) }
func n(key, def string, lo, hi int) attrSpec {
	c, h := intRange(lo, hi)
	return spec(key, def, c, h)
}
func e(key, def string, values ...string) attrSpec {
	c, h := oneOf(values...)
	return spec(key, def, c, h)
}
func s(key string) attrSpec { c, h := anyString(1024); return spec(key, "", c, h) }

var lbCommon = []attrSpec{
	b("access_logs.s3.enabled", "false"), s("access_logs.s3.bucket"), s("access_logs.s3.prefix"),
	b("deletion_protection.enabled", "false"), b("zonal_shift.config.enabled", "false"),
}

var albAttributes = append(append([]attrSpec{}, lbCommon...),
	b("connection_logs.s3.enabled", "false"), s("connection_logs.s3.bucket"), s("connection_logs.s3.prefix"),
	b("health_check_logs.s3.enabled", "false"), s("health_check_logs.s3.bucket"), s("health_check_logs.s3.prefix"),
	n("idle_timeout.timeout_seconds", "60", 1, 4000),
	n("client_keep_alive.seconds", "3600", 60, 604800),
	e("routing.http.desync_mitigation_mode", "defensive", "monitor", "defensive", "strictest"),
	b("routing.http.drop_invalid_header_fields.enabled", "false"),
	b("routing.http.preserve_host_header.enabled", "false"),
	b("routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false"),
	b("routing.http.xff_client_port.enabled", "false"),
	e("routing.http.xff_header_processing.mode", "append", "append", "preserve", "remove"),
	b("routing.http2.enabled", "true"),
	b("waf.fail_open.enabled", "false"),
	b("load_balancing.cross_zone.enabled", "true"),
)

var nlbAttributes = append(append([]attrSpec{}, lbCommon...),
	b("load_balancing.cross_zone.enabled", "false"),
	e("dns_record.client_routing_policy", "any_availability_zone", "availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"),
	n("secondary_ips.auto_assign.per_subnet", "0", 0, 7),
)

func init() {
	sortSpecs(albAttributes)
	sortSpecs(nlbAttributes)
	sortSpecs(albTGAttributes)
	sortSpecs(nlbTGAttributes)
}

func sortSpecs(s []attrSpec) { sort.Slice(s, func(i, j int) bool { return s[i].key < s[j].key }) }

func lbCatalog(lbType string) []attrSpec {
	if lbType == TypeNetwork {
		return nlbAttributes
	}
	return albAttributes
}

func find(cat []attrSpec, key string) *attrSpec {
	for i := range cat {
		if cat[i].key == key {
			return &cat[i]
		}
	}
	return nil
}

// ValidateLoadBalancerAttributes checks attributes a client sets on a load
// balancer of lbType. The texts are those Terraform matches to drop a key.
func ValidateLoadBalancerAttributes(lbType string, attrs []Attribute) error {
	if len(attrs) == 0 {
		return Validationf("At least one attribute must be specified")
	}
	for _, a := range attrs {
		sp := find(lbCatalog(lbType), a.Key)
		if sp == nil {
			other := find(lbCatalog(otherType(lbType)), a.Key)
			if other != nil {
				return InvalidConfigf("Load balancer attribute key '%s' is not supported on load balancers with type '%s'", a.Key, lbType)
			}
			return Validationf("Load balancer attribute key '%s' is not recognized", a.Key)
		}
		if !sp.check(a.Value) {
			return InvalidConfigf("Load balancer attribute '%s' value '%s' is not valid: it must be %s", a.Key, a.Value, sp.hint)
		}
	}
	if err := duplicateKeys(attrs); err != nil {
		return err
	}
	return nil
}

func otherType(t string) string {
	if t == TypeNetwork {
		return TypeApplication
	}
	return TypeNetwork
}

func duplicateKeys(attrs []Attribute) error {
	seen := map[string]bool{}
	for _, a := range attrs {
		if seen[a.Key] {
			return Validationf("Attribute key '%s' is specified more than once", a.Key)
		}
		seen[a.Key] = true
	}
	return nil
}

// LoadBalancerAttributes returns every attribute of a load balancer of
// lbType, set holding the values set (others take their defaults), in key order.
func LoadBalancerAttributes(lbType string, set map[string]string) []Attribute {
	return resolve(lbCatalog(lbType), set)
}

// LoadBalancerAttribute returns one resolved attribute value.
func LoadBalancerAttribute(lbType string, set map[string]string, key string) string {
	if v, ok := set[key]; ok {
		return v
	}
	if sp := find(lbCatalog(lbType), key); sp != nil {
		return sp.def
	}
	return ""
}

func resolve(cat []attrSpec, set map[string]string) []Attribute {
	out := make([]Attribute, 0, len(cat))
	for _, sp := range cat {
		v, ok := set[sp.key]
		if !ok {
			v = sp.def
		}
		out = append(out, Attribute{Key: sp.key, Value: v})
	}
	return out
}

// Merge returns set with attrs applied (a new map).
func Merge(set map[string]string, attrs []Attribute) map[string]string {
	out := make(map[string]string, len(set)+len(attrs))
	for k, v := range set {
		out[k] = v
	}
	for _, a := range attrs {
		out[a.Key] = a.Value
	}
	return out
}

// Target-group attribute catalogs (C.7).
var tgCommon = []attrSpec{
	n("deregistration_delay.timeout_seconds", "300", 0, 3600),
	b("stickiness.enabled", "false"),
	e("load_balancing.cross_zone.enabled", "use_load_balancer_configuration", "true", "false", "use_load_balancer_configuration"),
	spec("target_group_health.dns_failover.minimum_healthy_targets.count", "1", minHealthyCount, "an integer from 1 to the maximum number of targets, or off"),
	spec("target_group_health.dns_failover.minimum_healthy_targets.percentage", "off", percentage, "an integer from 1 to 100, or off"),
	spec("target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1", minHealthyCount, "an integer from 1 to the maximum number of targets"),
	spec("target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off", percentage, "an integer from 1 to 100, or off"),
}

func minHealthyCount(v string) bool {
	if v == "off" {
		return true
	}
	x, err := strconv.Atoi(v)
	return err == nil && x >= 1 && x <= 1000
}

func percentage(v string) bool {
	if v == "off" {
		return true
	}
	x, err := strconv.Atoi(v)
	return err == nil && x >= 1 && x <= 100
}

var albTGAttributes = append(append([]attrSpec{}, tgCommon...),
	e("stickiness.type", "lb_cookie", "lb_cookie", "app_cookie"),
	n("stickiness.lb_cookie.duration_seconds", "86400", 1, 604800),
	spec("stickiness.app_cookie.cookie_name", "", appCookieName, "a cookie name not starting with AWSALB, AWSALBAPP or AWSALBTG"),
	n("stickiness.app_cookie.duration_seconds", "86400", 1, 604800),
	spec("slow_start.duration_seconds", "0", slowStart, "0 or an integer from 30 to 900"),
	e("load_balancing.algorithm.type", "round_robin", "round_robin", "least_outstanding_requests", "weighted_random"),
	e("load_balancing.algorithm.anomaly_mitigation", "off", "on", "off"),
)

var nlbTGAttributes = append(append([]attrSpec{}, tgCommon...),
	e("stickiness.type", "source_ip", "source_ip"),
	b("deregistration_delay.connection_termination.enabled", "false"),
	b("preserve_client_ip.enabled", "true"),
	b("proxy_protocol_v2.enabled", "false"),
	b("target_health_state.unhealthy.connection_termination.enabled", "true"),
	n("target_health_state.unhealthy.draining_interval_seconds", "0", 0, 360000),
)

func appCookieName(v string) bool {
	return len(v) <= 256 && !strings.HasPrefix(v, "AWSALB")
}

func slowStart(v string) bool {
	x, err := strconv.Atoi(v)
	return err == nil && (x == 0 || x >= 30 && x <= 900)
}

// IsALBProtocol reports whether a target group protocol is an ALB's.
func IsALBProtocol(p string) bool { return p == ProtocolHTTP || p == ProtocolHTTPS }

func tgCatalog(protocol string) []attrSpec {
	if IsALBProtocol(protocol) {
		return albTGAttributes
	}
	return nlbTGAttributes
}

// tgDefault is a target group attribute's default, which for
// preserve_client_ip.enabled depends on the target type.
func tgDefault(sp attrSpec, protocol, targetType string) string {
	if sp.key == "preserve_client_ip.enabled" && targetType == TargetTypeIP {
		return "false"
	}
	return sp.def
}

// TargetGroupAttributes returns every attribute of a target group, set
// holding the values set, in key order.
func TargetGroupAttributes(protocol, targetType string, set map[string]string) []Attribute {
	cat := tgCatalog(protocol)
	out := make([]Attribute, 0, len(cat))
	for _, sp := range cat {
		v, ok := set[sp.key]
		if !ok {
			v = tgDefault(sp, protocol, targetType)
		}
		out = append(out, Attribute{Key: sp.key, Value: v})
	}
	return out
}

// TargetGroupAttribute returns one resolved target group attribute.
func TargetGroupAttribute(protocol, targetType string, set map[string]string, key string) string {
	if v, ok := set[key]; ok {
		return v
	}
	if sp := find(tgCatalog(protocol), key); sp != nil {
		return tgDefault(*sp, protocol, targetType)
	}
	return ""
}

// ValidateTargetGroupAttributes checks attributes set on a target group;
// merged is the result of applying them, checked as a whole.
func ValidateTargetGroupAttributes(protocol, targetType string, attrs []Attribute, merged map[string]string) error {
	if len(attrs) == 0 {
		return Validationf("At least one attribute must be specified")
	}
	cat := tgCatalog(protocol)
	for _, a := range attrs {
		sp := find(cat, a.Key)
		if sp == nil {
			other := albTGAttributes
			if IsALBProtocol(protocol) {
				other = nlbTGAttributes
			}
			if find(other, a.Key) != nil {
				return InvalidConfigf("Target group attribute key '%s' is not supported on target groups with the protocol '%s'", a.Key, protocol)
			}
			return Validationf("Target group attribute key '%s' is not recognized", a.Key)
		}
		if !sp.check(a.Value) {
			return InvalidConfigf("Target group attribute '%s' value '%s' is not valid: it must be %s", a.Key, a.Value, sp.hint)
		}
	}
	if err := duplicateKeys(attrs); err != nil {
		return err
	}
	get := func(k string) string { return TargetGroupAttribute(protocol, targetType, merged, k) }
	if get("stickiness.enabled") == "true" && get("stickiness.type") == "app_cookie" && get("stickiness.app_cookie.cookie_name") == "" {
		return InvalidConfigf("The cookie name must be specified with the 'app_cookie' stickiness type")
	}
	if get("slow_start.duration_seconds") != "0" && get("slow_start.duration_seconds") != "" && get("load_balancing.algorithm.type") == "least_outstanding_requests" {
		return InvalidConfigf("Slow start mode cannot be enabled with the 'least_outstanding_requests' load balancing algorithm")
	}
	return nil
}

// Listener attributes: tcp.idle_timeout.seconds on NLB TCP listeners only.
var nlbTCPListenerAttributes = []attrSpec{n("tcp.idle_timeout.seconds", "350", 60, 6000)}

func listenerCatalog(lbType, protocol string) []attrSpec {
	if lbType == TypeNetwork && protocol == ProtocolTCP {
		return nlbTCPListenerAttributes
	}
	return nil
}

// ListenerAttributes returns every attribute of a listener.
func ListenerAttributes(lbType, protocol string, set map[string]string) []Attribute {
	return resolve(listenerCatalog(lbType, protocol), set)
}

// ValidateListenerAttributes checks attributes set on a listener.
func ValidateListenerAttributes(lbType, protocol string, attrs []Attribute) error {
	if len(attrs) == 0 {
		return Validationf("At least one attribute must be specified")
	}
	cat := listenerCatalog(lbType, protocol)
	for _, a := range attrs {
		sp := find(cat, a.Key)
		if sp == nil {
			if a.Key == "tcp.idle_timeout.seconds" {
				return InvalidConfigf("Listener attribute key '%s' is not supported on listeners with the protocol '%s'", a.Key, protocol)
			}
			return Validationf("Listener attribute key '%s' is not recognized", a.Key)
		}
		if !sp.check(a.Value) {
			return InvalidConfigf("Listener attribute '%s' value '%s' is not valid: it must be %s", a.Key, a.Value, sp.hint)
		}
	}
	return duplicateKeys(attrs)
}
