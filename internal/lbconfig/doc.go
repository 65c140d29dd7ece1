// Package lbconfig is the contract between berth's ELBv2 control plane and
// its load-balancer data plane (`berth lb`): the configuration the server
// pushes (every load balancer with its listeners and rules, every target
// group with its targets and their registration state, the certificates the
// listeners use) and the health reports the data plane sends back.
//
// Invariants: a Config is complete (never a delta) and self-consistent
// (every target group ARN a rule forwards to is in TargetGroups, every
// certificate ARN a listener names is in Certificates); rules are sorted by
// priority with the default rule last; durations are already resolved from
// ELB's attribute strings. Leaf package: it imports only the standard library.
package lbconfig
