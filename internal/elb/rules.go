package elb

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Rule limits (C.5, C.11).
const (
	MaxConditionValues  = 5
	MaxWildcards        = 5
	MaxForwardTGs       = 5
	MinPriority         = 1
	MaxPriority         = 50000
	MaxActionOrder      = 50000
	MaxWeight           = 999
	MaxStickinessSecond = 604800
)

// Condition fields.
const (
	FieldHostHeader        = "host-header"
	FieldPathPattern       = "path-pattern"
	FieldHTTPHeader        = "http-header"
	FieldHTTPRequestMethod = "http-request-method"
	FieldQueryString       = "query-string"
	FieldSourceIP          = "source-ip"
)

var (
	pathChars   = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&*?;=%]+$`)
	methodChars = regexp.MustCompile(`^[A-Z_-]+$`)
	hostChars   = regexp.MustCompile(`^[A-Za-z0-9\-.*?]+$`)
	headerName  = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-.^_` + "`" + `|~]+$`)
	fixedStatus = regexp.MustCompile(`^(2|4|5)\d\d$`)
)

// NormalizeConditions validates a rule's conditions and returns them in
// their stored form: each with its field's config set.
func NormalizeConditions(in []RuleCondition) ([]RuleCondition, error) {
	out := make([]RuleCondition, 0, len(in))
	once := map[string]bool{}
	evaluations, wildcards := 0, 0
	for _, c := range in {
		if c.Field == "" {
			return nil, Validationf("A condition field must be specified")
		}
		switch c.Field {
		case FieldHostHeader, FieldPathPattern, FieldHTTPRequestMethod, FieldSourceIP:
			if once[c.Field] {
				return nil, Validationf("A rule can only have one '%s' condition", c.Field)
			}
			once[c.Field] = true
		case FieldHTTPHeader, FieldQueryString:
		default:
			return nil, Validationf("Condition field '%s' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'", c.Field)
		}
		n := c
		var values []string
		switch c.Field {
		case FieldHostHeader:
			values = legacyOr(c.Values, c.HostHeaderConfig, c.Field)
			n.HostHeaderConfig = &Values{Values: values}
		case FieldPathPattern:
			values = legacyOr(c.Values, c.PathPatternConfig, c.Field)
			n.PathPatternConfig = &Values{Values: values}
		case FieldHTTPRequestMethod:
			if c.HttpRequestMethodConfig == nil || len(c.Values) > 0 {
				return nil, Validationf("A 'HttpRequestMethodConfig' must be specified with the field 'http-request-method'")
			}
			values = c.HttpRequestMethodConfig.Values
		case FieldSourceIP:
			if c.SourceIpConfig == nil || len(c.Values) > 0 {
				return nil, Validationf("A 'SourceIpConfig' must be specified with the field 'source-ip'")
			}
			values = c.SourceIpConfig.Values
		case FieldHTTPHeader:
			if c.HttpHeaderConfig == nil || len(c.Values) > 0 {
				return nil, Validationf("A 'HttpHeaderConfig' must be specified with the field 'http-header'")
			}
			values = c.HttpHeaderConfig.Values
		case FieldQueryString:
			if c.QueryStringConfig == nil || len(c.Values) > 0 {
				return nil, Validationf("A 'QueryStringConfig' must be specified with the field 'query-string'")
			}
			for _, kv := range c.QueryStringConfig.Values {
				values = append(values, kv.Value)
				if kv.Key != "" {
					wildcards += strings.Count(kv.Key, "*") + strings.Count(kv.Key, "?")
				}
			}
		}
		if err := checkConfigs(c); err != nil {
			return nil, err
		}
		if len(values) == 0 {
			return nil, Validationf("A condition value must be specified for the field '%s'", c.Field)
		}
		for _, v := range values {
			if err := checkConditionValue(c.Field, v); err != nil {
				return nil, err
			}
			if c.Field != FieldSourceIP {
				wildcards += strings.Count(v, "*") + strings.Count(v, "?")
			}
		}
		if c.Field == FieldHTTPHeader {
			h := c.HttpHeaderConfig.HttpHeaderName
			if h == "" || len(h) > 40 || !headerName.MatchString(h) {
				return nil, Validationf("The HTTP header name '%s' is not valid: it must be 1 to 40 characters without wildcards", h)
			}
			if strings.EqualFold(h, "host") {
				return nil, Validationf("The HTTP header name cannot be 'Host': use a 'host-header' condition instead")
			}
		}
		evaluations += len(values)
		out = append(out, n)
	}
	if evaluations > MaxConditionValues {
		return nil, Validationf("A rule can only have '%d' condition values", MaxConditionValues)
	}
	if wildcards > MaxWildcards {
		return nil, Validationf("A rule can only have '%d' wildcards", MaxWildcards)
	}
	return out, nil
}

