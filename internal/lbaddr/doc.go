// Package lbaddr makes load-balancer addresses local to the host, so that a
// data-plane node can bind them. An address no interface holds is added as
// a /32 to the loopback interface, labelled lo:berthlb (loopback addresses,
// 127.0.0.0/8, are local already and never added); the network must route
// the pool to the host, as for any address. Addresses the manager added are
// removed when it closes.
//
// Only Linux can add addresses (netlink, needs CAP_NET_ADMIN); elsewhere,
// and without the capability, Listen is net.Listen and its error stands.
package lbaddr
