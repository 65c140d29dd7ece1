// Package logfilter parses and evaluates CloudWatch Logs filter patterns
// (FilterLogEvents' filterPattern).
//
// Supported:
//
//   - text patterns: terms and "quoted phrases" that must all occur
//     (case-sensitive substrings), ?term alternatives (any one must occur;
//     a pattern of ?terms only), -term exclusions (must not occur);
//   - JSON patterns { SELECTOR OP VALUE } joined with && and ||, grouped
//     with parentheses: selectors $.a.b, $.a[0].b, $.a.b[1]; = and != with
//     a quoted or bare string (* is a wildcard) or a number; <, <=, >, >=
//     with a number; IS NULL, NOT EXISTS, IS TRUE, IS FALSE;
//   - space-delimited patterns [f1, f2 = value, ..., f3 > 10]: fields are
//     split on spaces, "quoted" and [bracketed] fields count as one field
//     (without their quotes or brackets); ... matches any number of fields;
//     conditions as in JSON patterns. Without ..., the event must have
//     exactly as many fields as the pattern.
//
// Not supported (Parse refuses them): regular expressions (%...%), the
// pattern match of unquoted terms with wildcards, && and || inside a
// space-delimited field, $.a[*] and other selectors than names and indexes,
// metric filter extensions.
//
// Pattern.String gives a canonical form: Parse(p.String()) equals p.
//
// Match is safe for concurrent use and keeps no reference to the message.
// Apart from the fallback to decoding, it allocates nothing. JSON patterns
// are answered by a one-pass scanner (jsonscan.go) that validates the
// message and picks out the selected values; where it cannot be sure to
// agree with decoding the message with encoding/json (UseNumber), it gives
// up and the decoded document decides, so both paths give the same
// answers (property and fuzz tests).
//
// The package does no I/O.
package logfilter

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is a pattern's syntax.
type Kind int

// Kinds.
const (
	All   Kind = iota // the empty pattern: every event
	Text              // terms
	JSON              // { ... }
	Space             // [ ... ]
)

// TermOp is how a text term counts.
type TermOp int

// Term ops.
const (
	Must TermOp = iota // the term must occur
	Any                // ?term: one of the ?terms must occur
	Not                // -term: the term must not occur
)

// Term is one text term.
type Term struct {
	Op    TermOp
	Value string
}

// Expr is a JSON pattern expression: a condition or And/Or of two.
type Expr struct {
	Op   string // "&&", "||" or "" for a condition
	L, R *Expr
	Cond *Cond
}

// Cond is a comparison of a field (JSON selector or space-delimited field
// name) with a value.
type Cond struct {
	Field string
	// Op is =, !=, <, <=, >, >=, "IS NULL", "NOT EXISTS", "IS TRUE" or
	// "IS FALSE" (no value), or "" (a space-delimited field without a
	// condition).
	Op    string
	Str   string  // string value (may hold * wildcards) when !IsNum
	Num   float64 // numeric value when IsNum
	IsNum bool
	path  []pathElem // JSON selector, parsed

	idx       int    // number among the pattern's conditions (fast path)
	quotedKey string // the path's last key, quoted (prefilter)
	digits    string // |Num|'s digits when it is a whole number (prefilter)
}

// Pattern is a parsed filter pattern.
type Pattern struct {
	Kind   Kind
	Terms  []Term
	Expr   *Expr
	Fields []Cond // space-delimited; Field "..." is the ellipsis

	// JSON fast path (prepareScan): the conditions, numbered, and masks
	// of them by path length; conds is nil when there are too many.
	conds           []*Cond
	atDepth, deeper []uint64
}

// Error is a pattern Parse refuses.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// MaxLength is CloudWatch's limit on a filter pattern.
const MaxLength = 1024

// Parse parses a filter pattern.
func Parse(s string) (*Pattern, error) {
	if len(s) > MaxLength {
		return nil, errf("filter pattern longer than %d characters", MaxLength)
	}
	t := strings.TrimSpace(s)
	switch {
	case t == "" || t == `""`:
		return &Pattern{Kind: All}, nil
	case strings.HasPrefix(t, "{"):
		return parseJSON(t)
	case strings.HasPrefix(t, "["):
		return parseSpace(t)
	}
	return parseText(t)
}

