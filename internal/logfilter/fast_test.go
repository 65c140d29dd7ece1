package logfilter

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// wildcardRef is the plain definition: split on *, prefix, parts in
// order, suffix.
func wildcardRef(pat, s string) bool {
	if !strings.Contains(pat, "*") {
		return pat == s
	}
	parts := strings.Split(pat, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return len(s) >= len(parts[len(parts)-1]) && strings.HasSuffix(s, parts[len(parts)-1])
}

func TestWildcardAgrees(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pat := rapid.StringMatching(`[ab*]{0,6}`).Draw(t, "pat")
		s := rapid.StringMatching(`[ab]{0,8}`).Draw(t, "s")
		if wildcard(pat, s) != wildcardRef(pat, s) {
			t.Fatalf("%q on %q: %v", pat, s, wildcard(pat, s))
		}
	})
}

// matchFieldsRef is the definition of space-delimited matching by
// recursion over the pattern and the fields.
func matchFieldsRef(pat []Cond, fields []string) bool {
	if len(pat) == 0 {
		return len(fields) == 0
	}
	if pat[0].Field == "..." {
		for j := 0; j <= len(fields); j++ {
			if matchFieldsRef(pat[1:], fields[j:]) {
				return true
			}
		}
		return false
	}
	return len(fields) > 0 && pat[0].compare(fields[0], true) && matchFieldsRef(pat[1:], fields[1:])
}

// Property: the allocation-free space-delimited matcher agrees with the
// definition, for messages of up to 40 fields (beyond the stack buffers).
func TestSpaceMatchAgrees(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var parts []string
		for i, n := 0, rapid.IntRange(0, 40).Draw(t, "n"); i < n; i++ {
			parts = append(parts, rapid.SampledFrom([]string{"a", "5", "500", "x y", "[b c]", `"q r"`, "-", "1e3"}).Draw(t, "field"))
		}
		msg := strings.Join(parts, rapid.SampledFrom([]string{" ", "  ", "\t"}).Draw(t, "sep"))
		var fs []string
		for i, n := 0, rapid.IntRange(1, 6).Draw(t, "pat"); i < n; i++ {
			f := rapid.SampledFrom([]string{"...", "f", "f = 5*", "f != a", "f > 100", `f = "x y"`, "f = b*"}).Draw(t, "pf")
			fs = append(fs, strings.Replace(f, "f", "f"+string(rune('a'+i)), 1))
		}
		p, err := Parse("[" + strings.Join(fs, ", ") + "]")
		if err != nil {
			t.Skip(err)
		}
		fields := splitFields(nil, msg)
		if got, want := p.Match(msg), matchFieldsRef(p.Fields, fields); got != want {
			t.Fatalf("%s on %q (%q): %v", p, msg, fields, got)
		}
	})
}

// The fast paths allocate nothing per message (the bench's patterns).
func TestMatchAllocatesNothing(t *testing.T) {
	jsonMsg := `{"level":"info","id":5001,"path":"/api/i/976","status":200,"latency":249}`
	access := `10.0.1.2 - user3 [06/Dec/2026:00:00:01 +0000] "GET /api/i/1 HTTP/1.1" 500 1234`
	for _, c := range []struct{ pat, msg string }{
		{`"error"`, jsonMsg}, {`?error ?warn`, jsonMsg}, {`latency -info`, jsonMsg},
		{`{ $.level = "error" }`, jsonMsg}, {`{ $.status = 500 }`, jsonMsg}, {`{ $.latency > 245 }`, jsonMsg},
		{`{ ($.latency > 248 && $.id < 500000) || $.status = 500 }`, jsonMsg},
		{`[ip, ident, user, ..., status = 5*, bytes]`, access},
	} {
		p, err := Parse(c.pat)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { p.Match(c.msg) }); n != 0 {
			t.Errorf("%s: %v allocations per message", c.pat, n)
		}
	}
}
