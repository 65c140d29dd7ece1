package lbrule

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"berth.dev/berth/internal/lbconfig"
)

// Request is the view of one HTTP request that rule conditions see.
type Request struct {
	Method string
	// Host is the Host header (or :authority), possibly with a port.
	Host string
	// Path is the request's path, without the query.
	Path string
	// Header holds the request headers; names are matched
	// case-insensitively, so net/http's canonical map works as is.
	Header map[string][]string
	// RawQuery is the query string without the leading '?'.
	RawQuery string
	// SourceIP is the TCP peer's address (never X-Forwarded-For).
	SourceIP netip.Addr
}

// Rules is a listener's compiled rule list.
type Rules struct {
	rules []rule
}

type rule struct {
	index int
	conds []cond
}

type cond struct {
	field    string
	patterns []Pattern
	header   string // http-header: the header name
	methods  []string
	query    []queryPair
	prefixes []netip.Prefix
}

type queryPair struct {
	hasKey bool
	key    Pattern
	value  Pattern
}

// Compile compiles a listener's rules, in evaluation order.
func Compile(rules []lbconfig.Rule) (*Rules, error) {
	rs := &Rules{}
	for i, r := range rules {
		cr := rule{index: i}
		for _, c := range r.Conditions {
			cc, err := compileCondition(c)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ARN, err)
			}
			cr.conds = append(cr.conds, cc)
		}
		rs.rules = append(rs.rules, cr)
	}
	return rs, nil
}

func compileCondition(c lbconfig.Condition) (cond, error) {
	cc := cond{field: c.Field}
	switch c.Field {
	case lbconfig.FieldPathPattern:
		for _, v := range c.Values {
			cc.patterns = append(cc.patterns, CompilePattern(v, false, false))
		}
	case lbconfig.FieldHostHeader:
		for _, v := range c.Values {
			cc.patterns = append(cc.patterns, CompilePattern(v, true, false))
		}
	case lbconfig.FieldHTTPHeader:
		if c.HeaderName == "" {
			return cc, fmt.Errorf("http-header condition without a header name")
		}
		cc.header = c.HeaderName
		for _, v := range c.Values {
			cc.patterns = append(cc.patterns, CompilePattern(v, true, false))
		}
	case lbconfig.FieldHTTPRequestMethod:
		cc.methods = append(cc.methods, c.Values...)
	case lbconfig.FieldQueryString:
		for _, kv := range c.QueryStrings {
			q := queryPair{value: CompilePattern(kv.Value, true, true)}
			if kv.Key != "" {
				q.hasKey = true
				q.key = CompilePattern(kv.Key, true, true)
			}
			cc.query = append(cc.query, q)
		}
	case lbconfig.FieldSourceIP:
		for _, v := range c.Values {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				a, aerr := netip.ParseAddr(v)
				if aerr != nil {
					return cc, fmt.Errorf("source-ip %q: %w", v, err)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			cc.prefixes = append(cc.prefixes, p.Masked())
		}
	default:
		return cc, fmt.Errorf("unsupported condition field %q", c.Field)
	}
	return cc, nil
}

// Match returns the index of the first rule whose conditions all match
// req, or -1 when none does (a listener always has a default rule, so -1
// means the rule list had none).
func (rs *Rules) Match(req *Request) int {
	for i := range rs.rules {
		r := &rs.rules[i]
		ok := true
		for j := range r.conds {
			if !r.conds[j].match(req) {
				ok = false
				break
			}
		}
		if ok {
			return r.index
		}
	}
	return -1
}

func (c *cond) match(req *Request) bool {
	switch c.field {
	case lbconfig.FieldPathPattern:
		return anyPattern(c.patterns, req.Path)
	case lbconfig.FieldHostHeader:
		return anyPattern(c.patterns, StripPort(req.Host))
	case lbconfig.FieldHTTPHeader:
		for name, vals := range req.Header {
			if !strings.EqualFold(name, c.header) {
				continue
			}
			for _, v := range vals {
				if anyPattern(c.patterns, v) {
					return true
				}
			}
		}
		return false
	case lbconfig.FieldHTTPRequestMethod:
		for _, m := range c.methods {
			if m == req.Method {
				return true
			}
		}
		return false
	case lbconfig.FieldQueryString:
		return c.matchQuery(req.RawQuery)
	case lbconfig.FieldSourceIP:
		a := req.SourceIP.Unmap()
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return false
}

func (c *cond) matchQuery(raw string) bool {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		for i := range c.query {
			q := &c.query[i]
			if q.hasKey && !q.key.Match(k) {
				continue
			}
			if q.value.Match(v) {
				return true
			}
		}
	}
	return false
}

func anyPattern(ps []Pattern, s string) bool {
	for i := range ps {
		if ps[i].Match(s) {
			return true
		}
	}
	return false
}

// StripPort returns host without a trailing :port (IPv6 brackets kept off).
func StripPort(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[1:i]
		}
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		return host[:i]
	}
	return host
}

// ChooseWeighted picks an index with probability weights[i]/sum, using r
// (a uniformly random number supplied by the caller). It returns -1 when
// every weight is zero or negative.
func ChooseWeighted(weights []int, r uint64) int {
	var total uint64
	for _, w := range weights {
		if w > 0 {
			total += uint64(w)
		}
	}
	if total == 0 {
		return -1
	}
	x := r % total
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		if x < uint64(w) {
			return i
		}
		x -= uint64(w)
	}
	return -1
}
