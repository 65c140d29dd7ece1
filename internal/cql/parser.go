package cql

import (
	"fmt"
	"unicode/utf8"
)

// Parse parses and validates a cluster query language expression. The error
// is always a *SyntaxError.
func Parse(expr string) (*Expr, error) {
	if n := utf8.RuneCountInString(expr); n > MaxLength {
		return nil, &SyntaxError{Pos: MaxLength + 1, Msg: fmt.Sprintf("expression is %d characters long; the limit is %d", n, MaxLength)}
	}
	return parse(expr)
}

// parse is Parse without the length limit.
func parse(expr string) (*Expr, error) {
	p := &parser{scanner{src: expr}}
	p.skipSpace()
	if p.eof() {
		return nil, p.errAt(p.pos, "expression is empty")
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.src[p.pos] == ')' {
			return nil, p.errAt(p.pos, "unexpected ')' without a matching '('")
		}
		return nil, p.errAt(p.pos, "expected and, or or end of expression, found "+p.found()+p.parenHint())
	}
	return &Expr{root: root}, nil
}

type parser struct {
	scanner
}

// parseOr parses: and-expr { ("or" | "||") and-expr }.
func (p *parser) parseOr() (node, error) {
	var list orNode
	for {
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if sub, ok := n.(orNode); ok {
			list = append(list, sub...)
		} else {
			list = append(list, n)
		}
		if !p.acceptKeyword("or", "||") {
			break
		}
	}
	if len(list) == 1 {
		return list[0], nil
	}
	return list, nil
}

// parseAnd parses: unary { ("and" | "&&") unary }.
func (p *parser) parseAnd() (node, error) {
	var list andNode
	for {
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if sub, ok := n.(andNode); ok {
			list = append(list, sub...)
		} else {
			list = append(list, n)
		}
		if !p.acceptKeyword("and", "&&") {
			break
		}
	}
	if len(list) == 1 {
		return list[0], nil
	}
	return list, nil
}

// parseUnary parses: ("not" | "!") unary | "(" or-expr ")" | comparison.
func (p *parser) parseUnary() (node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errAt(p.pos, "expected an expression, found end of expression")
	}
	switch p.src[p.pos] {
	case '!':
		p.pos++
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case '(':
		open := p.pos
		p.pos++
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() {
			return nil, p.errAt(open, "unclosed '(': missing ')'")
		}
		if p.src[p.pos] != ')' {
			return nil, p.errAt(p.pos, "expected and, or or ')', found "+p.found()+p.parenHint())
		}
		p.pos++
		return x, nil
	}
	if w := p.peekWord(); eqFold(w, "not") {
		p.pos += len(w)
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.parseComparison()
}

// parseComparison parses: subject operator [value | list].
func (p *parser) parseComparison() (node, error) {
	start := p.pos
	w := p.peekWord()
	if w == "" {
		return nil, p.errAt(start, "expected a subject such as attribute:NAME or runningTasksCount, found "+p.found())
	}
	if eqFold(w, "and") || eqFold(w, "or") {
		return nil, p.errAt(start, fmt.Sprintf("expected an expression before %q", w))
	}
	subj, msg := lookupSubject(w)
	if msg != "" {
		return nil, p.errAt(start, msg)
	}
	p.pos += len(w)
	p.skipSpace()
	opPos := p.pos
	o, ok := p.scanOperator()
	if !ok {
		return nil, p.errAt(opPos, fmt.Sprintf("expected an operator after %s, found %s%s", subj, p.found(), p.parenHint()))
	}
	if !validOps[subj.kind].has(o) {
		return nil, p.errAt(opPos, fmt.Sprintf("operator %s is not valid for %s; valid operators are %s", o, subj, validOps[subj.kind]))
	}
	c := &cmpNode{subj: subj, op: o}
	switch {
	case o.isUnary():
	case o.isList():
		if err := p.parseList(c); err != nil {
			return nil, err
		}
	default:
		p.skipSpace()
		at := p.pos
		v, err := p.parseValue(c)
		if err != nil {
			return nil, err
		}
		if err := c.addArg(v); err != nil {
			return nil, p.errAt(at, err.Error())
		}
	}
	return c, nil
}

// parseList parses "[" value { "," value } "]" into c.
func (p *parser) parseList(c *cmpNode) error {
	p.skipSpace()
	if p.eof() || p.src[p.pos] != '[' {
		return p.errAt(p.pos, fmt.Sprintf("operator %s expects a list such as [a, b], found %s", c.op, p.found()))
	}
	open := p.pos
	p.pos++
	p.skipSpace()
	if !p.eof() && p.src[p.pos] == ']' {
		return p.errAt(open, fmt.Sprintf("empty list: operator %s needs at least one value", c.op))
	}
	for {
		p.skipSpace()
		at := p.pos
		v, err := p.parseValue(c)
		if err != nil {
			return err
		}
		if err := c.addArg(v); err != nil {
			return p.errAt(at, err.Error())
		}
		p.skipSpace()
		switch {
		case p.eof():
			return p.errAt(open, "unclosed '[': missing ']'")
		case p.src[p.pos] == ',':
			p.pos++
		case p.src[p.pos] == ']':
			p.pos++
			return nil
		default:
			return p.errAt(p.pos, "expected ',' or ']' in list, found "+p.found()+p.parenHint())
		}
	}
}

// parseValue scans one value for the comparison c.
func (p *parser) parseValue(c *cmpNode) (string, error) {
	at := p.pos
	if !c.op.isList() && !c.op.isRegex() && !p.eof() && p.src[p.pos] == '[' {
		return "", p.errAt(at, fmt.Sprintf("operator %s takes one value, not a list; lists are only valid with in and !in", c.op))
	}
	v, msg := p.scanValue(c.op.isList())
	if msg != "" {
		return "", p.errAt(at, msg)
	}
	if p.pos == at {
		return "", p.errAt(at, fmt.Sprintf("expected a value after %s %s, found %s%s", c.subj, c.op, p.found(), p.parenHint()))
	}
	return v, nil
}

// parenHint explains a parenthesis found inside a single expression.
func (p *parser) parenHint() string {
	if !p.eof() && (p.src[p.pos] == '(' || p.src[p.pos] == ')') {
		return "; parentheses cannot appear inside a single expression (quote values that contain them)"
	}
	return ""
}
