// Package policy parses and validates IAM JSON policy documents and
// evaluates trust policies (who may call sts:AssumeRole on a role).
//
// Parse accepts what IAM accepts for the grammar berth checks: Version
// 2012-10-17 or 2008-10-17 (absent means 2008-10-17), Statement as one
// object or an array, Sid, Effect Allow|Deny, Principal/NotPrincipal ("*"
// or a map of Service, AWS, Federated, CanonicalUser to a string or a
// list), Action/NotAction and Resource/NotResource (a string or a list),
// Condition (operator -> key -> value or list). Its errors are the text of
// IAM's MalformedPolicyDocument messages. Permission policies are parsed
// and stored by the IAM API but not enforced: only the trust policy check
// of AssumeRole (TrustAllows) evaluates a document.
//
// The package is pure: no I/O, no clock.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Versions IAM accepts.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// MaxSize bounds a document's length (IAM's largest quota, a managed
// policy's 6144 characters, counts without white space; berth bounds the
// raw text at a generous 131072).
const MaxSize = 131072

// Error is a MalformedPolicyDocument error; its text is IAM's message.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func malformed(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// Document is a parsed policy document.
type Document struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement; the string lists keep the document's order.
type Statement struct {
	Sid          string
	Effect       string // Allow or Deny
	Principal    *Principal
	NotPrincipal *Principal
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	// Condition maps operator -> condition key -> values.
	Condition map[string]map[string][]string
}

// Principal is a Principal or NotPrincipal element: Any for "*", else the
// values of each kind (AWS, Service, Federated, CanonicalUser).
type Principal struct {
	Any   bool
	Kinds map[string][]string
}

// Kind names of principals.
const (
	KindAWS       = "AWS"
	KindService   = "Service"
	KindFederated = "Federated"
	KindCanonical = "CanonicalUser"
)

// Kind selects which grammar Parse enforces.
type Kind int

const (
	// Permission documents (inline role policies, session policies) must
	// not name principals.
	Permission Kind = iota
	// Trust documents (assume role policies) must name a principal and
	// may omit Resource.
	Trust
	// Resource documents (resource policies, as of a secret) must name a
	// principal; Resource is optional (the resource they are attached to).
	Resource
)

// Parse parses and validates a policy document.
func Parse(text string, kind Kind) (*Document, error) {
	if strings.TrimSpace(text) == "" {
		return nil, malformed("Syntax errors in policy.")
	}
	if len(text) > MaxSize {
		return nil, malformed("Cannot exceed quota for PolicySize: %d", MaxSize)
	}
	if !utf8.ValidString(text) {
		return nil, malformed("Syntax errors in policy.")
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	if _, err := dec.Token(); err == nil {
		return nil, malformed("Syntax errors in policy.")
	}
	if dup := duplicateKey(text); dup != "" {
		return nil, malformed("Syntax errors in policy.")
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, malformed("Syntax errors in policy.")
	}
	d := &Document{Version: Version2008}
	for k, v := range top {
		switch k {
		case "Version":
			s, ok := v.(string)
			if !ok || (s != Version2012 && s != Version2008) {
				return nil, malformed("The policy failed legacy parsing")
			}
			d.Version = s
		case "Id":
			s, ok := v.(string)
			if !ok {
				return nil, malformed("Syntax errors in policy.")
			}
			d.ID = s
		case "Statement":
		default:
			return nil, malformed("Syntax errors in policy.")
		}
	}
	st, ok := top["Statement"]
	if !ok {
		return nil, malformed("Syntax errors in policy.")
	}
	var list []any
	switch t := st.(type) {
	case map[string]any:
		list = []any{t}
	case []any:
		list = t
	default:
		return nil, malformed("Syntax errors in policy.")
	}
	if len(list) == 0 {
		return nil, malformed("Syntax errors in policy.")
	}
	sids := map[string]bool{}
	for _, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, malformed("Syntax errors in policy.")
		}
		s, err := parseStatement(obj, kind)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed("Statement IDs (SID) in a single policy must be unique.")
			}
			sids[s.Sid] = true
		}
		d.Statements = append(d.Statements, s)
	}
	return d, nil
}

