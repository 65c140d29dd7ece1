package logfilter

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The fast path of JSON patterns: one pass over the message that checks
// its JSON syntax and picks out the values the pattern's selectors name,
// without building the document. It answers only where it is sure to
// agree with the general path (encoding/json's Decoder with UseNumber,
// which reads the first JSON value of the message and ignores what
// follows it); it gives up — and the general path decides — on any
// syntax error, on an object key with an escape where a selector could
// look, on a selected string with an escape or invalid UTF-8 (which
// decoding would rewrite), and beyond maxScanDepth nesting levels.
//
// Semantics kept: the last member of a name wins (as decoding into a map),
// objects and arrays are composite values that no condition but NOT
// EXISTS (false: present) matches, numbers keep their text.

// maxScanConds is how many conditions a pattern may have for the fast
// path (one bit each in a mask).
const maxScanConds = 64

const maxScanDepth = 512

type jval struct {
	kind vkind
	s    string
}

type jscan struct {
	s        string
	conds    []*Cond
	vals     *[maxScanConds]jval
	giveUp   bool
	atDepth  []uint64 // atDepth[d]: conds whose path has d elements
	deeper   []uint64 // deeper[d]: conds whose path has more than d elements
	selected uint64
}

// scanMatch evaluates e on msg (trimmed, starting with '{'); ok is false
// when the general path must decide.
func (p *Pattern) scanMatch(msg string) (match, ok bool) {
	sc := scanPool.Get().(*jscan)
	defer scanPool.Put(sc)
	*sc = jscan{s: msg, conds: p.conds, vals: sc.vals, atDepth: p.atDepth, deeper: p.deeper}
	clear(sc.vals[:len(p.conds)])
	all := uint64(1)<<len(p.conds) - 1
	if len(p.conds) == maxScanConds {
		all = ^uint64(0)
	}
	end := sc.value(0, 0, all)
	sc.s = ""
	if end < 0 || sc.giveUp {
		return false, false
	}
	match = p.Expr.evalVals(sc.vals)
	clear(sc.vals[:len(p.conds)])
	return match, true
}

// scanPool holds scanners and their value arrays (too big to make per
// message); a message's text is not kept in them after the call.
var scanPool = sync.Pool{New: func() any { return &jscan{vals: new([maxScanConds]jval)} }}

func (e *Expr) evalVals(vals *[maxScanConds]jval) bool {
	switch e.Op {
	case "&&":
		return e.L.evalVals(vals) && e.R.evalVals(vals)
	case "||":
		return e.L.evalVals(vals) || e.R.evalVals(vals)
	}
	v := vals[e.Cond.idx]
	return e.Cond.test(v.kind, v.s)
}

func (sc *jscan) ws(i int) int {
	for i < len(sc.s) {
		switch sc.s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value parses the value at s[i] (after white space), for the conditions
// in mask, whose paths match the location up to depth d. It returns the
// index after the value, or -1 on a syntax error or when giving up.
func (sc *jscan) value(i, d int, mask uint64) int {
	if d > maxScanDepth {
		sc.giveUp = true
		return -1
	}
	i = sc.ws(i)
	if i >= len(sc.s) {
		return -1
	}
	start := i
	var kind vkind
	var text string
	switch c := sc.s[i]; {
	case c == '{':
		kind = vComposite
		i = sc.object(i, d, mask&sc.deeperAt(d))
	case c == '[':
		kind = vComposite
		i = sc.array(i, d, mask&sc.deeperAt(d))
	case c == '"':
		var esc, high bool
		i, esc, high = sc.str(i)
		kind = vString
		if i >= 0 {
			text = sc.s[start+1 : i-1]
			if mask&sc.atDepthAt(d) != 0 && (esc || high && !utf8.ValidString(text)) {
				sc.giveUp = true
				return -1
			}
		}
	case c == 't':
		kind, i = vTrue, sc.lit(i, "true")
	case c == 'f':
		kind, i = vFalse, sc.lit(i, "false")
	case c == 'n':
		kind, i = vNull, sc.lit(i, "null")
	default:
		kind, i = vNumber, sc.num(i)
		if i >= 0 {
			text = sc.s[start:i]
		}
	}
	if i < 0 {
		return -1
	}
	if here := mask & sc.atDepthAt(d); here != 0 {
		for k := range sc.conds {
			if here&(1<<k) != 0 {
				sc.vals[k] = jval{kind, text}
			}
		}
	}
	return i
}

func (sc *jscan) atDepthAt(d int) uint64 {
	if d < len(sc.atDepth) {
		return sc.atDepth[d]
	}
	return 0
}

func (sc *jscan) deeperAt(d int) uint64 {
	if d < len(sc.deeper) {
		return sc.deeper[d]
	}
	return 0
}

func (sc *jscan) lit(i int, w string) int {
	if strings.HasPrefix(sc.s[i:], w) {
		return i + len(w)
	}
	return -1
}

// num checks a JSON number at s[i].
func (sc *jscan) num(i int) int {
	s := sc.s
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return -1
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return -1
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i
}

// str checks the string at s[i] (a quote) and returns the index after its
// closing quote, whether it has escapes and bytes above 0x7f.
func (sc *jscan) str(i int) (end int, esc, high bool) {
	s := sc.s
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, esc, high
		case c == '\\':
			esc = true
			i++
			if i >= len(s) {
				return -1, esc, high
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return -1, esc, high
				}
				for _, h := range []byte(s[i+1 : i+5]) {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1, esc, high
					}
				}
				i += 4
			default:
				return -1, esc, high
			}
		case c < 0x20:
			return -1, esc, high
		case c >= 0x80:
			high = true
		}
	}
	return -1, esc, high
}

