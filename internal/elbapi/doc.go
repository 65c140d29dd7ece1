// Package elbapi is berth's Elastic Load Balancing v2 API: the awsQuery
// operations of the ELBv2 model that berth serves (load balancers,
// listeners, rules, target groups, targets, tags, attributes), answered on
// the AWS protocol edge, and RenderConfig, which renders the state into the
// configuration the load-balancer data plane serves (lbconfig.Config).
//
// Writes are commands in the raft log (fsm/wire types 30-47), validated
// statelessly here with package elb and with the stateful rules in the
// state machine; reads answer from one state snapshot. Target health comes
// from a HealthSource (the data plane's reports) and certificates from a
// CertificateSource; both are interfaces the server wires.
package elbapi
