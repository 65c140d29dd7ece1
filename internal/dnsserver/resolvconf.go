package dnsserver

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// ResolvConfPath is the system's resolver configuration.
const ResolvConfPath = "/etc/resolv.conf"

// ResolvConf reads the name servers of a resolv.conf file (normally
// /etc/resolv.conf) as "host:port" upstreams for Options.Forward, leaving
// out every address the server itself listens on (listen, its
// "host:port"), so that the server never forwards to itself. An unspecified
// listen host (":53", "0.0.0.0:53", "[::]:53") covers the loopback
// addresses and the host's interface addresses.
func ResolvConf(path, listen string) ([]string, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	lhost, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("dns listen address %q: %w", listen, err)
	}
	self := map[netip.Addr]bool{}
	wildcard := lhost == ""
	if a, err := netip.ParseAddr(lhost); err == nil {
		if a.IsUnspecified() {
			wildcard = true
		} else {
			self[a.Unmap()] = true
		}
	}
	if wildcard {
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					self[p.Addr().Unmap()] = true
				}
			}
		}
	}
	var out []string
	for _, ns := range cc.Servers {
		a, err := netip.ParseAddr(ns)
		if err != nil {
			continue
		}
		a = a.Unmap()
		if cc.Port == lport && (self[a] || wildcard && a.IsLoopback()) {
			continue
		}
		out = append(out, net.JoinHostPort(a.String(), cc.Port))
	}
	return out, nil
}
