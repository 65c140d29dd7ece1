package cql

import "strings"

// Precedence levels, loosest first.
const (
	precOr = iota
	precAnd
)

type printer struct {
	b strings.Builder
}

// node prints n in a context of precedence ctx, adding parentheses when n
// binds more loosely than the context.
func (p *printer) node(n node, ctx int) {
	switch n := n.(type) {
	case orNode:
		p.list(n, " or ", ctx > precOr, precAnd)
	case andNode:
		p.list(n, " and ", ctx > precAnd, precAnd+1)
	case notNode:
		p.b.WriteString("not (")
		p.node(n.x, precOr)
		p.b.WriteString(")")
	case *cmpNode:
		p.cmp(n)
	}
}

func (p *printer) list(xs []node, sep string, paren bool, childCtx int) {
	if paren {
		p.b.WriteByte('(')
	}
	for i, x := range xs {
		if i > 0 {
			p.b.WriteString(sep)
		}
		p.node(x, childCtx)
	}
	if paren {
		p.b.WriteByte(')')
	}
}

func (p *printer) cmp(c *cmpNode) {
	p.b.WriteString(c.subj.String())
	p.b.WriteByte(' ')
	p.b.WriteString(c.op.String())
	switch {
	case c.op.isUnary():
	case c.op.isList():
		p.b.WriteString(" [")
		for i, v := range c.args {
			if i > 0 {
				p.b.WriteString(", ")
			}
			p.b.WriteString(quote(v))
		}
		p.b.WriteByte(']')
	default:
		p.b.WriteByte(' ')
		p.b.WriteString(quote(c.args[0]))
	}
}

// quote returns v bare when it reads back as itself, else in the quote
// character v does not contain. Parse never produces a value containing
// both quote characters.
func quote(v string) string {
	switch {
	case isBare(v):
		return v
	case !strings.Contains(v, `"`):
		return `"` + v + `"`
	}
	return "'" + v + "'"
}
