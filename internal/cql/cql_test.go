package cql

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestParse_ErrorPosition(t *testing.T) {
	long := "attribute:a == " + strings.Repeat("x", MaxLength-len("attribute:a == "))
	tests := []struct {
		name    string
		in      string
		wantPos int
		wantMsg string
	}{
		{"empty", "", 1, "expression is empty"},
		{"white space only", " \t\n", 4, "expression is empty"},
		{"too long", long + "x", MaxLength + 1, "expression is 2001 characters long; the limit is 2000"},
		{"too long in characters", strings.Repeat("ü", MaxLength+1), MaxLength + 1, "the limit is 2000"},
		{"position counts characters not bytes", "attribute:a == 'ü' ü", 20, `found "ü"`},
		{"position after a tab", "\tfoo == x", 2, `unknown subject "foo"`},
		{"invalid UTF-8 in a subject", "attribute:a\xff == x", 12, `found "\xff"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error: got %v (%T), want a *SyntaxError", err, err)
			}
			if se.Pos != tc.wantPos {
				t.Errorf("Pos: got %d, want %d", se.Pos, tc.wantPos)
			}
			if !strings.Contains(se.Msg, tc.wantMsg) {
				t.Errorf("Msg: got %q, want it to contain %q", se.Msg, tc.wantMsg)
			}
		})
	}
}

func TestParse_MaxLengthAccepted(t *testing.T) {
	s := "attribute:a == " + strings.Repeat("x", MaxLength-len("attribute:a == "))
	if _, err := Parse(s); err != nil {
		t.Fatalf("Parse of %d characters: got %v, want no error", len(s), err)
	}
	deep := strings.Repeat("(", 990) + "attribute:a exists" + strings.Repeat(")", 990)
	e, err := Parse(deep)
	if err != nil {
		t.Fatalf("Parse of deeply nested parentheses: got %v, want no error", err)
	}
	if got, want := e.String(), "attribute:a exists"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
}

func TestSyntaxError_Error(t *testing.T) {
	_, err := Parse("foo == x")
	if got, want := err.Error(), `position 1: unknown subject "foo"; valid subjects are agentConnected, agentVersion, ec2InstanceId, registeredAt, runningTasksCount, task:group and attribute:NAME`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.10.0", "1.9.0", 1},
		{"1.9.0", "1.10.0", -1},
		{"1.2", "1.2.0", 0},
		{"1.2.0.0", "1.2", 0},
		{"01.002", "1.2", 0},
		{"2", "1.99.99", 1},
		{"1.80.0", "1.80.1", -1},
		{"0", "0.0.0", 0},
		{"99999999999999999999999", "99999999999999999999998", 1},
		{"1.0.100", "1.0.99", 1},
	}
	for _, tc := range tests {
		a, okA := parseVersion(tc.a)
		b, okB := parseVersion(tc.b)
		if !okA || !okB {
			t.Fatalf("parseVersion(%q, %q): got ok %v, %v, want true", tc.a, tc.b, okA, okB)
		}
		if got := compareVersions(a, b); got != tc.want {
			t.Errorf("compareVersions(%s, %s): got %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, bad := range []string{"", ".", "1.", ".1", "1..2", "v1", "1.2-beta", "1,2", " 1", "１.２"} {
		if _, ok := parseVersion(bad); ok {
			t.Errorf("parseVersion(%q): got ok, want not a version", bad)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"10", 10, true},
		{"-2.5", -2.5, true},
		{"+3", 3, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{"2e3", 2000, true},
		{"-2.5E-1", -0.25, true},
		{"", 0, false},
		{"-", 0, false},
		{".", 0, false},
		{"1e", 0, false},
		{"1e+", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"Inf", 0, false},
		{"NaN", 0, false},
		{"1e400", 0, false},
		{"1.2.3", 0, false},
		{" 1", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseNumber(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseNumber(%q): got %v, %v, want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCompareAttr(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"10", "9", 1},    // numbers
		{"10", "10.0", 0}, // numbers
		{"-1", "-10", 1},  // numbers
		{"10", "9a", -1},  // bytes: '1' < '9'
		{"beta", "alpha", 1},
		{"B", "a", -1}, // bytes: upper case sorts first
		{"", "0", -1},  // "" is not a number
	}
	for _, tc := range tests {
		if got := compareAttr(tc.a, tc.b); got != tc.want {
			t.Errorf("compareAttr(%q, %q): got %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"t2.small", "t2.small"},
		{"t2.*", "t2.*"},
		{"2018-06-25T12:00:00+07:00", "2018-06-25T12:00:00+07:00"},
		{"a&b", "a&b"},
		{"", `""`},
		{"a b", `"a b"`},
		{"a&&b", `"a&&b"`},
		{"a||b", `"a||b"`},
		{"x,y", `"x,y"`},
		{"[x]", `"[x]"`},
		{"(x)", `"(x)"`},
		{"it's", `"it's"`},
		{`say "hi"`, `'say "hi"'`},
	}
	for _, tc := range tests {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q): got %s, want %s", tc.in, got, tc.want)
		}
		// The quoted form must read back as the value, in a list too.
		for _, expr := range []string{"attribute:a == " + quote(tc.in), "attribute:a in [" + quote(tc.in) + "]"} {
			e, err := Parse(expr)
			if err != nil {
				t.Fatalf("Parse(%q): got %v, want no error", expr, err)
			}
			if got := e.root.(*cmpNode).args[0]; got != tc.in {
				t.Errorf("value of %q: got %q, want %q", expr, got, tc.in)
			}
		}
	}
}

func TestTranslateRegex(t *testing.T) {
	tests := []struct{ in, want string }{
		{`t2.*`, `t2.*`},
		{`\Qa.b\E`, `a\.b`},
		{`\Qa.b`, `a\.b`},
		{`[\Q-]\E]`, `[\-\]]`},
		{`\0101`, `\x{41}`},
		{`\0477`, `\x{27}7`},
		{`\u00e9`, `\x{e9}`},
		{`\e`, `\x{1b}`},
		{`\cA`, `\x{1}`},
		{`[]a]`, `[]a]`},
		{`[^]a]`, `[^]a]`},
		{`\\1`, `\\1`},
		{`(?<n>a)`, `(?<n>a)`},
		{`a+?`, `a+?`},
		{`\++`, `\++`},
		{`é\é`, `é\é`},
	}
	for _, tc := range tests {
		got, err := translateRegex(tc.in)
		if err != nil {
			t.Errorf("translateRegex(%q): got error %v, want %q", tc.in, err, tc.want)
			continue
		}
		if got != tc.want {
			t.Errorf("translateRegex(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMatch_ConcurrentUse(t *testing.T) {
	e, err := Parse("attribute:ecs.instance-type =~ t2.* and task:group !in [x] or agentVersion > 1.9")
	if err != nil {
		t.Fatalf("Parse: got %v, want no error", err)
	}
	in := fuzzInstances[0]
	want := e.Match(in)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if got := e.Match(in); got != want {
					t.Errorf("Match: got %v, want %v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
