// Package lbnode runs one load-balancer data-plane node (`berth lb`): it
// keeps the configuration stream to the server open (package lbconfig),
// applies every configuration it receives to its engine, and reports the
// engine's target health and the load balancers it serves.
//
// Invariants: the node serves with the last configuration it applied while
// the server is away, and across its own restarts (the configuration is
// kept in a file of mode 0600: it holds certificate keys); a configuration
// older than the one applied is never applied.
package lbnode
