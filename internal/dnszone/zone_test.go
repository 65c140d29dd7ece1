package dnszone

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"pgregory.net/rapid"

	"berth.dev/berth/internal/dnsconfig"
)

// first always picks the first candidate, so golden answers are stable.
type first struct{}

func (first) IntN(int) int { return 0 }

var typeNums = map[string]uint16{"A": TypeA, "NS": TypeNS, "CNAME": TypeCNAME, "SOA": TypeSOA, "AAAA": TypeAAAA, "SRV": TypeSRV, "ANY": TypeANY, "TXT": 16, "MX": 15}

// TestGolden runs testdata/*: "config" takes a dnsconfig.Config as JSON;
// "query name=N type=T [class=C]" prints the answer.
func TestGolden(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var x *Index
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "config":
				var cfg dnsconfig.Config
				if err := json.Unmarshal([]byte(d.Input), &cfg); err != nil {
					d.Fatalf(t, "config: %v", err)
				}
				var err error
				x, err = Compile(&cfg)
				if err != nil {
					return "errors:\n" + err.Error() + "\n"
				}
				return "ok\n"
			case "query":
				var name, typ string
				class := "IN"
				d.ScanArgs(t, "name", &name)
				d.ScanArgs(t, "type", &typ)
				if d.HasArg("class") {
					d.ScanArgs(t, "class", &class)
				}
				qt, ok := typeNums[typ]
				if !ok {
					d.Fatalf(t, "unknown type %s", typ)
				}
				qc := map[string]uint16{"IN": ClassINET, "ANY": ClassANY, "CH": 3}[class]
				return format(x.Answer(Question{Name: name, Type: qt, Class: qc}, first{}))
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

func format(r Response) string {
	var b strings.Builder
	if r.Forward {
		return "forward\n"
	}
	b.WriteString(map[int]string{RcodeSuccess: "NOERROR", RcodeNXDomain: "NXDOMAIN", RcodeRefused: "REFUSED", RcodeServFail: "SERVFAIL"}[r.Rcode])
	if r.Authoritative {
		b.WriteString(" aa")
	}
	b.WriteString("\n")
	for _, sec := range []struct {
		name string
		rrs  []RR
	}{{"answer", r.Answer}, {"authority", r.Authority}, {"additional", r.Additional}} {
		for _, rr := range sec.rrs {
			fmt.Fprintf(&b, "%s: %s\n", sec.name, rrString(rr))
		}
	}
	return b.String()
}

func rrString(rr RR) string {
	head := fmt.Sprintf("%s %d IN %s", rr.Name, rr.TTL, typeName(rr.Type))
	switch rr.Type {
	case TypeA, TypeAAAA:
		return head + " " + rr.Addr.String()
	case TypeCNAME, TypeNS:
		return head + " " + rr.Target
	case TypeSRV:
		return fmt.Sprintf("%s %d %d %d %s", head, rr.Priority, rr.Weight, rr.Port, rr.Target)
	case TypeSOA:
		s := rr.SOA
		return fmt.Sprintf("%s %s %s %d %d %d %d %d", head, s.MName, s.RName, s.Serial, s.Refresh, s.Retry, s.Expire, s.Minimum)
	}
	return head
}

// genConfig draws a zone with A RRSets of every routing policy and random
// health.
func genConfig(t *rapid.T) *dnsconfig.Config {
	z := dnsconfig.Zone{Name: "ns.", SOA: dnsconfig.SOA{MName: "a.", RName: "b.", TTL: 900, Minimum: 60}, NS: []string{"a."}}
	services := rapid.IntRange(1, 4).Draw(t, "services")
	for i := range services {
		set := dnsconfig.RRSet{Name: fmt.Sprintf("s%d.ns.", i), Type: dnsconfig.TypeA, TTL: 10,
			Routing: rapid.SampledFrom([]string{dnsconfig.RoutingAll, dnsconfig.RoutingMultivalue, dnsconfig.RoutingWeighted}).Draw(t, "routing")}
		n := rapid.IntRange(1, 20).Draw(t, "records")
		for j := range n {
			set.Records = append(set.Records, dnsconfig.Record{Value: fmt.Sprintf("10.0.%d.%d", i, j+1), Healthy: rapid.Bool().Draw(t, "healthy")})
		}
		z.RRSets = append(z.RRSets, set)
	}
	return &dnsconfig.Config{Revision: 1, Zones: []dnsconfig.Zone{z}}
}

func TestRoutingProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := genConfig(t)
		x, err := Compile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1))
		for _, set := range cfg.Zones[0].RRSets {
			health := map[string]bool{}
			anyHealthy := false
			for _, rec := range set.Records {
				health[rec.Value] = rec.Healthy
				anyHealthy = anyHealthy || rec.Healthy
			}
			name := strings.ToUpper(set.Name)
			resp := x.Answer(Question{Name: name, Type: TypeA, Class: ClassINET}, r)
			if resp.Rcode != RcodeSuccess || !resp.Authoritative || resp.Forward {
				t.Fatalf("%s: %+v", name, resp)
			}
			seen := map[netip.Addr]bool{}
			for _, rr := range resp.Answer {
				if rr.Name != name {
					t.Fatalf("owner %q does not echo %q", rr.Name, name)
				}
				h, ok := health[rr.Addr.String()]
				if !ok {
					t.Fatalf("answered %v, not in the configuration", rr.Addr)
				}
				if seen[rr.Addr] {
					t.Fatalf("answered %v twice", rr.Addr)
				}
				seen[rr.Addr] = true
				if anyHealthy && !h && set.Routing != dnsconfig.RoutingAll {
					t.Fatalf("%s: unhealthy %v answered while a record is healthy", set.Routing, rr.Addr)
				}
			}
			healthy := 0
			for _, h := range health {
				if h {
					healthy++
				}
			}
			pool := len(set.Records)
			if anyHealthy {
				pool = healthy
			}
			switch set.Routing {
			case dnsconfig.RoutingAll:
				if len(resp.Answer) != len(set.Records) {
					t.Fatalf("all: %d of %d", len(resp.Answer), len(set.Records))
				}
			case dnsconfig.RoutingMultivalue:
				if len(resp.Answer) != min(pool, dnsconfig.MaxMultivalue) {
					t.Fatalf("multivalue: %d records of a pool of %d", len(resp.Answer), pool)
				}
			case dnsconfig.RoutingWeighted:
				if len(resp.Answer) != 1 {
					t.Fatalf("weighted: %d records", len(resp.Answer))
				}
			}
		}
		// A name under the zone that does not exist.
		resp := x.Answer(Question{Name: "nope.ns.", Type: TypeA, Class: ClassINET}, r)
		if resp.Rcode != RcodeNXDomain || len(resp.Answer) != 0 || len(resp.Authority) != 1 || resp.Authority[0].TTL != 60 {
			t.Fatalf("nxdomain: %+v", resp)
		}
	})
}