// checkConfigs refuses configs of another field than the condition's.
func checkConfigs(c RuleCondition) error {
	set := map[string]bool{
		FieldHostHeader:        c.HostHeaderConfig != nil,
		FieldPathPattern:       c.PathPatternConfig != nil,
		FieldHTTPHeader:        c.HttpHeaderConfig != nil,
		FieldHTTPRequestMethod: c.HttpRequestMethodConfig != nil,
		FieldQueryString:       c.QueryStringConfig != nil,
		FieldSourceIP:          c.SourceIpConfig != nil,
	}
	for f, ok := range set {
		if ok && f != c.Field {
			return Validationf("A condition with the field '%s' cannot have a config for the field '%s'", c.Field, f)
		}
	}
	return nil
}

func legacyOr(legacy []string, cfg *Values, field string) []string {
	if cfg != nil && len(legacy) > 0 {
		return nil // both given: refused as "no value" below unless identical
	}
	if cfg != nil {
		return cfg.Values
	}
	return legacy
}

func checkConditionValue(field, v string) error {
	if v == "" {
		return Validationf("A condition value for the field '%s' cannot be empty", field)
	}
	if len(v) > 128 {
		return Validationf("A condition value for the field '%s' cannot be longer than 128 characters", field)
	}
	switch field {
	case FieldPathPattern:
		if !pathChars.MatchString(v) {
			return Validationf("The path pattern '%s' contains characters that are not valid", v)
		}
	case FieldHostHeader:
		if !hostChars.MatchString(v) {
			return Validationf("The host header '%s' contains characters that are not valid", v)
		}
	case FieldHTTPRequestMethod:
		if len(v) > 40 || !methodChars.MatchString(v) {
			return Validationf("The HTTP request method '%s' is not valid: it must be up to 40 characters A-Z, '_' and '-'", v)
		}
	case FieldSourceIP:
		p, err := netip.ParsePrefix(v)
		if err != nil || p.Masked() != p {
			return Validationf("The source IP '%s' is not a valid CIDR block", v)
		}
		if v == "255.255.255.255/32" {
			return Validationf("The source IP '%s' is not allowed", v)
		}
	}
	return nil
}

// ActionContext is what validating actions needs to know of the listener.
type ActionContext struct {
	LBType   string // application or network
	Protocol string // the listener's protocol
}

