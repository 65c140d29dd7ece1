package logfilter

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// checkScan fails when the fast path answers differently from the
// decoding path on msg.
func checkScan(t interface{ Fatalf(string, ...any) }, p *Pattern, msg string) {
	m := strings.TrimSpace(msg)
	if !strings.HasPrefix(m, "{") || p.conds == nil {
		return
	}
	got, ok := p.scanMatch(m)
	if !ok {
		return
	}
	if want := p.matchDecoded(m); got != want {
		t.Fatalf("%s on %q: scan %v, decode %v", p, m, got, want)
	}
}

var (
	scanSelectors = []string{"$.a", "$.b", "$.a.b", "$.a[0]", "$.b[1].c", "$.c", "$.a[1]", "$.a.a.a", "$"}
	scanOps       = []string{"= 500", `= "x*"`, "!= 0", "> 1", "<= 5e2", "IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE", `= ""`, `= "a b"`, `!= "x"`, `= true`}
)

func genJSON(t *rapid.T, depth int) string {
	kind := rapid.IntRange(0, 7).Draw(t, "kind")
	if depth > 2 && kind >= 5 {
		kind = 0
	}
	switch kind {
	case 0:
		return rapid.SampledFrom([]string{"500", "5e2", "-1.5", "0", "1E+2", "500.0", "1e999"}).Draw(t, "num")
	case 1:
		return rapid.SampledFrom([]string{`"x"`, `"xy"`, `"500"`, `""`, `"a b"`, `"x\"y"`, `"\u0078"`, `"é"`, "\"\xff\"", `"5e2"`, `"true"`}).Draw(t, "str")
	case 2:
		return rapid.SampledFrom([]string{"true", "false"}).Draw(t, "bool")
	case 3:
		return "null"
	case 4:
		// Broken values: the fast path must give up or agree.
		return rapid.SampledFrom([]string{"01", "tru", `"x`, "-", "1.", "nul", "[1,]", "{,}", "\"\x01\"", `"\q"`, "1e"}).Draw(t, "bad")
	case 5:
		n := rapid.IntRange(0, 3).Draw(t, "len")
		var el []string
		for i := 0; i < n; i++ {
			el = append(el, genJSON(t, depth+1))
		}
		return "[ " + strings.Join(el, " , ") + "]"
	}
	n := rapid.IntRange(0, 3).Draw(t, "members")
	var m []string
	for i := 0; i < n; i++ {
		key := rapid.SampledFrom([]string{`"a"`, `"b"`, `"c"`, `"\u0061"`, `"é"`, `"a\"b"`}).Draw(t, "key")
		m = append(m, fmt.Sprintf("%s : %s", key, genJSON(t, depth+1)))
	}
	return "{" + strings.Join(m, ",") + "}"
}

// Property: wherever the scanning evaluation answers, it agrees with the
// decoding one: valid and broken documents, duplicate members, escapes,
// non-ASCII, nested selectors, && and ||, trailing text.
func TestJSONScanAgrees(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msg := "{" + fmt.Sprintf(`"a":%s,"b":%s,"a":%s`, genJSON(t, 1), genJSON(t, 1), genJSON(t, 1)) + "}"
		msg += rapid.SampledFrom([]string{"", " ", "}", " trailing", "\n{"}).Draw(t, "tail")
		cond := func(name string) string {
			return rapid.SampledFrom(scanSelectors).Draw(t, name+" sel") + " " + rapid.SampledFrom(scanOps).Draw(t, name+" op")
		}
		pat := "{ " + cond("c1") + " }"
		if rapid.Bool().Draw(t, "two") {
			pat = "{ " + cond("c1") + rapid.SampledFrom([]string{" && ", " || "}).Draw(t, "join") + cond("c2") + " }"
		}
		p, err := Parse(pat)
		if err != nil {
			t.Fatal(err)
		}
		checkScan(t, p, msg)
		if got, want := p.Match(msg), p.matchDecoded(strings.TrimSpace(msg)); got != want {
			t.Fatalf("%s on %q: Match %v, decode %v", p, msg, got, want)
		}
	})
}

// The fast path answers the messages it is meant for (valid JSON without
// escapes in what is selected).
func TestJSONScanAnswers(t *testing.T) {
	p, _ := Parse(`{ $.latency > 100 && $.req.path = "/api/*" }`)
	for _, m := range []string{`{"level":"info","latency":150,"req":{"path":"/api/x","h":"a\"b"}}`, `{"latency":5}`, `{"req":[1,2]}`} {
		if _, ok := p.scanMatch(m); !ok {
			t.Errorf("gave up on %s", m)
		}
	}
	if _, ok := p.scanMatch(`{"latency":1,"req":{"path":"\/api"}}`); ok {
		t.Error("answered on an escaped selected string")
	}
	if _, ok := p.scanMatch(`{"latency":1,`); ok {
		t.Error("answered on broken JSON")
	}
}

func FuzzJSONScan(f *testing.F) {
	for _, s := range []string{`{"a":500}`, `{"a":{"b":[1,"x"]},"a":null}`, `{"a":"\u0078","b":[true,{"c":1}]}`, "{\"a\":\"\xff\"}", `{"a":1} x`, `{"a":01}`} {
		f.Add(s, uint8(0), uint8(1))
	}
	f.Fuzz(func(t *testing.T, msg string, sel, op uint8) {
		p, err := Parse("{ " + scanSelectors[int(sel)%len(scanSelectors)] + " " + scanOps[int(op)%len(scanOps)] + " }")
		if err != nil {
			t.Fatal(err)
		}
		checkScan(t, p, msg)
		// Whatever the fast path decides, Match agrees with decoding.
		m := strings.TrimSpace(msg)
		if want := strings.HasPrefix(m, "{") && p.matchDecoded(m); p.Match(msg) != want {
			t.Fatalf("%s on %q: Match %v, decode %v", p, msg, !want, want)
		}
		var v any
		if json.Unmarshal([]byte(msg), &v) == nil && strings.HasPrefix(m, "{") && p.conds != nil {
			if _, ok := p.scanMatch(m); !ok && !strings.Contains(m, `\`) && !strings.ContainsFunc(m, func(r rune) bool { return r > 0x7f }) {
				t.Fatalf("%s: gave up on valid %q", p, m)
			}
		}
	})
}
