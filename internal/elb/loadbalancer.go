package elb

import (
	"net/netip"
	"strings"
)

// LoadBalancerInput is CreateLoadBalancer's settings to validate.
type LoadBalancerInput struct {
	Name           string
	Type           string
	Scheme         string
	IPAddressType  string
	Subnets        []string // from Subnets or SubnetMappings
	SecurityGroups []string
}

// ValidateLoadBalancer checks CreateLoadBalancer's input and returns it
// with defaults applied.
func ValidateLoadBalancer(in LoadBalancerInput) (LoadBalancerInput, error) {
	if err := ValidateLoadBalancerName(in.Name); err != nil {
		return in, err
	}
	switch in.Type {
	case "":
		in.Type = TypeApplication
	case TypeApplication, TypeNetwork:
	case "gateway":
		return in, Validationf("Load balancer type 'gateway' is not supported by berth (application and network are)")
	default:
		return in, Validationf("Load balancer type '%s' must be one of '[application, network, gateway]'", in.Type)
	}
	switch in.Scheme {
	case "":
		in.Scheme = SchemeInternetFacing
	case SchemeInternetFacing, SchemeInternal:
	default:
		return in, Errorf(CodeInvalidScheme, "Scheme '%s' must be one of '[internet-facing, internal]'", in.Scheme)
	}
	switch in.IPAddressType {
	case "", IPAddressTypeIPv4:
		in.IPAddressType = IPAddressTypeIPv4
	case "dualstack", "dualstack-without-public-ipv4":
		return in, InvalidConfigf("IP address type '%s' is not supported by berth: its load balancers have IPv4 addresses only", in.IPAddressType)
	default:
		return in, Validationf("IP address type '%s' must be one of '[ipv4, dualstack, dualstack-without-public-ipv4]'", in.IPAddressType)
	}
	if err := ValidateSubnets(in.Type, in.Subnets); err != nil {
		return in, err
	}
	if err := ValidateSecurityGroups(in.Type, in.SecurityGroups); err != nil {
		return in, err
	}
	return in, nil
}

// ValidateSubnets checks subnet IDs (berth has no VPC: any subnet-… ID is
// accepted, one zone each).
func ValidateSubnets(lbType string, subnets []string) error {
	seen := map[string]bool{}
	for _, s := range subnets {
		if !strings.HasPrefix(s, "subnet-") {
			return Errorf(CodeSubnetNotFound, "The subnet ID '%s' is not valid", s)
		}
		if seen[s] {
			return Validationf("Subnet '%s' is specified more than once", s)
		}
		seen[s] = true
	}
	if lbType == TypeApplication && len(subnets) < 2 {
		return Validationf("At least two subnets in two different Availability Zones must be specified")
	}
	if len(subnets) == 0 {
		return Validationf("At least one subnet must be specified")
	}
	return nil
}

// ValidateSecurityGroups checks security group IDs (stored and echoed only).
func ValidateSecurityGroups(lbType string, groups []string) error {
	for _, g := range groups {
		if !strings.HasPrefix(g, "sg-") {
			return Errorf(CodeInvalidSecurityGroup, "Invalid security group '%s'", g)
		}
	}
	if len(groups) > 5 {
		return Validationf("A load balancer can have at most 5 security groups")
	}
	return nil
}

// LowestFreeAddress returns the lowest address of pool that used does not
// hold, skipping the network and broadcast addresses of prefixes shorter
// than /31; ok is false when the pool is full.
func LowestFreeAddress(pool netip.Prefix, used func(netip.Addr) bool) (netip.Addr, bool) {
	pool = pool.Masked()
	first := pool.Addr()
	skipEdges := pool.Addr().Is4() && pool.Bits() < 31
	if skipEdges {
		first = first.Next()
	}
	for a := first; a.IsValid() && pool.Contains(a); a = a.Next() {
		if skipEdges && isBroadcast(a, pool) {
			break
		}
		if !used(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func isBroadcast(a netip.Addr, pool netip.Prefix) bool {
	n := a.Next()
	return !n.IsValid() || !pool.Contains(n)
}
