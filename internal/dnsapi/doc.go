// Package dnsapi is the server side of the DNS data plane: the push stream
// at dnsconfig.StreamPath that hands every DNS node the whole configuration
// when it connects and again whenever its content changes, with heartbeats
// in between; and Feed, which drives the server's own in-process
// dnsserver from the same source.
//
// Both are driven by the source's change channel, never by polling; a
// configuration whose content equals the last one sent (its Revision
// aside) is not sent again.
package dnsapi
