package logfilter

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

type tok struct {
	kind string // "sel", "str" (quoted), "word", "op", "(", ")", "&&", "||", ",", "{", "}", "[", "]", "..."
	s    string
}

func lex(s string) ([]tok, error) {
	var out []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			q, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, tok{"str", q})
			i += n
		case strings.HasPrefix(s[i:], "&&"), strings.HasPrefix(s[i:], "||"):
			out = append(out, tok{s[i : i+2], s[i : i+2]})
			i += 2
		case strings.HasPrefix(s[i:], "..."):
			out = append(out, tok{"...", "..."})
			i += 3
		case strings.ContainsRune("(){}[],", rune(c)):
			out = append(out, tok{string(c), string(c)})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, errf("Invalid filter pattern: unexpected '!'")
			}
			out = append(out, tok{"op", op})
			i = j
		case c == '$':
			j := i + 1
			for j < len(s) && (isWord(s[j]) || s[j] == '.' || s[j] == '[' || s[j] == ']' || s[j] == '*') {
				j++
			}
			out = append(out, tok{"sel", s[i:j]})
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n(){}[],=!<>\"&|", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, errf("Invalid filter pattern: unexpected %q", s[i:i+1])
			}
			out = append(out, tok{"word", s[i:j]})
			i = j
		}
	}
	return out, nil
}

func isWord(c byte) bool {
	return c == '_' || c == '-' || c == '@' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

type parser struct {
	toks []tok
	i    int
	json bool
}

func (p *parser) peek() tok {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return tok{}
}

func (p *parser) next() tok { t := p.peek(); p.i++; return t }

func parseJSON(s string) (*Pattern, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if len(toks) < 2 || toks[len(toks)-1].kind != "}" {
		return nil, errf("Invalid filter pattern: a JSON pattern ends with '}'")
	}
	p := &parser{toks: toks[1 : len(toks)-1], json: true}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, errf("Invalid filter pattern: unexpected %q", p.peek().s)
	}
	out := &Pattern{Kind: JSON, Expr: e}
	out.prepareScan()
	return out, nil
}

func (p *parser) or() (*Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == "||" {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &Expr{Op: "||", L: l, R: r}
	}
	return l, nil
}

func (p *parser) and() (*Expr, error) {
	l, err := p.unit()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == "&&" {
		p.next()
		r, err := p.unit()
		if err != nil {
			return nil, err
		}
		l = &Expr{Op: "&&", L: l, R: r}
	}
	return l, nil
}

func (p *parser) unit() (*Expr, error) {
	if p.peek().kind == "(" {
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != ")" {
			return nil, errf("Invalid filter pattern: missing ')'")
		}
		return e, nil
	}
	t := p.next()
	if t.kind != "sel" {
		return nil, errf("Invalid filter pattern: expected a selector such as $.field, got %q", t.s)
	}
	path, err := parsePath(t.s)
	if err != nil {
		return nil, err
	}
	c, err := p.cond(t.s, true)
	if err != nil {
		return nil, err
	}
	c.path = path
	return &Expr{Cond: c}, nil
}

// cond reads the operator and value after a field.
func (p *parser) cond(field string, required bool) (*Cond, error) {
	c := &Cond{Field: field}
	t := p.peek()
	if t.kind == "word" && (t.s == "IS" || t.s == "NOT") {
		p.next()
		w := p.next()
		switch {
		case t.s == "IS" && w.kind == "word" && (w.s == "NULL" || w.s == "TRUE" || w.s == "FALSE"):
			c.Op = "IS " + w.s
		case t.s == "NOT" && w.kind == "word" && w.s == "EXISTS":
			c.Op = "NOT EXISTS"
		default:
			return nil, errf("Invalid filter pattern: expected IS NULL, IS TRUE, IS FALSE or NOT EXISTS after %s", field)
		}
		return c, nil
	}
	if t.kind != "op" {
		if required {
			return nil, errf("Invalid filter pattern: expected an operator after %s", field)
		}
		return c, nil
	}
	p.next()
	c.Op = t.s
	v := p.next()
	switch v.kind {
	case "str":
		c.Str = v.s
	case "word":
		if f, ok := isNum(v.s); ok {
			c.Num, c.IsNum = f, true
		} else {
			c.Str = v.s
		}
	default:
		return nil, errf("Invalid filter pattern: expected a value after %s %s", field, c.Op)
	}
	if c.Op != "=" && c.Op != "!=" && !c.IsNum {
		return nil, errf("Invalid filter pattern: %s needs a number", c.Op)
	}
	if strings.HasPrefix(c.Str, "%") && strings.HasSuffix(c.Str, "%") && len(c.Str) > 1 {
		return nil, errf("Invalid filter pattern: regular expressions are not supported")
	}
	return c, nil
}