func parseText(s string) (*Pattern, error) {
	p := &Pattern{Kind: Text}
	i := 0
	anyCount := 0
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		op := Must
		if c == '?' {
			op = Any
			i++
		} else if c == '-' && i+1 < len(s) && s[i+1] != ' ' {
			op = Not
			i++
		}
		if i >= len(s) {
			return nil, errf("Invalid filter pattern: a term is missing after %q", s[i-1:])
		}
		var v string
		if s[i] == '"' {
			q, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			v, i = q, i+n
		} else {
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				if s[j] == '"' {
					return nil, errf("Invalid filter pattern: quote inside the term %q", s[i:])
				}
				j++
			}
			v, i = s[i:j], j
			if strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%") && len(v) > 1 {
				return nil, errf("Invalid filter pattern: regular expressions are not supported")
			}
		}
		if v == "" {
			return nil, errf("Invalid filter pattern: empty term")
		}
		if op == Any {
			anyCount++
		}
		p.Terms = append(p.Terms, Term{Op: op, Value: v})
	}
	if len(p.Terms) == 0 {
		return &Pattern{Kind: All}, nil
	}
	if anyCount > 0 {
		for _, t := range p.Terms {
			if t.Op == Must {
				return nil, errf("Invalid filter pattern: ?terms cannot be mixed with required terms")
			}
		}
	}
	return p, nil
}

// quoted reads a "..." string at the start of s (\" and \\ escape) and
// returns it and the bytes read.
func quoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errf("Invalid filter pattern: unterminated quoted string")
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// String is the canonical form of the pattern.
func (p *Pattern) String() string {
	switch p.Kind {
	case Text:
		var parts []string
		for _, t := range p.Terms {
			parts = append(parts, [...]string{"", "?", "-"}[t.Op]+quote(t.Value))
		}
		return strings.Join(parts, " ")
	case JSON:
		return "{ " + p.Expr.String() + " }"
	case Space:
		var parts []string
		for _, c := range p.Fields {
			parts = append(parts, c.String())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return ""
}

func (e *Expr) String() string {
	if e.Op == "" {
		return e.Cond.String()
	}
	return "(" + e.L.String() + " " + e.Op + " " + e.R.String() + ")"
}

func (c *Cond) String() string {
	switch c.Op {
	case "":
		return c.Field
	case "IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE":
		return c.Field + " " + c.Op
	}
	if c.IsNum {
		return c.Field + " " + c.Op + " " + strconv.FormatFloat(c.Num, 'g', -1, 64)
	}
	return c.Field + " " + c.Op + " " + quote(c.Str)
}

// Match tells whether a log event's message matches.
func (p *Pattern) Match(msg string) bool {
	switch p.Kind {
	case Text:
		anyOK, anySeen := false, false
		for _, t := range p.Terms {
			has := strings.Contains(msg, t.Value)
			switch t.Op {
			case Must:
				if !has {
					return false
				}
			case Not:
				if has {
					return false
				}
			case Any:
				anySeen = true
				anyOK = anyOK || has
			}
		}
		return !anySeen || anyOK
	case JSON:
		m := strings.TrimSpace(msg)
		if !strings.HasPrefix(m, "{") {
			return false
		}
		if !strings.Contains(m, `\`) && !p.Expr.maybe(m) {
			return false
		}
		if p.conds != nil {
			if match, ok := p.scanMatch(m); ok {
				return match
			}
		}
		return p.matchDecoded(m)
	case Space:
		var buf [32]string
		return matchFields(p.Fields, splitFields(buf[:0], msg))
	}
	return true
}

// matchDecoded is the general path of JSON patterns: the message's first
// JSON value, decoded, must be an object the expression accepts.
func (p *Pattern) matchDecoded(m string) bool {
	var doc any
	d := json.NewDecoder(strings.NewReader(m))
	d.UseNumber()
	if d.Decode(&doc) != nil {
		return false
	}
	if _, ok := doc.(map[string]any); !ok {
		return false
	}
	return p.Expr.eval(doc)
}

// Equal tells whether two patterns are the same.
func (p *Pattern) Equal(q *Pattern) bool { return p.String() == q.String() && p.Kind == q.Kind }

var errSyntax = errors.New("syntax")

func isNum(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	// Reject forms strconv accepts but patterns do not (hex, underscores, inf).
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' || r == 'e' || r == 'E') {
			return 0, false
		}
	}
	return f, true
}
