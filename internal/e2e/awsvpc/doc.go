// Package awsvpc holds the end-to-end tests of the awsvpc network mode and
// the FARGATE launch type: a berth server and agents run as processes,
// each in its own network namespace made by the test (hosts joined by a
// bridge in a "segment" namespace), so that task networks, their bridges,
// iptables chains and routes never touch the machine's own namespace, and
// several hosts can be simulated on one machine. Every namespace, and
// every process in it, is removed when a test ends, also when it fails.
package awsvpc
