package elb

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// MaxNameLength bounds load balancer and target group names.
const MaxNameLength = 32

// ValidateLoadBalancerName checks a load balancer name (C.1).
func ValidateLoadBalancerName(name string) error {
	if err := validateName(name); err != nil {
		return Validationf("The load balancer name '%s' %s", name, err.Error())
	}
	if strings.HasPrefix(name, "internal-") {
		return Validationf("The load balancer name '%s' cannot begin with 'internal-'", name)
	}
	return nil
}

// ValidateTargetGroupName checks a target group name (C.1).
func ValidateTargetGroupName(name string) error {
	if err := validateName(name); err != nil {
		return Validationf("The target group name '%s' %s", name, err.Error())
	}
	return nil
}

type nameError string

func (e nameError) Error() string { return string(e) }

func validateName(name string) error {
	switch {
	case name == "":
		return nameError("cannot be empty")
	case len(name) > MaxNameLength:
		return nameError("cannot be longer than '32' characters")
	case name[0] == '-' || name[len(name)-1] == '-':
		return nameError("cannot begin or end with a hyphen")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return nameError("can only contain characters that are alphanumeric characters and hyphens(-)")
		}
	}
	return nil
}

// ValidID reports whether id is an ELB resource ID: 16 lowercase hex digits.
func ValidID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// Namer builds ELBv2 ARNs and DNS names for one partition, region and account.
type Namer struct {
	Partition string
	Region    string
	Account   string
}

func (n Namer) prefix() string {
	return "arn:" + n.Partition + ":elasticloadbalancing:" + n.Region + ":" + n.Account + ":"
}

// TypeSegment is "app" or "net", the ARN segment of a load balancer type.
func TypeSegment(lbType string) string {
	if lbType == TypeNetwork {
		return "net"
	}
	return "app"
}

// LoadBalancer returns …:loadbalancer/app|net/NAME/ID.
func (n Namer) LoadBalancer(lbType, name, id string) string {
	return n.prefix() + "loadbalancer/" + TypeSegment(lbType) + "/" + name + "/" + id
}

// TargetGroup returns …:targetgroup/NAME/ID.
func (n Namer) TargetGroup(name, id string) string {
	return n.prefix() + "targetgroup/" + name + "/" + id
}

// Listener returns …:listener/app|net/LBNAME/LBID/ID of a listener of the
// load balancer lbARN.
func (n Namer) Listener(lbARN, id string) string {
	return strings.Replace(lbARN, ":loadbalancer/", ":listener/", 1) + "/" + id
}

// Rule returns …:listener-rule/app|net/LBNAME/LBID/LISTENERID/ID of a rule
// of the listener listenerARN.
func (n Namer) Rule(listenerARN, id string) string {
	return strings.Replace(listenerARN, ":listener/", ":listener-rule/", 1) + "/" + id
}

// Zone returns the availability zone name of the i-th subnet (berth has
// no VPC: zones are <region>a, <region>b, ...).
func (n Namer) Zone(i int) string {
	if i < 26 {
		return n.Region + string(rune('a'+i))
	}
	return n.Region + "z" + strconv.Itoa(i-25)
}

// DNSName is a load balancer's DNS name: ALB <name>-<decimal>.<region>.elb.amazonaws.com
// (internal- first when internal), NLB <name>-<id>.elb.<region>.amazonaws.com.
// The ALB's decimal is the first 8 hex digits of its ID.
func (n Namer) DNSName(lbType, scheme, name, id string) string {
	if lbType == TypeNetwork {
		dns := name + "-" + id + ".elb." + n.Region + ".amazonaws.com"
		if scheme == SchemeInternal {
			dns = "internal-" + dns
		}
		return dns
	}
	d := uint64(0)
	if len(id) >= 8 {
		d, _ = strconv.ParseUint(id[:8], 16, 32)
	}
	dns := name + "-" + strconv.FormatUint(d, 10) + "." + n.Region + ".elb.amazonaws.com"
	if scheme == SchemeInternal {
		dns = "internal-" + dns
	}
	return dns
}

// CanonicalHostedZoneID is the hosted zone berth names for a load balancer type.
func CanonicalHostedZoneID(lbType string) string {
	if lbType == TypeNetwork {
		return "Z26RNL4JYFTOTI"
	}
	return "Z35SXDOTRQ7X7K"
}

// ARNKind classifies an ELB ARN: "loadbalancer", "targetgroup", "listener",
// "listener-rule", or "" when it is none of them.
func ARNKind(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" {
		return ""
	}
	kind, _, _ := strings.Cut(parts[5], "/")
	switch kind {
	case "loadbalancer", "targetgroup", "listener", "listener-rule":
		return kind
	}
	return ""
}

// ListenerOfRule returns the ARN of the listener a rule ARN belongs to
// (Terraform's derivation).
func ListenerOfRule(ruleARN string) string {
	i := strings.LastIndexByte(ruleARN, '/')
	if i < 0 {
		return ""
	}
	return strings.Replace(ruleARN[:i], ":listener-rule/", ":listener/", 1)
}

// LoadBalancerOfListener returns the ARN of a listener's load balancer.
func LoadBalancerOfListener(listenerARN string) string {
	i := strings.LastIndexByte(listenerARN, '/')
	if i < 0 {
		return ""
	}
	return strings.Replace(listenerARN[:i], ":listener/", ":loadbalancer/", 1)
}
