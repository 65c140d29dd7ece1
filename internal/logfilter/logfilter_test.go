package logfilter

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"pgregory.net/rapid"
)

// TestGolden runs testdata/*: "parse" prints the canonical form or the
// error; "match" takes the pattern on its first line and prints, for each
// following message, whether it matches.
func TestGolden(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			lines := strings.Split(d.Input, "\n")
			switch d.Cmd {
			case "parse":
				var out []string
				for _, l := range lines {
					p, err := Parse(l)
					if err != nil {
						out = append(out, "error: "+err.Error())
						continue
					}
					out = append(out, p.String())
				}
				return strings.Join(out, "\n") + "\n"
			case "match":
				p, err := Parse(lines[0])
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				var out []string
				for _, m := range lines[1:] {
					out = append(out, fmt.Sprintf("%v %s", p.Match(m), m))
				}
				return strings.Join(out, "\n") + "\n"
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

func checkReparse(t interface{ Fatalf(string, ...any) }, s string) {
	p, err := Parse(s)
	if err != nil {
		return
	}
	q, err := Parse(p.String())
	if err != nil {
		t.Fatalf("%q: canonical %q does not parse: %v", s, p.String(), err)
	}
	if !p.Equal(q) {
		t.Fatalf("%q: canonical %q re-parses as %q", s, p.String(), q.String())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "ERROR", `"a b" -c`, "?x ?y", `{ $.a = "x*" }`, `{ ($.a > 1 || $.b IS NULL) && $.c NOT EXISTS }`,
		`[ip, user, ..., status = 5*, bytes > 1000]`, `{ $.a[0].b != 2.5e3 }`, `%re%`, `[a, b && c]`, `{ $.x IS TRUE }`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkReparse(t, s)
		if p, err := Parse(s); err == nil {
			p.Match(s)
			p.Match(`{"a":[1,{"b":null}],"level":"error"}`)
		}
	})
}

// Property: a text pattern of required terms matches exactly the messages
// containing all terms; excluding a present term never matches.
func TestTextProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		terms := rapid.SliceOfN(rapid.StringMatching(`[a-z]{1,4}`), 1, 4).Draw(t, "terms")
		msg := rapid.StringMatching(`[a-z ]{0,30}`).Draw(t, "msg")
		var q []string
		all := true
		for _, term := range terms {
			q = append(q, term)
			all = all && strings.Contains(msg, term)
		}
		p, err := Parse(strings.Join(q, " "))
		if err != nil {
			t.Fatal(err)
		}
		if p.Match(msg) != all {
			t.Fatalf("%q on %q: got %v", q, msg, !all)
		}
		checkReparse(t, p.String())
		ex, _ := Parse("-" + terms[0])
		if ex.Match(msg) == strings.Contains(msg, terms[0]) {
			t.Fatalf("exclusion of %q on %q", terms[0], msg)
		}
	})
}

// Property: numeric JSON comparisons agree with Go's.
func TestJSONNumberProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.IntRange(-1000, 1000).Draw(t, "a")
		b := rapid.IntRange(-1000, 1000).Draw(t, "b")
		msg := fmt.Sprintf(`{"v": %d}`, a)
		for op, want := range map[string]bool{"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b} {
			p, err := Parse(fmt.Sprintf("{ $.v %s %d }", op, b))
			if err != nil {
				t.Fatal(err)
			}
			if p.Match(msg) != want {
				t.Fatalf("%d %s %d: got %v", a, op, b, !want)
			}
		}
	})
}

// Property: the prefilter of JSON patterns never refuses a message the
// full evaluation matches.
func TestJSONPrefilterSound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		keys := []string{"a", "b", "status"}
		vals := []string{`500`, `5e2`, `500.0`, `"500"`, `"x"`, `"xy"`, `true`, `null`, `-500`, `{"a":500}`, `[500]`}
		var parts []string
		for _, k := range keys {
			if rapid.Bool().Draw(t, "has "+k) {
				parts = append(parts, fmt.Sprintf("%q:%s", k, rapid.SampledFrom(vals).Draw(t, "v "+k)))
			}
		}
		msg := "{" + strings.Join(parts, ",") + "}"
		ops := []string{"= 500", "= -500", `= "x"`, `= "x*"`, "!= 500", "> 100", "IS NULL", "NOT EXISTS", "IS TRUE", `= "500"`}
		pat := fmt.Sprintf("{ $.%s %s || $.%s %s }", rapid.SampledFrom(keys).Draw(t, "k1"), rapid.SampledFrom(ops).Draw(t, "o1"),
			rapid.SampledFrom(keys).Draw(t, "k2"), rapid.SampledFrom(ops).Draw(t, "o2"))
		p, err := Parse(pat)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		d := json.NewDecoder(strings.NewReader(msg))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if p.Expr.eval(doc) && !p.Expr.maybe(msg) {
			t.Fatalf("%s refused %s", pat, msg)
		}
	})
}
