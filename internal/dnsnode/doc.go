// Package dnsnode runs the DNS data plane on an agent host: it keeps the
// configuration stream to the server open (dnsconfig.StreamPath), installs
// every configuration it receives in its DNS server (package dnsserver),
// and keeps the last one in a file of mode 0600.
//
// Invariants: the DNS server answers from the last configuration installed
// while the control plane is away, and across the node's own restarts (the
// kept file is installed before the stream is opened); within one stream a
// configuration older than the installed one is never installed (a
// stream's first configuration is the server's truth and always is); a
// configuration is kept only once installed.
package dnsnode
