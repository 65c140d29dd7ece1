// Package discovery holds the end-to-end tests of berth's service
// discovery: the Cloud Map API, ECS services with service registries
// (tasks registered as Cloud Map instances, deregistered when they stop,
// their custom health following the tasks' health), and the DNS data
// plane that answers for them, on the Docker and the process runtimes,
// with the real aws-sdk-go-v2 clients (ECS, Cloud Map, ELBv2) and
// github.com/miekg/dns as the DNS client.
//
// The server (answering DNS on a free port of 127.0.0.1, forwarding
// nothing) and the agents run in the test's process; the tasks are real
// containers or processes of the test application (internal/demoapp).
// The runtime tests also serve DNS to their tasks at the task endpoint
// (169.254.170.2:53) as an agent host does (internal/cli/taskdns.go):
// they take the cross-package lock of internal/dnstest for that address,
// so they run one after another, and remove the address when they end.
// Tests that need no agents run in parallel with them. On the process
// runtime tasks run in host mode, where a task's host port is its
// container port, so its service runs one task at a time (no scaling
// there; Docker's bridge mode scales).
package discovery
