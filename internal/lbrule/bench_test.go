package lbrule

import (
	"net/netip"
	"testing"

	"berth.dev/berth/internal/lbconfig"
)

func BenchmarkMatch(b *testing.B) {
	rules := []lbconfig.Rule{
		{Conditions: []lbconfig.Condition{{Field: lbconfig.FieldHostHeader, Values: []string{"api.*.example.com"}}, {Field: lbconfig.FieldPathPattern, Values: []string{"/v1/*", "/v2/*"}}}},
		{Conditions: []lbconfig.Condition{{Field: lbconfig.FieldHTTPHeader, HeaderName: "X-Canary", Values: []string{"true"}}}},
		{Conditions: []lbconfig.Condition{{Field: lbconfig.FieldSourceIP, Values: []string{"10.0.0.0/8"}}}},
		{IsDefault: true},
	}
	rs, err := Compile(rules)
	if err != nil {
		b.Fatal(err)
	}
	req := &Request{Method: "GET", Host: "www.example.com", Path: "/static/app.js", Header: map[string][]string{"Accept": {"*/*"}, "User-Agent": {"bench"}}, SourceIP: netip.MustParseAddr("192.0.2.1")}
	b.ReportAllocs()
	for b.Loop() {
		if rs.Match(req) != 3 {
			b.Fatal("wrong rule")
		}
	}
}
