package sd

import (
	"net/netip"
	"slices"
	"strings"

	"berth.dev/berth/internal/dnsconfig"
)

// The names berth's DNS nodes give themselves in every zone's SOA and NS
// records: they are not resolvable, like Route 53's awsdns names from
// inside a VPC they only identify the server.
const (
	ZoneNameServer = "ns1.berth.internal."
	ZoneHostmaster = "hostmaster.berth.internal."
)

// SOA timers of every zone (Route 53's defaults); Minimum and TTL are the
// namespace's SOA TTL.
const (
	soaRefresh = 7200
	soaRetry   = 900
	soaExpire  = 1209600
)

// HostTTL is the TTL of a load balancer's name.
const HostTTL = 60

// RenderNamespace is a DNS namespace to render, with its services.
type RenderNamespace struct {
	ID, Name, Type string
	SOATTL         *int64
	Services       []RenderService
}

// RenderService is a service with its DNS records and instances.
type RenderService struct {
	ID, Name      string
	RoutingPolicy string
	Records       []DNSRecord
	// CustomCheck tells that the service has a custom health check: an
	// instance's health is then its CustomHealth; without one every
	// instance is healthy.
	CustomCheck bool
	Instances   []RenderInstance
}

// RenderInstance is an instance's ID, attributes and custom status.
type RenderInstance struct {
	ID           string
	Attributes   map[string]string
	CustomHealth string
}

// RenderHost is a name answered outside the zones (a load balancer).
type RenderHost struct {
	Name    string
	Address string
}

// FQDN lower-cases a name and ends it with a dot.
func FQDN(name string) string {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if n == "" {
		return "."
	}
	return n + "."
}

var dnsLabel = func(l string) bool {
	if l == "" || len(l) > 63 {
		return false
	}
	for i, c := range l {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' && i > 0 && i < len(l)-1
		if !ok {
			return false
		}
	}
	return true
}

// ValidLabel tells whether s is one DNS label (letters, digits, '_' and
// inner '-', 1-63 characters): instance IDs that are not get no name of
// their own.
func ValidLabel(s string) bool { return dnsLabel(s) }

func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

type rrKey struct{ name, typ string }

type builder struct {
	sets  map[rrKey]*dnsconfig.RRSet
	order []rrKey
}

func (b *builder) add(name, typ string, ttl int64, routing string, rec dnsconfig.Record) {
	k := rrKey{name, typ}
	s := b.sets[k]
	if s == nil {
		if ttl < 0 {
			ttl = 0
		}
		if ttl > MaxTTL {
			ttl = MaxTTL
		}
		s = &dnsconfig.RRSet{Name: name, Type: typ, TTL: uint32(ttl), Routing: routing, Records: []dnsconfig.Record{}}
		b.sets[k] = s
		b.order = append(b.order, k)
	}
	for _, r := range s.Records {
		if r.Value == rec.Value {
			return
		}
	}
	s.Records = append(s.Records, rec)
}

func (b *builder) rrsets() []dnsconfig.RRSet {
	var out []dnsconfig.RRSet
	for _, k := range b.order {
		s := b.sets[k]
		slices.SortFunc(s.Records, func(a, c dnsconfig.Record) int { return strings.Compare(a.Value, c.Value) })
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, c dnsconfig.RRSet) int {
		if x := strings.Compare(a.Name, c.Name); x != 0 {
			return x
		}
		return strings.Compare(a.Type, c.Type)
	})
	return out
}

