package dnsserver

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"berth.dev/berth/internal/dnsconfig"
)

// BenchmarkAnswer is the request path of one A query of a 10-record
// MULTIVALUE service, from the parsed query to the packed response.
func BenchmarkAnswer(b *testing.B) {
	set := dnsconfig.RRSet{Name: "web.bench.local.", Type: dnsconfig.TypeA, TTL: 60, Routing: dnsconfig.RoutingMultivalue}
	for i := range 10 {
		set.Records = append(set.Records, dnsconfig.Record{Value: fmt.Sprintf("10.0.0.%d", i+1), Healthy: true})
	}
	s := New(Options{})
	if err := s.Apply(&dnsconfig.Config{Revision: 1, Zones: []dnsconfig.Zone{{Name: "bench.local.", RRSets: []dnsconfig.RRSet{set}}}}); err != nil {
		b.Fatal(err)
	}
	req := new(dns.Msg).SetQuestion("web.bench.local.", dns.TypeA)
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		m := s.answer(req, true)
		if _, err := m.PackBuffer(buf); err != nil {
			b.Fatal(err)
		}
	}
}
