// Package awsproto is berth's AWS protocol edge: one http.Handler (Edge)
// in front of every AWS API berth serves, for the AWS JSON 1.0/1.1 and
// awsQuery protocols.
//
// Contract: a service package describes itself as a Service (protocol,
// signing name, target prefix or Query version, operations) and writes
// only typed handlers; the edge routes, reads the body, authenticates,
// decodes (DecodeJSON, DecodeQuery, Handle), dispatches and renders
// results and errors in the service's own wire form. Requests for a
// signing name or target berth does not serve are answered, in their
// protocol, that berth does not serve them yet.
//
// Invariants:
//   - Routing uses the X-Amz-Target prefix (JSON) or the Query Version and
//     SigV4 signing name, never the Host header.
//   - Every answer carries x-amzn-RequestId; every error is in the routed
//     service's protocol (JSON __type/message or XML ErrorResponse), a
//     panic included (500, logged with its stack).
//   - A request is authenticated with the signing name of the service it
//     is routed to, before its operation runs.
//   - The XML written is always well-formed: text is escaped and
//     characters XML cannot carry are replaced.
package awsproto