func parseStatement(obj map[string]any, kind Kind) (Statement, error) {
	var s Statement
	for k, v := range obj {
		var err error
		switch k {
		case "Sid":
			str, ok := v.(string)
			if !ok {
				return s, malformed("Syntax errors in policy.")
			}
			s.Sid = str
		case "Effect":
			str, ok := v.(string)
			if !ok || (str != "Allow" && str != "Deny") {
				return s, malformed("Invalid effect: %v", display(v))
			}
			s.Effect = str
		case "Principal":
			s.Principal, err = parsePrincipal(v)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipal(v)
		case "Action":
			s.Action, err = stringList(v, "Action")
		case "NotAction":
			s.NotAction, err = stringList(v, "NotAction")
		case "Resource":
			s.Resource, err = stringList(v, "Resource")
		case "NotResource":
			s.NotResource, err = stringList(v, "NotResource")
		case "Condition":
			s.Condition, err = parseCondition(v)
		default:
			return s, malformed("Syntax errors in policy.")
		}
		if err != nil {
			return s, err
		}
	}
	if s.Effect == "" {
		return s, malformed("Missing required field Effect")
	}
	if s.Action != nil && s.NotAction != nil || s.Resource != nil && s.NotResource != nil ||
		s.Principal != nil && s.NotPrincipal != nil {
		return s, malformed("Syntax errors in policy.")
	}
	if s.Action == nil && s.NotAction == nil {
		return s, malformed("Policy statement must contain actions.")
	}
	for _, a := range append(append([]string{}, s.Action...), s.NotAction...) {
		if err := checkAction(a); err != nil {
			return s, err
		}
	}
	switch kind {
	case Permission:
		if s.Principal != nil || s.NotPrincipal != nil {
			return s, malformed("Policy document should not specify a principal.")
		}
		if s.Resource == nil && s.NotResource == nil {
			return s, malformed("Policy statement must contain resources.")
		}
	case Trust:
		if s.Resource != nil || s.NotResource != nil {
			return s, malformed("Has prohibited field Resource")
		}
		if s.Principal == nil && s.NotPrincipal == nil {
			return s, malformed("Missing required field Principal")
		}
		for _, a := range s.Action {
			if !trustAction(a) {
				return s, malformed("AssumeRole policy may only specify STS AssumeRole actions.")
			}
		}
	case Resource:
		if s.Principal == nil && s.NotPrincipal == nil {
			return s, malformed("Missing required field Principal")
		}
	}
	return s, nil
}

// trustAction reports whether a is an action a trust policy may name.
func trustAction(a string) bool {
	switch strings.ToLower(a) {
	case "*", "sts:*", "sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
		"sts:tagsession", "sts:setsourceidentity", "sts:setcontext":
		return true
	}
	return strings.HasPrefix(strings.ToLower(a), "sts:") && strings.Contains(a, "*")
}

func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
	}
	for _, c := range svc {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return malformed("Vendor %s is not valid", svc)
		}
	}
	return nil
}

func stringList(v any, field string) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, malformed("Required field %s cannot be empty", field)
		}
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, malformed("Syntax errors in policy.")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, malformed("Syntax errors in policy.")
}

func parsePrincipal(v any) (*Principal, error) {
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, malformed("Invalid principal in policy: %q", s)
		}
		return &Principal{Any: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, malformed("Syntax errors in policy.")
	}
	p := &Principal{Kinds: map[string][]string{}}
	for k, val := range m {
		switch k {
		case KindAWS, KindService, KindFederated, KindCanonical:
		default:
			return nil, malformed("Invalid principal in policy: %q", k)
		}
		list, err := stringList(val, "Principal")
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if err := checkPrincipal(k, s); err != nil {
				return nil, err
			}
		}
		p.Kinds[k] = list
	}
	return p, nil
}

