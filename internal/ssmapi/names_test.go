package ssmapi

import (
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	for ref, want := range map[string]selector{
		"/a/b":      {Name: "/a/b"},
		"plain":     {Name: "plain"},
		"/a/b:3":    {Name: "/a/b", Version: 3},
		"/a/b:prod": {Name: "/a/b", Label: "prod"},
		"arn:aws:ssm:us-east-1:123456789012:parameter/a/b":      {Name: "/a/b"},
		"arn:aws:ssm:us-east-1:123456789012:parameter/plain":    {Name: "plain"},
		"arn:aws:ssm:us-east-1:123456789012:parameter/a/b:7":    {Name: "/a/b", Version: 7},
		"arn:aws:ssm:us-east-1:123456789012:parameter/a/b:live": {Name: "/a/b", Label: "live"},
	} {
		got, _, err := parseSelector(ref)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", ref, got, err, want)
		}
	}
	for _, ref := range []string{"", "a/b", "/a/", "/a//b", "/aws/x", "ssm", "/a:", "/a:0", "/a:1:2", "/a:aws", "/a:x/y", "a b",
		"arn:aws:ssm:us-east-1:1:document/x", "arn:aws:s3:::parameter/x", "arn:aws:ssm:us-east-1:1:parameter/",
		strings.Repeat("/a", 16), "/" + strings.Repeat("x", 2048)} {
		if _, _, err := parseSelector(ref); err == nil {
			t.Errorf("%q: accepted", ref)
		}
	}
}

func TestCheckLabel(t *testing.T) {
	for _, l := range []string{"prod", "v1.2-beta_3", strings.Repeat("a", 100)} {
		if checkLabel(l) != nil {
			t.Errorf("%q refused", l)
		}
	}
	for _, l := range []string{"", "1st", "aws-x", "AWSx", "ssm1", "a/b", "a b", "a:b", strings.Repeat("a", 101)} {
		if checkLabel(l) == nil {
			t.Errorf("%q accepted", l)
		}
	}
}

// FuzzParseSelector: the parser never panics, and what it accepts obeys
// the name rules and round-trips through its own rendering.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"/a/b", "plain", "/a:3", "/a:prod", "arn:aws:ssm:us-east-1:123456789012:parameter/a/b:1",
		"arn:aws:ssm:r:a:parameter/x", "a/b", "/aws/x", "::", "/a//b", "/a:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		sel, _, err := parseSelector(ref)
		if err != nil {
			return
		}
		if sel.Version != 0 && sel.Label != "" {
			t.Fatalf("%q: both a version and a label", ref)
		}
		if checkName(sel.Name) != nil {
			t.Fatalf("%q: accepted name %q breaks the rules", ref, sel.Name)
		}
		if strings.Count(sel.Name, "/") > maxLevels || len(sel.Name) > maxNameLen || strings.Contains(sel.Name, ":") {
			t.Fatalf("%q: name %q", ref, sel.Name)
		}
		again, _, err := parseSelector(sel.Name + sel.suffix())
		if err != nil || again != sel {
			t.Fatalf("%q: %+v does not round-trip: %+v %v", ref, sel, again, err)
		}
	})
}
