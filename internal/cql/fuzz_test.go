package cql

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzInstances are fixed instances every fuzzed expression is matched
// against.
var fuzzInstances = []*testInstance{
	{
		name: "full", connected: true, version: "1.80.0", id: "i-abcd1234",
		registered: time.Date(2018, 6, 25, 12, 0, 0, 0, time.UTC), running: 2,
		groups: []string{"service:web", "family:batch", ""},
		attrs: map[string]string{
			"ecs.instance-type": "t2.small", "ecs.availability-zone": "us-east-1a",
			"a": "x", "b": "10", "c": "", "stack": "prod",
		},
	},
	{name: "empty", version: "not-a-version"},
}

var fuzzSeeds = []string{
	"attribute:ecs.instance-type == t2.small",
	"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
	"attribute:ecs.instance-type =~ t2.*",
	"task:group == service:production",
	"not(task:group == database)",
	"runningTasksCount == 1",
	"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']",
	"attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d",
	"registeredAt > 2018-06-25T12:00:00+07:00 || registeredAt <= 2018-06-25",
	"agentConnected == TRUE && agentVersion >= 1.10.0",
	"!(attribute:a exists) or (attribute:b not_in [\"x y\", 'it\"s', z] and task:group !exists)",
	"attribute:a==x&&attribute:b!=y||!attribute:c exists",
	"attribute:a =~ '(?<n>t2|m5)\\..*' and attribute:b !~ [^.]*",
	"attribute:a =~ '\\Qa+b(c)\\E' or attribute:a =~ '\\0164\\u0032.*'",
	"attribute:a > -1e2 and attribute:b <= 10 and attribute:c < b",
	"((attribute:a exists or attribute:b exists)) and not not attribute:c exists",
	"attribute:a == a&b or attribute:a == a|b or attribute:a == \"a&&b\"",
	"attribute:a == x,y] and attribute:b in [x]",
	"attribute:a in [x",
	"attribute:a == 'x",
	"(attribute:a) == x",
	"attribute:a =~ '(a)\\1'",
	"runningTasksCount > 99999999999999999999",
	"attribute:ümlaut == ü",
	"\xff == \xfe",
}

// FuzzParse checks that Parse never panics, that it returns a *SyntaxError
// with a sensible position on failure, that the canonical form parses back
// to the same expression, and that Match never panics and agrees between
// an expression and its canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error type = %T, want *SyntaxError", s, err)
			}
			if n := utf8.RuneCountInString(s); se.Pos < 1 || se.Pos > max(n, MaxLength)+1 {
				t.Fatalf("Parse(%q) error position = %d, want 1..%d", s, se.Pos, n+1)
			}
			if se.Msg == "" {
				t.Fatalf("Parse(%q) error message is empty", s)
			}
			return
		}
		canon := e.String()
		// The canonical form may outgrow MaxLength; the round trip is a
		// property of the grammar, so check it without the limit.
		e2, err := parse(canon)
		if err != nil {
			t.Fatalf("parse(%q) (canonical form of %q): got %v, want no error", canon, s, err)
		}
		if got := e2.String(); got != canon {
			t.Fatalf("canonical form of %q: got %q, want %q", s, got, canon)
		}
		if got, want := dump(e2.root), dump(e.root); got != want {
			t.Fatalf("tree of %q: got %s, want %s", canon, got, want)
		}
		for _, in := range fuzzInstances {
			if got, want := e2.Match(in), e.Match(in); got != want {
				t.Fatalf("Match(%s) of %q: got %v, want %v (as for %q)", in.name, canon, got, want, s)
			}
		}
	})
}
