package dnszone

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"berth.dev/berth/internal/dnsconfig"
)

// Record types and classes (RFC 1035, 3596, 2782, 6891), numbered as on the
// wire.
const (
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeSOA   uint16 = 6
	TypeAAAA  uint16 = 28
	TypeSRV   uint16 = 33
	TypeANY   uint16 = 255

	ClassINET uint16 = 1
	ClassANY  uint16 = 255
)

// Response codes.
const (
	RcodeSuccess  = 0
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeRefused  = 5
)

// Rand is the randomness of the routing policies: IntN returns a number in
// [0, n). *math/rand/v2.Rand satisfies it.
type Rand interface {
	IntN(n int) int
}

// Question is one DNS question. Name is in presentation form, absolute
// (trailing dot), in any case.
type Question struct {
	Name  string
	Type  uint16
	Class uint16
}

// RR is one resource record of an answer. The fields used depend on Type:
// Addr (A, AAAA); Target (CNAME, NS, SRV); Priority, Weight, Port (SRV);
// SOA (SOA).
type RR struct {
	Name     string
	Type     uint16
	TTL      uint32
	Addr     netip.Addr
	Target   string
	Priority uint16
	Weight   uint16
	Port     uint16
	SOA      *dnsconfig.SOA
}

// Response is the answer to one question.
type Response struct {
	Rcode int
	// Authoritative is the AA bit.
	Authoritative bool
	// Forward: the name is outside every zone and Hosts; the question
	// belongs to an upstream resolver and the other fields are empty.
	Forward    bool
	Answer     []RR
	Authority  []RR
	Additional []RR
}

// Index is a compiled configuration; it is immutable and safe for
// concurrent use.
type Index struct {
	revision uint64
	zones    map[string]*zone
	hosts    map[string]*node
	// maxLabels is the most labels of any zone apex (bounds the walk).
	maxLabels int
}

type zone struct {
	name  string
	soa   dnsconfig.SOA
	ns    []string
	nodes map[string]*node // every name of the zone, empty non-terminals and apex included
}

type node struct {
	sets map[uint16]*rrset // nil for an empty non-terminal
}

type rrset struct {
	typ     uint16
	ttl     uint32
	routing string
	all     []RR // in configuration order
	healthy []int
	count   int
}

// Revision is the configuration's revision.
func (x *Index) Revision() uint64 { return x.revision }

// Compile builds the index of cfg. Records that cannot be parsed, RRSets of
// unknown types and zones that nest in another are left out and reported
// in the error (joined); the index is usable either way. A nil cfg gives an
// empty index.
func Compile(cfg *dnsconfig.Config) (*Index, error) {
	x := &Index{zones: map[string]*zone{}, hosts: map[string]*node{}}
	if cfg == nil {
		return x, nil
	}
	x.revision = cfg.Revision
	var errs []error
	for _, z := range cfg.Zones {
		name := canonical(z.Name)
		if name == "" {
			errs = append(errs, fmt.Errorf("zone %q: empty name", z.Name))
			continue
		}
		if _, dup := x.zones[name]; dup {
			errs = append(errs, fmt.Errorf("zone %s: defined twice", name))
			continue
		}
		zz := &zone{name: name, soa: z.SOA, nodes: map[string]*node{name: {}}}
		zz.soa.MName, zz.soa.RName = orRoot(canonical(z.SOA.MName)), orRoot(canonical(z.SOA.RName))
		for _, ns := range z.NS {
			zz.ns = append(zz.ns, canonical(ns))
		}
		x.zones[name] = zz
		x.maxLabels = max(x.maxLabels, labels(name))
	}
	for name := range x.zones {
		for p := parent(name); p != ""; p = parent(p) {
			if _, ok := x.zones[p]; ok {
				errs = append(errs, fmt.Errorf("zone %s: nests in zone %s", name, p))
				delete(x.zones, name)
				break
			}
		}
	}
	for _, z := range cfg.Zones {
		zz := x.zones[canonical(z.Name)]
		if zz == nil {
			continue
		}
		for _, s := range z.RRSets {
			name := canonical(s.Name)
			if name != zz.name && !strings.HasSuffix(name, "."+zz.name) && zz.name != "." {
				errs = append(errs, fmt.Errorf("rrset %s %s: outside zone %s", s.Name, s.Type, zz.name))
				continue
			}
			set, err := compileSet(name, s)
			if err != nil {
				errs = append(errs, err)
			}
			if set == nil {
				continue
			}
			n := zz.nodes[name]
			if n == nil {
				n = &node{}
				zz.nodes[name] = n
			}
			if err := add(n, set, name); err != nil {
				errs = append(errs, err)
				continue
			}
			// Empty non-terminals between the name and the apex.
			for p := parent(name); p != "" && p != zz.name && len(p) > len(zz.name); p = parent(p) {
				if _, ok := zz.nodes[p]; !ok {
					zz.nodes[p] = &node{}
				}
			}
		}
	}
	for _, s := range cfg.Hosts {
		name := canonical(s.Name)
		if z := x.zoneOf(name); z != nil {
			errs = append(errs, fmt.Errorf("host %s: falls in zone %s", name, z.name))
			continue
		}
		set, err := compileSet(name, s)
		if err != nil {
			errs = append(errs, err)
		}
		if set == nil {
			continue
		}
		n := x.hosts[name]
		if n == nil {
			n = &node{}
			x.hosts[name] = n
		}
		if err := add(n, set, name); err != nil {
			errs = append(errs, err)
		}
	}
	return x, errors.Join(errs...)
}

