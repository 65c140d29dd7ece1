// Package sd holds Cloud Map's (servicediscovery) rules that need no state
// and no I/O: validation of names, IDs and limits with Cloud Map's error
// codes and messages, ID and ARN generation from a given random source,
// DiscoverInstances' filtering, and the rendering of private DNS
// namespaces into the DNS data plane's configuration (package dnsconfig).
//
// The package reads no clock and no randomness of its own: callers pass
// time and an io.Reader of random bytes.
package sd

import (
	"fmt"
	"io"
)

// Error codes of Cloud Map (the model's error shapes).
const (
	CodeInvalidInput           = "InvalidInput"
	CodeNamespaceAlreadyExists = "NamespaceAlreadyExists"
	CodeNamespaceNotFound      = "NamespaceNotFound"
	CodeServiceAlreadyExists   = "ServiceAlreadyExists"
	CodeServiceNotFound        = "ServiceNotFound"
	CodeInstanceNotFound       = "InstanceNotFound"
	CodeOperationNotFound      = "OperationNotFound"
	CodeDuplicateRequest       = "DuplicateRequest"
	CodeResourceInUse          = "ResourceInUse"
	CodeResourceLimitExceeded  = "ResourceLimitExceeded"
	CodeRequestLimitExceeded   = "RequestLimitExceeded"
	CodeCustomHealthNotFound   = "CustomHealthNotFound"
	CodeAttributesLimit        = "ServiceAttributesLimitExceededException"
	CodeResourceNotFound       = "ResourceNotFoundException"
	CodeTooManyTags            = "TooManyTagsException"
)

// Namespace types, service types, health statuses.
const (
	NamespaceDNSPrivate = "DNS_PRIVATE"
	NamespaceDNSPublic  = "DNS_PUBLIC"
	NamespaceHTTP       = "HTTP"

	ServiceHTTP    = "HTTP"
	ServiceDNSHTTP = "DNS_HTTP"
	ServiceDNS     = "DNS"

	Healthy   = "HEALTHY"
	Unhealthy = "UNHEALTHY"
	Unknown   = "UNKNOWN"
)

// Reserved instance attributes.
const (
	AttrIPv4       = "AWS_INSTANCE_IPV4"
	AttrIPv6       = "AWS_INSTANCE_IPV6"
	AttrPort       = "AWS_INSTANCE_PORT"
	AttrCNAME      = "AWS_INSTANCE_CNAME"
	AttrAlias      = "AWS_ALIAS_DNS_NAME"
	AttrInitHealth = "AWS_INIT_HEALTH_STATUS"
	AttrEC2        = "AWS_EC2_INSTANCE_ID"
)

// DefaultSOATTL is the SOA TTL (negative caching) of a DNS namespace
// created without one: Cloud Map's console default, 15 seconds.
const DefaultSOATTL = 15

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n lowercase alphanumerics read from r.
func randomString(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("sd: random source: %w", err)
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b), nil
}

// NewNamespaceID returns "ns-" and 16 lowercase alphanumerics.
func NewNamespaceID(r io.Reader) (string, error) {
	s, err := randomString(r, 16)
	return "ns-" + s, err
}

// NewServiceID returns "srv-" and 16 lowercase alphanumerics.
func NewServiceID(r io.Reader) (string, error) {
	s, err := randomString(r, 16)
	return "srv-" + s, err
}

// NewOperationID returns 32 lowercase alphanumerics, "-" and 8 more.
func NewOperationID(r io.Reader) (string, error) {
	s, err := randomString(r, 40)
	if err != nil {
		return "", err
	}
	return s[:32] + "-" + s[32:], nil
}

// ARNs of Cloud Map resources.
type Namer struct {
	Partition, Region, Account string
}

func (n Namer) prefix() string {
	p := n.Partition
	if p == "" {
		p = "aws"
	}
	return "arn:" + p + ":servicediscovery:" + n.Region + ":" + n.Account + ":"
}

// Namespace is a namespace's ARN.
func (n Namer) Namespace(id string) string { return n.prefix() + "namespace/" + id }

// Service is a service's ARN.
func (n Namer) Service(id string) string { return n.prefix() + "service/" + id }

// Shuffle puts s in a random order read from r (Fisher-Yates).
func Shuffle[T any](r io.Reader, s []T) error {
	var b [4]byte
	for i := len(s) - 1; i > 0; i-- {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return fmt.Errorf("sd: random source: %w", err)
		}
		j := int((uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24) % uint32(i+1))
		s[i], s[j] = s[j], s[i]
	}
	return nil
}
