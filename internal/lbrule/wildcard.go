package lbrule

// Pattern is a compiled wildcard pattern: '*' matches any run of bytes,
// '?' exactly one. Matching is byte-wise (ELB matches visible ASCII only).
type Pattern struct {
	toks     []tok
	fold     bool
	literal  bool   // no wildcards: compare directly
	lit      string // the pattern when literal (lowered when fold)
	matchAll bool   // the pattern is only stars
}

type tokKind uint8

const (
	tokLit tokKind = iota
	tokOne
	tokStar
)

type tok struct {
	kind tokKind
	b    byte
}

// CompilePattern compiles a wildcard pattern. fold makes it ASCII
// case-insensitive; escapes makes '\*' and '\?' (and '\\') literal, as in
// query-string conditions.
func CompilePattern(p string, fold, escapes bool) Pattern {
	pt := Pattern{fold: fold, literal: true}
	onlyStars := true
	var lit []byte
	addLit := func(c byte) {
		if fold {
			c = lower(c)
		}
		pt.toks = append(pt.toks, tok{kind: tokLit, b: c})
		lit = append(lit, c)
		onlyStars = false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case escapes && c == '\\' && i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '?' || p[i+1] == '\\'):
			i++
			addLit(p[i])
		case c == '*':
			pt.literal = false
			if n := len(pt.toks); n == 0 || pt.toks[n-1].kind != tokStar {
				pt.toks = append(pt.toks, tok{kind: tokStar})
			}
		case c == '?':
			pt.literal = false
			onlyStars = false
			pt.toks = append(pt.toks, tok{kind: tokOne})
		default:
			addLit(c)
		}
	}
	pt.lit = string(lit)
	pt.matchAll = onlyStars && len(pt.toks) > 0
	return pt
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Match reports whether s matches the whole pattern. It runs in
// O(len(pattern)*len(s)) at worst (greedy star with one backtrack point).
func (p *Pattern) Match(s string) bool {
	if p.matchAll {
		return true
	}
	if p.literal {
		if len(s) != len(p.lit) {
			return false
		}
		if !p.fold {
			return s == p.lit
		}
		for i := 0; i < len(s); i++ {
			if lower(s[i]) != p.lit[i] {
				return false
			}
		}
		return true
	}
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		if ti < len(p.toks) {
			t := p.toks[ti]
			switch t.kind {
			case tokStar:
				starT, starS = ti, si
				ti++
				continue
			case tokOne:
				ti++
				si++
				continue
			case tokLit:
				c := s[si]
				if p.fold {
					c = lower(c)
				}
				if c == t.b {
					ti++
					si++
					continue
				}
			}
		}
		if starT < 0 {
			return false
		}
		starS++
		ti, si = starT+1, starS
	}
	for ti < len(p.toks) && p.toks[ti].kind == tokStar {
		ti++
	}
	return ti == len(p.toks)
}
