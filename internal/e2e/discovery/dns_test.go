package discovery

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// TestServerDNSAnswers checks what the server's DNS answers without any
// task: a load balancer's DNSName resolves to its address; in a private
// namespace, a Cloud Map instance registered through the API is
// answered (A, SRV with its target's A record), an unknown name is
// NXDOMAIN with the zone's SOA, a type the service has not is NODATA with
// the SOA; over UDP and TCP alike.
func TestServerDNSAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "", 0)

	t.Run("load balancer", func(t *testing.T) {
		out, err := e.elb.CreateLoadBalancer(e.ctx(), &elb.CreateLoadBalancerInput{Name: aws.String("front"),
			Type: elbtypes.LoadBalancerTypeEnumApplication, Subnets: []string{"subnet-a", "subnet-b"}})
		if err != nil {
			t.Fatalf("create load balancer: %v", err)
		}
		name := aws.ToString(out.LoadBalancers[0].DNSName)
		if name == "" {
			t.Fatal("the load balancer has no DNSName")
		}
		pool := netip.MustParsePrefix(e.pool)
		deadline := time.Now().Add(20 * time.Second)
		for {
			var got []netip.Addr
			for _, tcp := range []bool{false, true} {
				r := e.query(name, dns.TypeA, tcp)
				for _, rr := range r.Answer {
					if a, ok := rr.(*dns.A); ok {
						addr, _ := netip.AddrFromSlice(a.A.To4())
						got = append(got, addr)
					}
				}
				if r.Rcode == dns.RcodeSuccess && !r.Authoritative {
					t.Errorf("the answer for %s is not authoritative", name)
				}
			}
			if len(got) == 2 && got[0] == got[1] && pool.Contains(got[0]) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("A %s: %v, want one address of %s over UDP and TCP", name, got, e.pool)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// A name under the load balancers' names that is not one is not
		// berth's: with nothing to forward to it is REFUSED.
		if r := e.query("nope."+name, dns.TypeA, false); r.Rcode != dns.RcodeRefused {
			t.Errorf("A nope.%s: rcode %s, want REFUSED", name, dns.RcodeToString[r.Rcode])
		}
	})

	t.Run("namespace", func(t *testing.T) {
		nsID, _ := e.namespace("corp.internal")
		svcID, _ := e.sdService(nsID, "db", false, sdtypes.RecordTypeA, sdtypes.RecordTypeSrv)
		if _, err := e.sd.RegisterInstance(e.ctx(), &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("db-1"),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.9.8.7", "AWS_INSTANCE_PORT": "5432"}}); err != nil {
			t.Fatalf("register instance: %v", err)
		}
		s := e.waitSRV("db.corp.internal", []string{"db-1.db.corp.internal.:5432"}, 20*time.Second)
		if got := s.adds["db-1.db.corp.internal."]; !slices.Equal(got, []string{"10.9.8.7"}) {
			t.Errorf("additional A records of the SRV target: %v", s.adds)
		}
		for _, tcp := range []bool{false, true} {
			r := e.query("DB.Corp.Internal", dns.TypeA, tcp)
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.9.8.7" ||
				r.Answer[0].Header().Name != "DB.Corp.Internal." {
				t.Errorf("A DB.Corp.Internal (tcp %v): %v", tcp, r)
			}
			r = e.query("db-1.db.corp.internal", dns.TypeA, tcp)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.9.8.7" {
				t.Errorf("A db-1.db.corp.internal (tcp %v): %v", tcp, r)
			}
			// NXDOMAIN with the SOA.
			r = e.query("nothing.corp.internal", dns.TypeA, tcp)
			if r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 || !hasSOA(r, "corp.internal.") || !r.Authoritative {
				t.Errorf("A nothing.corp.internal (tcp %v): want NXDOMAIN with the SOA, got %v", tcp, r)
			}
			// NODATA: the name exists, without AAAA.
			r = e.query("db.corp.internal", dns.TypeAAAA, tcp)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || !hasSOA(r, "corp.internal.") {
				t.Errorf("AAAA db.corp.internal (tcp %v): want NODATA with the SOA, got %v", tcp, r)
			}
			// The apex's SOA and NS.
			r = e.query("corp.internal", dns.TypeSOA, tcp)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeSOA {
				t.Errorf("SOA corp.internal (tcp %v): %v", tcp, r)
			}
			r = e.query("corp.internal", dns.TypeNS, tcp)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || r.Answer[0].Header().Rrtype != dns.TypeNS {
				t.Errorf("NS corp.internal (tcp %v): %v", tcp, r)
			}
		}
		// A name outside every zone is not berth's: REFUSED without
		// upstreams.
		if r := e.query("example.com", dns.TypeA, false); r.Rcode != dns.RcodeRefused {
			t.Errorf("A example.com: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
		}
		// Deregistered through the API: the name goes (NXDOMAIN).
		if _, err := e.sd.DeregisterInstance(e.ctx(), &sd.DeregisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("db-1")}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			r := e.query("db.corp.internal", dns.TypeSRV, false)
			if r.Rcode == dns.RcodeNameError && hasSOA(r, "corp.internal.") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("SRV db.corp.internal after the deregistration: %v", r)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// hasSOA reports whether the authority section holds zone's SOA.
func hasSOA(r *dns.Msg, zone string) bool {
	for _, rr := range r.Ns {
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == zone {
			return true
		}
	}
	return false
}