type pathElem struct {
	key   string
	index int // >= 0: array index
}

func parsePath(s string) ([]pathElem, error) {
	if s == "$" {
		return nil, nil
	}
	if !strings.HasPrefix(s, "$.") && !strings.HasPrefix(s, "$[") {
		return nil, errf("Invalid filter pattern: bad selector %q", s)
	}
	rest := s[1:]
	var out []pathElem
	for rest != "" {
		switch rest[0] {
		case '.':
			j := 1
			for j < len(rest) && rest[j] != '.' && rest[j] != '[' {
				j++
			}
			key := rest[1:j]
			if key == "" || strings.ContainsAny(key, "]*") {
				return nil, errf("Invalid filter pattern: bad selector %q", s)
			}
			out = append(out, pathElem{key: key, index: -1})
			rest = rest[j:]
		case '[':
			j := strings.IndexByte(rest, ']')
			if j < 0 {
				return nil, errf("Invalid filter pattern: bad selector %q", s)
			}
			n, err := strconv.Atoi(rest[1:j])
			if err != nil || n < 0 || strconv.Itoa(n) != rest[1:j] {
				return nil, errf("Invalid filter pattern: unsupported selector %q (array indexes only)", s)
			}
			out = append(out, pathElem{index: n})
			rest = rest[j+1:]
		default:
			return nil, errf("Invalid filter pattern: bad selector %q", s)
		}
	}
	return out, nil
}