// NormalizeActions validates a rule's (or a listener's default) actions and
// returns them in stored form, sorted by Order: exactly one terminal
// action, last.
func NormalizeActions(in []Action, ctx ActionContext) ([]Action, error) {
	if len(in) == 0 {
		return nil, Validationf("At least one action must be specified")
	}
	out := make([]Action, len(in))
	orders := map[int]bool{}
	for i, a := range in {
		if len(in) > 1 && a.Order == 0 {
			return nil, Validationf("An action order must be specified when there is more than one action")
		}
		if a.Order != 0 && (a.Order < 1 || a.Order > MaxActionOrder) {
			return nil, Validationf("Action order '%d' must be between 1 and %d", a.Order, MaxActionOrder)
		}
		if a.Order != 0 && orders[a.Order] {
			return nil, Validationf("Action order '%d' is specified more than once", a.Order)
		}
		orders[a.Order] = true
		n, err := normalizeAction(a, ctx)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	sortActions(out)
	terminal := 0
	for i, a := range out {
		if isTerminal(a.Type) {
			terminal++
			if i != len(out)-1 {
				return nil, Errorf(CodeInvalidLoadBalancerAction, "The action type '%s' must be the last action", a.Type)
			}
		}
	}
	if terminal != 1 {
		return nil, Errorf(CodeInvalidLoadBalancerAction, "Exactly one of forward, redirect or fixed-response must be specified, as the last action")
	}
	return out, nil
}

func sortActions(a []Action) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Order < a[j-1].Order; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func isTerminal(t string) bool {
	return t == ActionForward || t == ActionRedirect || t == ActionFixedResponse
}

func normalizeAction(a Action, ctx ActionContext) (Action, error) {
	switch a.Type {
	case ActionForward:
		if a.Redirect != nil || a.FixedResponse != nil {
			return a, Validationf("A forward action cannot have a redirect or fixed-response config")
		}
		return normalizeForward(a, ctx)
	case ActionRedirect, ActionFixedResponse:
		if ctx.LBType == TypeNetwork {
			return a, Errorf(CodeInvalidLoadBalancerAction, "The action type '%s' is not supported on load balancers with type 'network'", a.Type)
		}
		if a.TargetGroupArn != "" || a.Forward != nil {
			return a, Validationf("A %s action cannot name target groups", a.Type)
		}
		if a.Type == ActionRedirect {
			if a.FixedResponse != nil || a.Redirect == nil {
				return a, Validationf("A redirect action must have a 'RedirectConfig' and only it")
			}
			return a, checkRedirect(*a.Redirect, ctx.Protocol)
		}
		if a.Redirect != nil || a.FixedResponse == nil {
			return a, Validationf("A fixed-response action must have a 'FixedResponseConfig' and only it")
		}
		return a, checkFixedResponse(*a.FixedResponse)
	case "authenticate-oidc", "authenticate-cognito", "jwt-validation":
		return a, Errorf(CodeInvalidLoadBalancerAction, "The action type '%s' is not supported by berth", a.Type)
	case "":
		return a, Validationf("An action type must be specified")
	}
	return a, Validationf("Action type '%s' must be one of '[forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response, jwt-validation]'", a.Type)
}

func normalizeForward(a Action, ctx ActionContext) (Action, error) {
	if a.Forward == nil {
		if a.TargetGroupArn == "" {
			return a, Validationf("A target group ARN must be specified for a forward action")
		}
		one := 1
		a.Forward = &ForwardConfig{TargetGroups: []TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn, Weight: &one}}}
		return a, nil
	}
	f := *a.Forward
	if len(f.TargetGroups) == 0 {
		return a, Validationf("A forward action must name at least one target group")
	}
	if a.TargetGroupArn != "" && (len(f.TargetGroups) != 1 || f.TargetGroups[0].TargetGroupArn != a.TargetGroupArn) {
		return a, Validationf("You cannot specify both a target group ARN and a forward config that names other target groups")
	}
	if len(f.TargetGroups) > MaxForwardTGs {
		return a, Errorf(CodeTooManyTargetGroups, "A forward action can have at most %d target groups", MaxForwardTGs)
	}
	if ctx.LBType == TypeNetwork && len(f.TargetGroups) > 1 {
		return a, Errorf(CodeInvalidLoadBalancerAction, "A forward action of a load balancer with type 'network' can have only one target group")
	}
	seen := map[string]bool{}
	tgs := make([]TargetGroupTuple, len(f.TargetGroups))
	for i, t := range f.TargetGroups {
		if t.TargetGroupArn == "" {
			return a, Validationf("A target group ARN must be specified for a forward action")
		}
		if seen[t.TargetGroupArn] {
			return a, Validationf("Target group '%s' is specified more than once in a forward action", t.TargetGroupArn)
		}
		seen[t.TargetGroupArn] = true
		w := 1
		if t.Weight != nil {
			w = *t.Weight
		}
		if w < 0 || w > MaxWeight {
			return a, Validationf("Target group weight '%d' must be between 0 and %d", w, MaxWeight)
		}
		tgs[i] = TargetGroupTuple{TargetGroupArn: t.TargetGroupArn, Weight: &w}
	}
	f.TargetGroups = tgs
	if st := f.Stickiness; st != nil {
		if st.Enabled && (st.DurationSeconds < 1 || st.DurationSeconds > MaxStickinessSecond) {
			return a, Validationf("Target group stickiness duration must be between 1 and %d seconds", MaxStickinessSecond)
		}
		if !st.Enabled && st.DurationSeconds != 0 && (st.DurationSeconds < 1 || st.DurationSeconds > MaxStickinessSecond) {
			return a, Validationf("Target group stickiness duration must be between 1 and %d seconds", MaxStickinessSecond)
		}
	}
	a.Forward = &f
	if len(tgs) == 1 {
		a.TargetGroupArn = tgs[0].TargetGroupArn
	} else {
		a.TargetGroupArn = ""
	}
	return a, nil
}

