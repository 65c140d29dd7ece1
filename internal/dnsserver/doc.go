// Package dnsserver puts berth's DNS answers on the wire: one server on
// UDP and TCP at one address (miekg/dns), answering from an atomically
// swapped dnszone.Index, forwarding every other name to upstream
// resolvers.
//
// Invariants: Apply never installs a configuration older (lower Revision)
// than the installed one; a query is answered from one index, never a mix;
// a UDP response never exceeds 512 bytes or the client's EDNS0 size (it is
// cut whole records at a time and TC set), a TCP response is whole;
// responses (QR set) are never answered; forwarded queries go only to the
// configured upstreams, never to the server's own address.
package dnsserver