func lookup(doc any, path []pathElem) (any, bool) {
	v := doc
	for _, e := range path {
		if e.index >= 0 {
			a, ok := v.([]any)
			if !ok || e.index >= len(a) {
				return nil, false
			}
			v = a[e.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = m[e.key]
		if !ok {
			return nil, false
		}
	}
	return v, true
}

func (e *Expr) eval(doc any) bool {
	switch e.Op {
	case "&&":
		return e.L.eval(doc) && e.R.eval(doc)
	case "||":
		return e.L.eval(doc) || e.R.eval(doc)
	}
	v, ok := lookup(doc, e.Cond.path)
	switch v.(type) {
	case map[string]any, []any:
		if e.Cond.Op != "NOT EXISTS" && e.Cond.Op != "IS NULL" {
			return false
		}
	}
	return e.Cond.compare(v, ok)
}

var _ = json.Number("")

// ---- space-delimited ----

func parseSpace(s string) (*Pattern, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if len(toks) < 2 || toks[len(toks)-1].kind != "]" {
		return nil, errf("Invalid filter pattern: a space-delimited pattern ends with ']'")
	}
	p := &parser{toks: toks[1 : len(toks)-1]}
	out := &Pattern{Kind: Space}
	seen := map[string]bool{}
	for {
		t := p.next()
		switch {
		case t.kind == "...":
			out.Fields = append(out.Fields, Cond{Field: "..."})
		case t.kind == "word" && isIdent(t.s):
			if seen[t.s] {
				return nil, errf("Invalid filter pattern: field %s named twice", t.s)
			}
			seen[t.s] = true
			c, err := p.cond(t.s, false)
			if err != nil {
				return nil, err
			}
			if c.Op == "IS TRUE" || c.Op == "IS FALSE" || c.Op == "IS NULL" || c.Op == "NOT EXISTS" {
				return nil, errf("Invalid filter pattern: %s is for JSON patterns", c.Op)
			}
			out.Fields = append(out.Fields, *c)
		default:
			return nil, errf("Invalid filter pattern: expected a field name, got %q", t.s)
		}
		switch n := p.next(); n.kind {
		case "":
			if len(out.Fields) == 0 {
				return nil, errf("Invalid filter pattern: no fields")
			}
			return out, nil
		case ",":
		case "&&", "||":
			return nil, errf("Invalid filter pattern: && and || inside a space-delimited field are not supported")
		default:
			return nil, errf("Invalid filter pattern: expected ',' got %q", n.s)
		}
	}
}

func isIdent(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] == '_' || s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

// splitFields splits a message on spaces; "quoted" and [bracketed] runs are
// one field each, without their delimiters. The fields are appended to out.
func splitFields(out []string, msg string) []string {
	for i := 0; i < len(msg); {
		switch c := msg[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '[':
			end := byte('"')
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(msg[i+1:], end)
			if j < 0 {
				out = append(out, msg[i+1:])
				return out
			}
			out = append(out, msg[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' {
				j++
			}
			out = append(out, msg[i:j])
			i = j
		}
	}
	return out
}

// matchFields tells whether the space-delimited pattern pat matches the
// fields.
func matchFields(pat []Cond, fields []string) bool {
	// ok[j] tells whether pat[i:] matches fields[j:], for i from the end;
	// prev is the same for pat[i+1:].
	var bufA, bufB [33]bool
	ok, prev := bufA[:], bufB[:]
	if len(fields)+1 > len(bufA) {
		ok, prev = make([]bool, len(fields)+1), make([]bool, len(fields)+1)
	}
	ok, prev = ok[:len(fields)+1], prev[:len(fields)+1]
	clear(ok)
	ok[len(fields)] = true
	for i := len(pat) - 1; i >= 0; i-- {
		ok, prev = prev, ok
		if pat[i].Field == "..." {
			any := false
			for j := len(fields); j >= 0; j-- {
				any = any || prev[j]
				ok[j] = any
			}
			continue
		}
		ok[len(fields)] = false
		for j := 0; j < len(fields); j++ {
			ok[j] = prev[j+1] && pat[i].test(vString, fields[j])
		}
	}
	return ok[0]
}

// maybe is a cheap necessary condition of eval on the raw message (which
// holds no backslash, so every key and string is written literally): a
// message it refuses cannot match, one it accepts is decoded and
// evaluated.
func (e *Expr) maybe(msg string) bool {
	switch e.Op {
	case "&&":
		return e.L.maybe(msg) && e.R.maybe(msg)
	case "||":
		return e.L.maybe(msg) || e.R.maybe(msg)
	}
	c := e.Cond
	if c.Op == "NOT EXISTS" {
		return true
	}
	// The last key of the path is in the message, quoted.
	if c.quotedKey != "" && !strings.Contains(msg, c.quotedKey) {
		return false
	}
	if c.Op != "=" {
		return true
	}
	if !c.IsNum {
		// A string without wildcards equals only itself.
		if strings.Contains(c.Str, "*") {
			return true
		}
		return strings.Contains(msg, c.Str)
	}
	// A number equal to an integer N is written with N's digits, or with
	// an exponent (a digit followed by e or E).
	if c.Num != math.Trunc(c.Num) || math.Abs(c.Num) >= 1e15 {
		return true
	}
	digits := c.digits
	if digits == "" {
		digits = strconv.FormatInt(int64(math.Abs(c.Num)), 10)
	}
	if strings.Contains(msg, digits) {
		return true
	}
	for i := 1; i < len(msg); i++ {
		if (msg[i] == 'e' || msg[i] == 'E') && msg[i-1] >= '0' && msg[i-1] <= '9' {
			return true
		}
	}
	return false
}