func (sc *jscan) object(i, d int, mask uint64) int {
	s := sc.s
	i = sc.ws(i + 1)
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return -1
		}
		end, esc, _ := sc.str(i)
		if end < 0 {
			return -1
		}
		var child uint64
		if mask != 0 {
			if esc {
				sc.giveUp = true
				return -1
			}
			key := s[i+1 : end-1]
			for k, c := range sc.conds {
				if mask&(1<<k) != 0 && c.path[d].index < 0 && c.path[d].key == key {
					child |= 1 << k
					// A later member of the same name replaces this one.
					sc.vals[k] = jval{}
				}
			}
		}
		i = sc.ws(end)
		if i >= len(s) || s[i] != ':' {
			return -1
		}
		if i = sc.value(i+1, d+1, child); i < 0 {
			return -1
		}
		i = sc.ws(i)
		if i >= len(s) {
			return -1
		}
		switch s[i] {
		case ',':
			i = sc.ws(i + 1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

func (sc *jscan) array(i, d int, mask uint64) int {
	s := sc.s
	i = sc.ws(i + 1)
	if i < len(s) && s[i] == ']' {
		return i + 1
	}
	for n := 0; ; n++ {
		var child uint64
		if mask != 0 {
			for k, c := range sc.conds {
				if mask&(1<<k) != 0 && c.path[d].index == n {
					child |= 1 << k
				}
			}
		}
		if i = sc.value(i, d+1, child); i < 0 {
			return -1
		}
		i = sc.ws(i)
		if i >= len(s) {
			return -1
		}
		switch s[i] {
		case ',':
			i++
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// prepareScan numbers the conditions of a JSON pattern for the fast path
// and precomputes what the prefilter looks for.
func (p *Pattern) prepareScan() {
	var conds []*Cond
	var walk func(e *Expr)
	walk = func(e *Expr) {
		if e.Op != "" {
			walk(e.L)
			walk(e.R)
			return
		}
		e.Cond.idx = len(conds)
		if c := e.Cond; c.IsNum && c.Num == math.Trunc(c.Num) && math.Abs(c.Num) < 1e15 {
			c.digits = strconv.FormatInt(int64(math.Abs(c.Num)), 10)
		}
		conds = append(conds, e.Cond)
		for i := len(e.Cond.path) - 1; i >= 0; i-- {
			if e.Cond.path[i].index < 0 {
				e.Cond.quotedKey = `"` + e.Cond.path[i].key + `"`
				break
			}
		}
	}
	walk(p.Expr)
	if len(conds) > maxScanConds {
		return
	}
	p.conds = conds
	for k, c := range conds {
		for len(p.atDepth) <= len(c.path) {
			p.atDepth = append(p.atDepth, 0)
			p.deeper = append(p.deeper, 0)
		}
		p.atDepth[len(c.path)] |= 1 << k
		for d := 0; d < len(c.path); d++ {
			p.deeper[d] |= 1 << k
		}
	}
}