func checkRedirect(r RedirectConfig, listenerProtocol string) error {
	if r.StatusCode != "HTTP_301" && r.StatusCode != "HTTP_302" {
		return Validationf("Redirect status code '%s' must be one of '[HTTP_301, HTTP_302]'", r.StatusCode)
	}
	switch r.Protocol {
	case "", "#{protocol}", ProtocolHTTP, ProtocolHTTPS:
	default:
		return Validationf("Redirect protocol '%s' must be one of '[HTTP, HTTPS, #{protocol}]'", r.Protocol)
	}
	if r.Protocol == ProtocolHTTP && listenerProtocol == ProtocolHTTPS {
		return Errorf(CodeInvalidLoadBalancerAction, "You cannot redirect HTTPS to HTTP")
	}
	if r.Port != "" && r.Port != "#{port}" {
		p, err := strconv.Atoi(r.Port)
		if err != nil || p < 1 || p > 65535 {
			return Validationf("Redirect port '%s' must be '#{port}' or a number between 1 and 65535", r.Port)
		}
	}
	if len(r.Host) > 128 || len(r.Path) > 128 || len(r.Query) > 128 {
		return Validationf("Redirect host, path and query cannot be longer than 128 characters")
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		return Validationf("Redirect path '%s' must start with a '/'", r.Path)
	}
	if strings.HasPrefix(r.Query, "?") {
		return Validationf("Redirect query '%s' cannot start with a '?'", r.Query)
	}
	keeps := func(v, placeholder string) bool { return v == "" || v == placeholder }
	if keeps(r.Protocol, "#{protocol}") && keeps(r.Host, "#{host}") && keeps(r.Port, "#{port}") && keeps(r.Path, "/#{path}") {
		return Errorf(CodeInvalidLoadBalancerAction, "The redirect must change at least one of protocol, host, port or path, or the request would be redirected to itself")
	}
	return nil
}

func checkFixedResponse(f FixedResponseConfig) error {
	if !fixedStatus.MatchString(f.StatusCode) {
		return Validationf("Fixed response status code '%s' must match the pattern '^(2|4|5)\\d\\d$'", f.StatusCode)
	}
	if len(f.MessageBody) > 1024 {
		return Validationf("Fixed response message body cannot be longer than 1024 characters")
	}
	switch f.ContentType {
	case "", "text/plain", "text/css", "text/html", "application/javascript", "application/json":
	default:
		return Validationf("Fixed response content type '%s' must be one of '[text/plain, text/css, text/html, application/javascript, application/json]'", f.ContentType)
	}
	return nil
}

// ValidatePriority checks a non-default rule priority.
func ValidatePriority(p int) error {
	if p < MinPriority || p > MaxPriority {
		return Validationf("Priority '%d' must be between %d and %d", p, MinPriority, MaxPriority)
	}
	return nil
}