// Render turns DNS namespaces and hosts into the DNS nodes' configuration.
// Only DNS_PRIVATE and DNS_PUBLIC namespaces become zones; a namespace
// whose name equals or lies under an earlier one's (by name) is skipped,
// as zones must not nest. Per service `<service>.<namespace>.` carries its
// records: A from AWS_INSTANCE_IPV4, AAAA from AWS_INSTANCE_IPV6, CNAME
// from AWS_INSTANCE_CNAME, SRV "1 1 <AWS_INSTANCE_PORT>
// <instance>.<service>.<namespace>." with A/AAAA records at that target
// (instances whose ID is no DNS label get no target and no SRV record).
// Empty RRSets are left out. Hosts become A RRSets (TTL HostTTL, RoutingAll,
// healthy) in the zone they fall in, else in Hosts. The output is sorted:
// the same input renders the same configuration.
func Render(revision uint64, namespaces []RenderNamespace, hosts []RenderHost) *dnsconfig.Config {
	cfg := &dnsconfig.Config{Revision: revision, Zones: []dnsconfig.Zone{}}
	nss := slices.Clone(namespaces)
	slices.SortStableFunc(nss, func(a, b RenderNamespace) int {
		an, bn := FQDN(a.Name), FQDN(b.Name)
		if len(an) != len(bn) {
			return len(an) - len(bn)
		}
		if x := strings.Compare(an, bn); x != 0 {
			return x
		}
		return strings.Compare(a.ID, b.ID)
	})
	type zb struct {
		zone dnsconfig.Zone
		b    *builder
	}
	var zones []*zb
	for _, ns := range nss {
		if ns.Type != NamespaceDNSPrivate && ns.Type != NamespaceDNSPublic {
			continue
		}
		name := FQDN(ns.Name)
		if name == "." || slices.ContainsFunc(zones, func(z *zb) bool { return inZone(name, z.zone.Name) || inZone(z.zone.Name, name) }) {
			continue
		}
		ttl := int64(DefaultSOATTL)
		if ns.SOATTL != nil && *ns.SOATTL >= 0 {
			ttl = min(*ns.SOATTL, MaxTTL)
		}
		z := &zb{zone: dnsconfig.Zone{Name: name, NS: []string{ZoneNameServer},
			SOA: dnsconfig.SOA{MName: ZoneNameServer, RName: ZoneHostmaster, Serial: uint32(revision), Refresh: soaRefresh,
				Retry: soaRetry, Expire: soaExpire, Minimum: uint32(ttl), TTL: uint32(ttl)}},
			b: &builder{sets: map[rrKey]*dnsconfig.RRSet{}}}
		zones = append(zones, z)
		svcs := slices.Clone(ns.Services)
		slices.SortStableFunc(svcs, func(a, b RenderService) int {
			if x := strings.Compare(a.Name, b.Name); x != 0 {
				return x
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, svc := range svcs {
			renderService(z.b, name, svc)
		}
	}
	hb := &builder{sets: map[rrKey]*dnsconfig.RRSet{}}
	for _, h := range hosts {
		addr, err := netip.ParseAddr(h.Address)
		if err != nil || !addr.Is4() || h.Name == "" {
			continue
		}
		name := FQDN(h.Name)
		target := hb
		for _, z := range zones {
			if inZone(name, z.zone.Name) {
				target = z.b
			}
		}
		target.add(name, dnsconfig.TypeA, HostTTL, dnsconfig.RoutingAll, dnsconfig.Record{Value: addr.String(), Healthy: true})
	}
	for _, z := range zones {
		z.zone.RRSets = z.b.rrsets()
		cfg.Zones = append(cfg.Zones, z.zone)
	}
	slices.SortFunc(cfg.Zones, func(a, b dnsconfig.Zone) int { return strings.Compare(a.Name, b.Name) })
	cfg.Hosts = hb.rrsets()
	return cfg
}

func renderService(b *builder, zone string, svc RenderService) {
	if svc.Name == "" || svc.Name == "." || len(svc.Records) == 0 {
		return
	}
	labels := strings.Split(strings.ToLower(svc.Name), ".")
	for _, l := range labels {
		if !dnsLabel(l) {
			return
		}
	}
	name := strings.Join(labels, ".") + "." + zone
	routing := svc.RoutingPolicy
	if routing == "" {
		routing = RoutingMultivalue
	}
	ttlOf := func(typ string) (int64, bool) {
		for _, r := range svc.Records {
			if r.Type == typ {
				return r.TTL, true
			}
		}
		return 0, false
	}
	aTTL, hasA := ttlOf(RecordA)
	aaaaTTL, hasAAAA := ttlOf(RecordAAAA)
	srvTTL, hasSRV := ttlOf(RecordSRV)
	cnameTTL, hasCNAME := ttlOf(RecordCNAME)
	insts := slices.Clone(svc.Instances)
	slices.SortFunc(insts, func(a, c RenderInstance) int { return strings.Compare(a.ID, c.ID) })
	for _, in := range insts {
		healthy := !svc.CustomCheck || in.CustomHealth != Unhealthy
		v4, err4 := netip.ParseAddr(in.Attributes[AttrIPv4])
		ok4 := err4 == nil && v4.Is4()
		v6, err6 := netip.ParseAddr(in.Attributes[AttrIPv6])
		ok6 := err6 == nil && v6.Is6() && !v6.Is4In6()
		if hasA && ok4 {
			b.add(name, dnsconfig.TypeA, aTTL, routing, dnsconfig.Record{Value: v4.String(), Healthy: healthy})
		}
		if hasAAAA && ok6 {
			b.add(name, dnsconfig.TypeAAAA, aaaaTTL, routing, dnsconfig.Record{Value: v6.String(), Healthy: healthy})
		}
		if hasCNAME {
			if c := in.Attributes[AttrCNAME]; c != "" {
				b.add(name, dnsconfig.TypeCNAME, cnameTTL, routing, dnsconfig.Record{Value: FQDN(c), Healthy: healthy})
			}
		}
		if hasSRV && dnsLabel(in.ID) && (ok4 || ok6) {
			port, ok := atoi(in.Attributes[AttrPort])
			if !ok || port > 65535 {
				continue
			}
			target := strings.ToLower(in.ID) + "." + name
			b.add(name, dnsconfig.TypeSRV, srvTTL, routing, dnsconfig.Record{Value: "1 1 " + itoa(port) + " " + target, Healthy: healthy})
			ttl := srvTTL
			if hasA {
				ttl = aTTL
			}
			if ok4 {
				b.add(target, dnsconfig.TypeA, ttl, routing, dnsconfig.Record{Value: v4.String(), Healthy: healthy})
			}
			if ok6 {
				t6 := srvTTL
				if hasAAAA {
					t6 = aaaaTTL
				}
				b.add(target, dnsconfig.TypeAAAA, t6, routing, dnsconfig.Record{Value: v6.String(), Healthy: healthy})
			}
		}
	}
}
