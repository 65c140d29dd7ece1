// Package lb is berth's load-balancer data plane engine (what `berth lb`
// runs): it serves the ALBs and NLBs of a pushed lbconfig.Config on real
// sockets, checks the health of their targets and reports it.
//
// Contract: Apply takes complete configurations (never deltas) and ignores
// one whose Revision is not newer than the last applied; it binds one socket
// per listener, keeps unchanged listeners (and their client connections)
// across configurations, and returns the listeners it could not bind as a
// joined error while serving the others. Health reports every target it
// probes; Changes is signalled (coalesced) when any target's health state
// changes.
//
// Invariants:
//   - the request path takes no engine-wide lock: every listener reads an
//     immutable routing view swapped atomically by Apply;
//   - only registered targets get new requests or connections: healthy ones,
//     or every registered one when none is healthy (fail-open);
//   - a draining target gets nothing new; what it has in flight runs until
//     its DrainUntil, when ALB requests are cut (the client gets 502) and
//     NLB connections are closed if ConnectionTermination is set;
//   - a stickiness cookie is sealed with a per-engine random key, so a client
//     cannot name an arbitrary address with it;
//   - the engine's clock is Config.Now; probes run on timers.
package lb