func checkPrincipal(kind, s string) error {
	bad := malformed("Invalid principal in policy: \"%s\":\"%s\"", kind, s)
	if s == "" {
		return bad
	}
	switch kind {
	case KindAWS:
		if s == "*" || isAccountID(s) {
			return nil
		}
		if !strings.HasPrefix(s, "arn:") {
			return bad
		}
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || (parts[2] != "iam" && parts[2] != "sts") || parts[5] == "" {
			return bad
		}
	case KindService:
		if s != "*" && !strings.Contains(s, ".") {
			return bad
		}
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseCondition(v any) (map[string]map[string][]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("Syntax errors in policy.")
	}
	out := map[string]map[string][]string{}
	for op, body := range m {
		if !knownOperator(op) {
			return nil, malformed("Invalid Condition type : %s", op)
		}
		keys, ok := body.(map[string]any)
		if !ok {
			return nil, malformed("Syntax errors in policy.")
		}
		out[op] = map[string][]string{}
		for key, val := range keys {
			var vals []string
			switch t := val.(type) {
			case []any:
				for _, e := range t {
					s, err := scalar(e)
					if err != nil {
						return nil, err
					}
					vals = append(vals, s)
				}
			default:
				s, err := scalar(t)
				if err != nil {
					return nil, err
				}
				vals = []string{s}
			}
			out[op][key] = vals
		}
	}
	return out, nil
}

func scalar(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case json.Number:
		return t.String(), nil
	}
	return "", malformed("Syntax errors in policy.")
}

var operators = []string{
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}

func knownOperator(op string) bool {
	base := op
	for _, p := range []string{"ForAllValues:", "ForAnyValue:"} {
		base = strings.TrimPrefix(base, p)
	}
	base = strings.TrimSuffix(base, "IfExists")
	if base == "Null" && op != "Null" && strings.HasSuffix(op, "IfExists") {
		return false
	}
	for _, o := range operators {
		if o == base {
			return true
		}
	}
	return false
}

func display(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// duplicateKey returns a key that occurs twice in one JSON object of text
// (IAM refuses them), or "".
func duplicateKey(text string) string {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{obj: t == '{', keys: map[string]bool{}, expect: true})
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		default:
			if top != nil && top.obj {
				if top.expect {
					s, _ := t.(string)
					if top.keys[s] {
						return s
					}
					top.keys[s] = true
					top.expect = false
				} else {
					top.expect = true
				}
			}
		}
	}
}

// Summary is a canonical, deterministic rendering of a document for
// golden tests and logs.
func (d *Document) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Version %s\n", d.Version)
	if d.ID != "" {
		fmt.Fprintf(&b, "Id %s\n", d.ID)
	}
	for i, s := range d.Statements {
		fmt.Fprintf(&b, "Statement %d sid=%q effect=%s\n", i, s.Sid, s.Effect)
		pr := func(name string, p *Principal) {
			if p == nil {
				return
			}
			if p.Any {
				fmt.Fprintf(&b, "  %s *\n", name)
				return
			}
			kinds := make([]string, 0, len(p.Kinds))
			for k := range p.Kinds {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			for _, k := range kinds {
				fmt.Fprintf(&b, "  %s %s %s\n", name, k, strings.Join(p.Kinds[k], " "))
			}
		}
		pr("Principal", s.Principal)
		pr("NotPrincipal", s.NotPrincipal)
		for _, l := range []struct {
			n string
			v []string
		}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
			if l.v != nil {
				fmt.Fprintf(&b, "  %s %s\n", l.n, strings.Join(l.v, " "))
			}
		}
		ops := make([]string, 0, len(s.Condition))
		for op := range s.Condition {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		for _, op := range ops {
			keys := make([]string, 0, len(s.Condition[op]))
			for k := range s.Condition[op] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "  Condition %s %s %s\n", op, k, strings.Join(s.Condition[op][k], " "))
			}
		}
	}
	return b.String()
}
