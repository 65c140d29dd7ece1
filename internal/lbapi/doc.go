// Package lbapi is the server side of the load-balancer data plane's
// protocol (package lbconfig): the push stream that hands every data-plane
// node the full configuration when it connects and again whenever it
// changes, and the health reports the nodes send back.
//
// The stream is driven by the configuration source's change channel, never
// by polling. Health is high-volume data: it is kept in memory (Health),
// never proposed to the log; a node's reports count while the node is
// fresh (connected, or reported within NodeTTL). Several nodes may serve
// one load balancer: a target is healthy only when every fresh node that
// checks it says so.
package lbapi
