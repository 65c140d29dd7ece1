// Package harness is what the benchmark programs under bench/ share to run
// berth for real: building cmd/berth, starting `berth server` and
// `berth agent` as separate processes with fresh data dirs and freshly
// generated root credentials (optionally inside a network namespace of the
// bench's own, for runs whose agents change the host's network), an ECS
// client that signs every request and retries nothing, the local Docker
// engine (labelled containers, swarm membership taken and given back only
// when the bench took it), CPU and memory readings from /proc, the
// server's metrics, the machine's description, medians, clean-up on
// interrupt, and the report's output.
//
// It is not a test helper: the programs print what they measured and
// assert nothing, and so does this package.
package harness
