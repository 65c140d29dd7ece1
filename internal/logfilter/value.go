package logfilter

import (
	"encoding/json"
	"strconv"
	"strings"
)

// A value as conditions see it, without boxing: its kind and, for strings
// and numbers, its text (a string's content, a number as written).
type vkind uint8

const (
	vMissing   vkind = iota // no such field
	vString                 // s is the string's content
	vNumber                 // s is the number's text
	vTrue                   //
	vFalse                  //
	vNull                   //
	vComposite              // an object or an array
)

// kindOf maps a decoded JSON value (encoding/json with UseNumber) or a
// space-delimited field to its kind and text.
func kindOf(v any, present bool) (vkind, string) {
	if !present {
		return vMissing, ""
	}
	switch x := v.(type) {
	case string:
		return vString, x
	case json.Number:
		return vNumber, string(x)
	case bool:
		if x {
			return vTrue, ""
		}
		return vFalse, ""
	case nil:
		return vNull, ""
	}
	return vComposite, ""
}

// compare applies a condition to a scalar: a JSON value (string,
// json.Number, bool, nil; objects and arrays never match) or a
// space-delimited field (string).
func (c *Cond) compare(v any, present bool) bool {
	k, s := kindOf(v, present)
	return c.test(k, s)
}

// test applies the condition to a value of kind k and text s.
func (c *Cond) test(k vkind, s string) bool {
	switch c.Op {
	case "NOT EXISTS":
		return k == vMissing
	case "IS NULL":
		return k == vNull
	case "IS TRUE":
		return k == vTrue
	case "IS FALSE":
		return k == vFalse
	case "":
		return k != vMissing
	}
	if c.IsNum {
		var f float64
		switch k {
		case vNumber:
			g, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return false
			}
			f = g
		case vString:
			g, ok := isNum(s)
			if !ok {
				return false
			}
			f = g
		default:
			return false
		}
		switch c.Op {
		case "=":
			return f == c.Num
		case "!=":
			return f != c.Num
		case "<":
			return f < c.Num
		case "<=":
			return f <= c.Num
		case ">":
			return f > c.Num
		case ">=":
			return f >= c.Num
		}
		return false
	}
	switch k {
	case vString, vNumber:
	case vTrue:
		s = "true"
	case vFalse:
		s = "false"
	default:
		return false
	}
	eq := wildcard(c.Str, s)
	if c.Op == "!=" {
		return !eq
	}
	return eq
}

// wildcard matches s against a pattern where * matches any run.
func wildcard(pat, s string) bool {
	first, rest, ok := strings.Cut(pat, "*")
	if !ok {
		return pat == s
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for {
		part, more, ok := strings.Cut(rest, "*")
		if !ok {
			// rest is the last part: a suffix.
			return strings.HasSuffix(s, rest)
		}
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s, rest = s[i+len(part):], more
	}
}
