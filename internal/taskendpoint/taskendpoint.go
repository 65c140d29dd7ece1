// Package taskendpoint names the host-local address every task reaches
// berth's per-host services at: the agent's DNS server (port 53) and the
// task credentials and metadata endpoint (port 80, package taskhttp), as
// on ECS.
//
// It is a leaf: the agent, the host address helper (internal/hostaddr),
// the task network's iptables rules (internal/tasknet) and the DNS and
// credentials servers import it, and it imports nothing of berth.
package taskendpoint

import "net/netip"

// IP is the task endpoint address, link-local, the one ECS uses for its
// credentials endpoint.
const IP = "169.254.170.2"

// DNSPort is the port of the agent's DNS server on IP (UDP and TCP).
const DNSPort = 53

// HTTPPort is the port of the credentials and metadata endpoint on IP.
const HTTPPort = 80

// Addr is IP parsed.
var Addr = netip.MustParseAddr(IP)
