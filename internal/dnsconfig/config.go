// Package dnsconfig is the contract between the control plane and berth's
// DNS data plane: the records a DNS node serves, rendered from one state
// snapshot (Cloud Map private DNS namespaces and the load balancers'
// DNSNames), and the endpoint nodes stream it from.
//
// Invariants of a rendered Config: every name is a fully qualified,
// lower-case domain name with the trailing dot; zones do not nest in one
// another; an RRSet belongs to the zone its name falls in, or to Hosts when
// it falls in none; within a zone or Hosts there is at most one RRSet per
// (Name, Type).
package dnsconfig

// StreamPath is the server endpoint DNS nodes read the configuration from
// (newline-delimited JSON Config values, one per change, with heartbeats).
const StreamPath = "/dns/v1/stream"

// Routing policies of an RRSet (Cloud Map's DnsConfig.RoutingPolicy).
const (
	// RoutingAll answers every record (load balancers' names).
	RoutingAll = ""
	// RoutingMultivalue answers up to MaxMultivalue healthy records chosen
	// at random; when none is healthy, up to MaxMultivalue of the
	// unhealthy ones.
	RoutingMultivalue = "MULTIVALUE"
	// RoutingWeighted answers one healthy record chosen at random; when
	// none is healthy, one of all the records.
	RoutingWeighted = "WEIGHTED"
)

// MaxMultivalue is the most records a MULTIVALUE answer carries.
const MaxMultivalue = 8

// Record types served.
const (
	TypeA     = "A"
	TypeAAAA  = "AAAA"
	TypeSRV   = "SRV"
	TypeCNAME = "CNAME"
)

// Config is everything a DNS node serves.
type Config struct {
	// Revision increases with every change (the state index it was
	// rendered from); a node ignores an older one.
	Revision uint64 `json:"revision"`
	// Zones are the authoritative zones (private DNS namespaces).
	Zones []Zone `json:"zones"`
	// Hosts are names answered outside any zone (the load balancers'
	// DNSNames); every other name outside the zones is forwarded.
	Hosts []RRSet `json:"hosts,omitempty"`
}

// Zone is one authoritative zone: NXDOMAIN and NODATA under it are
// answered from it, with its SOA in the authority section.
type Zone struct {
	Name   string   `json:"name"`
	SOA    SOA      `json:"soa"`
	NS     []string `json:"ns"` // name servers at the apex (FQDNs)
	RRSets []RRSet  `json:"rrsets,omitempty"`
}

// SOA is a zone's start of authority. Minimum is the negative-caching TTL
// (Cloud Map's SOA TTL); TTL is the SOA record's own TTL.
type SOA struct {
	MName   string `json:"mname"`
	RName   string `json:"rname"`
	Serial  uint32 `json:"serial"`
	Refresh uint32 `json:"refresh"`
	Retry   uint32 `json:"retry"`
	Expire  uint32 `json:"expire"`
	Minimum uint32 `json:"minimum"`
	TTL     uint32 `json:"ttl"`
}

// RRSet is the records of one name and type.
type RRSet struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"` // TypeA, TypeAAAA, TypeSRV or TypeCNAME
	TTL     uint32   `json:"ttl"`
	Routing string   `json:"routing,omitempty"` // RoutingAll, RoutingMultivalue or RoutingWeighted
	Records []Record `json:"records"`
}

// Record is one value of an RRSet.
type Record struct {
	// Value is the record's data in presentation form: an address (A,
	// AAAA), a FQDN (CNAME) or "priority weight port target." (SRV).
	Value   string `json:"value"`
	Healthy bool   `json:"healthy"`
}

// Source gives the newest configuration, rendered from the newest state,
// and a channel closed when it may have changed.
type Source interface {
	Current() (*Config, <-chan struct{})
}