func add(n *node, set *rrset, name string) error {
	if n.sets == nil {
		n.sets = map[uint16]*rrset{}
	}
	if _, dup := n.sets[set.typ]; dup {
		return fmt.Errorf("rrset %s %s: defined twice", name, typeName(set.typ))
	}
	n.sets[set.typ] = set
	return nil
}

func compileSet(name string, s dnsconfig.RRSet) (*rrset, error) {
	set := &rrset{ttl: s.TTL, routing: s.Routing}
	switch s.Type {
	case dnsconfig.TypeA:
		set.typ = TypeA
	case dnsconfig.TypeAAAA:
		set.typ = TypeAAAA
	case dnsconfig.TypeSRV:
		set.typ = TypeSRV
	case dnsconfig.TypeCNAME:
		set.typ = TypeCNAME
	default:
		return nil, fmt.Errorf("rrset %s: unknown type %q", name, s.Type)
	}
	switch s.Routing {
	case dnsconfig.RoutingAll, dnsconfig.RoutingMultivalue, dnsconfig.RoutingWeighted:
	default:
		return nil, fmt.Errorf("rrset %s %s: unknown routing policy %q", name, s.Type, s.Routing)
	}
	var errs []error
	for _, r := range s.Records {
		rr, err := parseRecord(name, set.typ, s.TTL, r.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("rrset %s %s: %w", name, s.Type, err))
			continue
		}
		if r.Healthy {
			set.healthy = append(set.healthy, len(set.all))
		}
		set.all = append(set.all, rr)
	}
	if len(set.all) == 0 {
		return nil, errors.Join(errs...)
	}
	set.count = len(set.all)
	return set, errors.Join(errs...)
}

func parseRecord(name string, typ uint16, ttl uint32, value string) (RR, error) {
	rr := RR{Name: name, Type: typ, TTL: ttl}
	switch typ {
	case TypeA, TypeAAAA:
		a, err := netip.ParseAddr(strings.TrimSpace(value))
		if err != nil {
			return rr, fmt.Errorf("record %q: %w", value, err)
		}
		a = a.Unmap()
		if (typ == TypeA) != a.Is4() || a.Zone() != "" {
			return rr, fmt.Errorf("record %q: not an address of the record's family", value)
		}
		rr.Addr = a
	case TypeCNAME:
		t := canonical(strings.TrimSpace(value))
		if t == "" {
			return rr, fmt.Errorf("record %q: empty target", value)
		}
		rr.Target = t
	case TypeSRV:
		f := strings.Fields(value)
		if len(f) != 4 {
			return rr, fmt.Errorf("record %q: want \"priority weight port target\"", value)
		}
		var nums [3]uint16
		for i := range 3 {
			v, err := strconv.ParseUint(f[i], 10, 16)
			if err != nil {
				return rr, fmt.Errorf("record %q: %w", value, err)
			}
			nums[i] = uint16(v)
		}
		rr.Priority, rr.Weight, rr.Port, rr.Target = nums[0], nums[1], nums[2], canonical(f[3])
		if rr.Target == "" {
			return rr, fmt.Errorf("record %q: empty target", value)
		}
	}
	return rr, nil
}

// canonical lower-cases name and makes it absolute; "" stays "".
func canonical(name string) string {
	if name == "" {
		return ""
	}
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

func orRoot(name string) string {
	if name == "" {
		return "."
	}
	return name
}

// parent is name without its first label; "" above the root.
func parent(name string) string {
	if name == "." || name == "" {
		return ""
	}
	i := labelEnd(name)
	if i+1 >= len(name) {
		return "."
	}
	return name[i+1:]
}

// labelEnd is the index of the dot ending name's first label, escapes
// (\. and \DDD) skipped.
func labelEnd(name string) int {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '.':
			return i
		}
	}
	return len(name)
}

func labels(name string) int {
	n := 0
	for p := name; p != "." && p != ""; p = parent(p) {
		n++
	}
	return n
}

// zoneOf is the zone name falls in, or nil.
func (x *Index) zoneOf(name string) *zone {
	if len(x.zones) == 0 {
		return nil
	}
	n := labels(name)
	p := name
	for ; n > x.maxLabels; n-- {
		p = parent(p)
	}
	for ; p != ""; p = parent(p) {
		if z, ok := x.zones[p]; ok {
			return z
		}
	}
	return nil
}

func typeName(t uint16) string {
	switch t {
	case TypeA:
		return "A"
	case TypeNS:
		return "NS"
	case TypeCNAME:
		return "CNAME"
	case TypeSOA:
		return "SOA"
	case TypeAAAA:
		return "AAAA"
	case TypeSRV:
		return "SRV"
	case TypeANY:
		return "ANY"
	}
	return "TYPE" + strconv.Itoa(int(t))
}
