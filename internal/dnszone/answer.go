package dnszone

import (
	"slices"

	"berth.dev/berth/internal/dnsconfig"
)

// maxChase bounds how many CNAMEs an answer follows inside the
// configuration.
const maxChase = 8

// Answer answers q from the index. r chooses the records of MULTIVALUE and
// WEIGHTED RRSets.
//
//   - Classes other than IN and ANY: REFUSED.
//   - A name in a zone: authoritative. Records of the asked type (SOA and
//     NS at the apex), the name's CNAME for any other type (followed inside
//     the configuration), NODATA (NOERROR, the zone's SOA in the authority
//     section) for an existing name or empty non-terminal without the type,
//     NXDOMAIN with the SOA for a name that does not exist. The negative
//     SOA's TTL is min(SOA TTL, SOA Minimum) (RFC 2308).
//   - A name of Hosts: answered the same way, also with AA, but with no SOA
//     (NODATA is an empty NOERROR answer).
//   - ANY: every RRSet at the name, each through its routing policy.
//   - SRV targets known to the configuration get their A and AAAA records
//     in the additional section.
//   - Any other name: Forward.
func (x *Index) Answer(q Question, r Rand) Response {
	if q.Class != ClassINET && q.Class != ClassANY {
		return Response{Rcode: RcodeRefused}
	}
	name := canonical(q.Name)
	if name == "" {
		return Response{Rcode: RcodeRefused}
	}
	owner := q.Name
	if len(owner) != len(name) || owner[len(owner)-1] != '.' {
		owner = name
	}
	var resp Response
	if z := x.zoneOf(name); z != nil {
		resp.Authoritative = true
		x.resolve(&resp, z, z.nodes[name], name, owner, q.Type, r)
	} else if n := x.hosts[name]; n != nil {
		resp.Authoritative = true
		x.resolve(&resp, nil, n, name, owner, q.Type, r)
	} else {
		return Response{Forward: true}
	}
	x.additional(&resp, r)
	return resp
}

// resolve answers (name, qtype) at node n of zone z (nil for Hosts),
// following CNAMEs.
func (x *Index) resolve(resp *Response, z *zone, n *node, name, owner string, qtype uint16, r Rand) {
	var seen map[string]bool // names already answered for, once a CNAME is followed
	for range maxChase + 1 {
		if n == nil {
			resp.Rcode = RcodeNXDomain
			resp.Authority = append(resp.Authority, negativeSOA(z, owner, name))
			return
		}
		before := len(resp.Answer)
		resp.Answer = x.records(resp.Answer, z, n, name, owner, qtype, r)
		if len(resp.Answer) > before {
			return
		}
		cname := n.sets[TypeCNAME]
		if cname == nil || qtype == TypeCNAME || qtype == TypeANY {
			if z != nil {
				resp.Authority = append(resp.Authority, negativeSOA(z, owner, name))
			}
			return
		}
		resp.Answer = pick(resp.Answer, cname, owner, r)
		target := resp.Answer[len(resp.Answer)-1].Target
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[name] = true
		if seen[target] {
			return
		}
		// Follow the target if the configuration has it.
		name, owner = target, target
		if z = x.zoneOf(target); z != nil {
			n = z.nodes[target]
		} else if n = x.hosts[target]; n == nil {
			return // somebody else's name: the resolver follows it
		}
	}
}

// records appends the records of type qtype (every type for ANY) at n.
func (x *Index) records(out []RR, z *zone, n *node, name, owner string, qtype uint16, r Rand) []RR {
	apex := z != nil && name == z.name
	if qtype == TypeANY {
		if apex {
			out = append(out, soaRR(z, owner, z.soa.TTL))
			out = nsRRs(out, z, owner)
		}
		types := make([]uint16, 0, len(n.sets))
		for t := range n.sets {
			types = append(types, t)
		}
		slices.Sort(types)
		for _, t := range types {
			out = pick(out, n.sets[t], owner, r)
		}
		return out
	}
	if apex {
		switch qtype {
		case TypeSOA:
			return append(out, soaRR(z, owner, z.soa.TTL))
		case TypeNS:
			return nsRRs(out, z, owner)
		}
	}
	if set := n.sets[qtype]; set != nil {
		out = pick(out, set, owner, r)
	}
	return out
}

// pick appends the records set's routing policy answers, owned by owner.
func pick(out []RR, set *rrset, owner string, r Rand) []RR {
	switch set.routing {
	case dnsconfig.RoutingMultivalue:
		pool := set.healthy
		if len(pool) == 0 {
			pool = allIndexes(set.count)
		} else {
			pool = slices.Clone(pool)
		}
		k := min(len(pool), dnsconfig.MaxMultivalue)
		out = slices.Grow(out, k)
		for i := range k {
			j := i + r.IntN(len(pool)-i)
			pool[i], pool[j] = pool[j], pool[i]
			out = appendOwned(out, set.all[pool[i]], owner)
		}
	case dnsconfig.RoutingWeighted:
		if len(set.healthy) > 0 {
			out = appendOwned(out, set.all[set.healthy[r.IntN(len(set.healthy))]], owner)
		} else {
			out = appendOwned(out, set.all[r.IntN(set.count)], owner)
		}
	default:
		out = slices.Grow(out, len(set.all))
		for _, rr := range set.all {
			out = appendOwned(out, rr, owner)
		}
	}
	return out
}

func allIndexes(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func appendOwned(out []RR, rr RR, owner string) []RR {
	rr.Name = owner
	return append(out, rr)
}

func soaRR(z *zone, owner string, ttl uint32) RR {
	return RR{Name: owner, Type: TypeSOA, TTL: ttl, SOA: &z.soa}
}

func nsRRs(out []RR, z *zone, owner string) []RR {
	for _, ns := range z.ns {
		out = append(out, RR{Name: owner, Type: TypeNS, TTL: z.soa.TTL, Target: ns})
	}
	return out
}

// negativeSOA is z's SOA for a negative answer about name (spelt owner):
// owned by the apex, spelt as in the question when the question names it.
func negativeSOA(z *zone, owner, name string) RR {
	apex := z.name
	if len(owner) == len(name) && len(apex) <= len(name) {
		apex = owner[len(owner)-len(apex):]
	}
	return soaRR(z, apex, min(z.soa.TTL, z.soa.Minimum))
}

// additional adds the A and AAAA records of the answer's SRV targets.
func (x *Index) additional(resp *Response, r Rand) {
	var done map[string]bool
	for _, rr := range resp.Answer {
		if rr.Type != TypeSRV || done[rr.Target] {
			continue
		}
		if done == nil {
			done = map[string]bool{}
		}
		done[rr.Target] = true
		var n *node
		if z := x.zoneOf(rr.Target); z != nil {
			n = z.nodes[rr.Target]
		} else {
			n = x.hosts[rr.Target]
		}
		if n == nil {
			continue
		}
		for _, t := range []uint16{TypeA, TypeAAAA} {
			if set := n.sets[t]; set != nil {
				resp.Additional = pick(resp.Additional, set, rr.Target, r)
			}
		}
	}
}
