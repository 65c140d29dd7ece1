package logfilter

import (
	"encoding/json"
	"strings"
)

// The fast path of JSON patterns: for a message that is valid JSON and has
// no backslash (so every string ends at the next quote), each selector's
// value is found by scanning the text, without decoding the document.
// The values it yields are those encoding/json would (with UseNumber),
// except that objects and arrays come back empty, which conditions treat
// the same way.

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index after the value at s[i] (s is valid JSON
// without backslashes).
func skipValue(s string, i int) int {
	switch s[i] {
	case '"':
		return i + 1 + strings.IndexByte(s[i+1:], '"') + 1
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '"':
				i += strings.IndexByte(s[i+1:], '"') + 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(s) && !strings.ContainsRune(",}] \t\r\n", rune(s[i])) {
		i++
	}
	return i
}

// scalar converts the value at s[i:j].
func scalar(v string) any {
	switch v[0] {
	case '"':
		return v[1 : len(v)-1]
	case '{':
		return map[string]any{}
	case '[':
		return []any{}
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	}
	return json.Number(v)
}

// lookupRaw finds the value a path selects in a valid JSON text without
// backslashes.
func lookupRaw(s string, path []pathElem) (any, bool) {
	i := skipSpace(s, 0)
	for _, e := range path {
		if i >= len(s) {
			return nil, false
		}
		if e.index >= 0 {
			if s[i] != '[' {
				return nil, false
			}
			i = skipSpace(s, i+1)
			found := false
			for n := 0; i < len(s) && s[i] != ']'; n++ {
				if n == e.index {
					found = true
					break
				}
				i = skipSpace(s, skipValue(s, i))
				if i < len(s) && s[i] == ',' {
					i = skipSpace(s, i+1)
				}
			}
			if !found {
				return nil, false
			}
			continue
		}
		if s[i] != '{' {
			return nil, false
		}
		// The last member of that name wins, as in encoding/json.
		i = skipSpace(s, i+1)
		at := -1
		for i < len(s) && s[i] == '"' {
			end := i + 1 + strings.IndexByte(s[i+1:], '"')
			key := s[i+1 : end]
			i = skipSpace(s, end+1) // at ':'
			i = skipSpace(s, i+1)
			if key == e.key {
				at = i
			}
			i = skipSpace(s, skipValue(s, i))
			if i < len(s) && s[i] == ',' {
				i = skipSpace(s, i+1)
			}
		}
		if at < 0 {
			return nil, false
		}
		i = at
	}
	if i >= len(s) {
		return nil, false
	}
	return scalar(s[i:skipValue(s, i)]), true
}

func (e *Expr) evalRaw(s string) bool {
	switch e.Op {
	case "&&":
		return e.L.evalRaw(s) && e.R.evalRaw(s)
	case "||":
		return e.L.evalRaw(s) || e.R.evalRaw(s)
	}
	v, ok := lookupRaw(s, e.Cond.path)
	switch v.(type) {
	case map[string]any, []any:
		if e.Cond.Op != "NOT EXISTS" && e.Cond.Op != "IS NULL" {
			return false
		}
	}
	return e.Cond.compare(v, ok)
}
