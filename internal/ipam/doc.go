// Package ipam decides berth's task network addresses (the awsvpc network
// mode): which subnet of the cluster's task range a container instance
// serves, and which address of that subnet a task gets. It is pure: the
// callers (the state machine) pass what is in use and keep the results.
//
// Invariants:
//   - A subnet is an aligned block of the range with the requested prefix
//     length; Subnet never returns one that overlaps a subnet in use, and
//     returns the lowest free one, so the same inputs give the same answer.
//   - In a subnet, the first address is the network, the second the
//     gateway (the host's bridge), the last the broadcast address: none of
//     them is ever a task address. Address returns the lowest free one.
//   - Only IPv4; prefixes are masked before use.
package ipam