// TestMultivalueSpreads checks that every healthy record of a large
// MULTIVALUE set is answered sometimes.
func TestMultivalueSpreads(t *testing.T) {
	set := dnsconfig.RRSet{Name: "web.ns.", Type: dnsconfig.TypeA, TTL: 10, Routing: dnsconfig.RoutingMultivalue}
	for i := range 20 {
		set.Records = append(set.Records, dnsconfig.Record{Value: fmt.Sprintf("10.0.0.%d", i+1), Healthy: i%2 == 0})
	}
	x, err := Compile(&dnsconfig.Config{Zones: []dnsconfig.Zone{{Name: "ns.", RRSets: []dnsconfig.RRSet{set}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	for range 500 {
		for _, rr := range x.Answer(Question{Name: "web.ns.", Type: TypeA, Class: ClassINET}, r).Answer {
			seen[rr.Addr.String()]++
		}
	}
	if len(seen) != 10 {
		t.Fatalf("answered %d distinct records, want the 10 healthy ones: %v", len(seen), seen)
	}
}

func FuzzAnswer(f *testing.F) {
	cfg := &dnsconfig.Config{Zones: []dnsconfig.Zone{{Name: "ns.", SOA: dnsconfig.SOA{TTL: 5}, NS: []string{"a."},
		RRSets: []dnsconfig.RRSet{{Name: "a.b.ns.", Type: "CNAME", Routing: "WEIGHTED", Records: []dnsconfig.Record{{Value: "a.b.ns."}}},
			{Name: "_x._tcp.ns.", Type: "SRV", Records: []dnsconfig.Record{{Value: "1 1 80 a.b.ns."}}}}}}}
	x, _ := Compile(cfg)
	f.Add("a.B.ns.", uint16(1))
	f.Add("\\..ns.", uint16(255))
	f.Fuzz(func(t *testing.T, name string, typ uint16) {
		_ = x.Answer(Question{Name: name, Type: typ, Class: ClassINET}, first{})
	})
}
