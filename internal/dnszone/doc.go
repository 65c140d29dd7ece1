// Package dnszone is the pure answering core of berth's DNS data plane: it
// compiles a dnsconfig.Config into a lookup index (Compile) and answers one
// question from it (Index.Answer), with the randomness of the routing
// policies passed in. It does no I/O, reads no clock and holds no global
// random source; package dnsserver puts it on the wire.
//
// Invariants: an answer only carries records of the configuration (apex SOA
// and NS included); every zone answer is authoritative; a MULTIVALUE answer
// carries at most dnsconfig.MaxMultivalue records and no unhealthy record
// while a healthy one exists; names outside every zone and Hosts are never
// answered here (Response.Forward); owner names at the question's name
// echo the question's spelling (0x20).
package dnszone
