// Package lb holds the end-to-end tests of berth's load balancing: the
// ELBv2 API, the data plane (package lb) fed by the server's push stream,
// and ECS services behind load balancers, on the Docker runtime, with the
// real aws-sdk-go-v2 clients. The server, the agents and the data plane run
// in the test's process; the tasks are real containers. Every test takes
// load-balancer addresses from its own 127.x.y.0/24 so that test packages
// running side by side never share one. The tests run in parallel (each
// has its own server, data-plane node, agents and pool), but for the
// rolling deployment's zero-failure promise, which runs alone first.
package lb
