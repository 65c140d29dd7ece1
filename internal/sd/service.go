package sd

import "slices"

// Routing policies and record types of a service's DnsConfig.
const (
	RoutingMultivalue = "MULTIVALUE"
	RoutingWeighted   = "WEIGHTED"

	RecordA     = "A"
	RecordAAAA  = "AAAA"
	RecordSRV   = "SRV"
	RecordCNAME = "CNAME"
)

// DNSRecord is one of a service's DnsRecords.
type DNSRecord struct {
	Type string
	TTL  int64
}

// ValidateDNSConfig checks a service's DnsConfig: a routing policy of
// MULTIVALUE or WEIGHTED (empty means MULTIVALUE), at least one record,
// each type once, A, AAAA and SRV in any combination or CNAME alone, and
// CNAME only with WEIGHTED routing.
func ValidateDNSConfig(routing string, records []DNSRecord) error {
	if routing != "" && routing != RoutingMultivalue && routing != RoutingWeighted {
		return Constraint(routing, "dnsConfig.routingPolicy", "Member must satisfy enum value set: [MULTIVALUE, WEIGHTED]")
	}
	if len(records) == 0 {
		return Invalid("DnsConfig must contain at least one DnsRecord.")
	}
	var seen []string
	for i, r := range records {
		switch r.Type {
		case RecordA, RecordAAAA, RecordSRV, RecordCNAME:
		default:
			return Constraint(r.Type, "dnsConfig.dnsRecords."+itoa(i+1)+".member.type", "Member must satisfy enum value set: [SRV, A, AAAA, CNAME]")
		}
		if slices.Contains(seen, r.Type) {
			return Invalid("DnsRecords can contain only one record of type %s.", r.Type)
		}
		seen = append(seen, r.Type)
		if err := ValidateTTL(r.TTL, "dnsConfig.dnsRecords."+itoa(i+1)+".member.tTL"); err != nil {
			return err
		}
	}
	if slices.Contains(seen, RecordCNAME) {
		if len(seen) > 1 {
			return Invalid("A CNAME record cannot be combined with records of another type.")
		}
		if routing != RoutingWeighted {
			return Invalid("CNAME records require the WEIGHTED routing policy.")
		}
	}
	return nil
}

// ValidateInstanceForService checks the reserved attributes a service's
// records need: AWS_INSTANCE_IPV4 for A, AWS_INSTANCE_IPV6 for AAAA, one of
// them and AWS_INSTANCE_PORT for SRV, AWS_INSTANCE_CNAME for CNAME.
func ValidateInstanceForService(records []DNSRecord, attrs map[string]string) error {
	has := func(k string) bool { return attrs[k] != "" }
	for _, r := range records {
		switch r.Type {
		case RecordA:
			if !has(AttrIPv4) {
				return Invalid("The service has an A record: the instance needs the attribute %s.", AttrIPv4)
			}
		case RecordAAAA:
			if !has(AttrIPv6) {
				return Invalid("The service has an AAAA record: the instance needs the attribute %s.", AttrIPv6)
			}
		case RecordSRV:
			if !has(AttrPort) {
				return Invalid("The service has an SRV record: the instance needs the attribute %s.", AttrPort)
			}
			if !has(AttrIPv4) && !has(AttrIPv6) {
				return Invalid("The service has an SRV record: the instance needs the attribute %s or %s.", AttrIPv4, AttrIPv6)
			}
		case RecordCNAME:
			if !has(AttrCNAME) {
				return Invalid("The service has a CNAME record: the instance needs the attribute %s.", AttrCNAME)
			}
		}
	}
	if has(AttrAlias) {
		return Invalid("%s is not supported: berth serves no alias records.", AttrAlias)
	}
	if p, ok := attrs[AttrPort]; ok {
		n, ok := atoi(p)
		if !ok || n < 0 || n > 65535 {
			return Invalid("%s must be a port number between 0 and 65535.", AttrPort)
		}
	}
	return nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
