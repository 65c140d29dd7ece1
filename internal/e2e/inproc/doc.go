// Package inproc is the harness of the end-to-end tests that run berth in
// the test's own process: a server (StartServer) and its aws-sdk-go-v2
// clients (Endpoint), container runtimes (NewRuntime: Docker, or the
// process runtime with the test binary as its shim), agents (StartAgent),
// the test application for a runtime (App), captured logs (Logs), and
// small helpers for tasks. Its pieces compose: a test package keeps its
// own env (clusters, data planes, task endpoints) and takes from here only
// the setup that every such package repeats.
//
// Contract:
//   - Only tests import this package (internal/archtest enforces it): it
//     starts servers and agents, fails tests and registers their cleanups.
//   - Whatever a function starts is stopped when the test ends, in the
//     reverse order of starting: an agent stops (within 30 s, else the test
//     fails) before its runtime's containers that carry its berth.agent
//     label are removed and the runtime is closed.
//   - A test binary that links this package is the process runtime's shim
//     (it links internal/shimentry).
//   - Clients reach the server with the root's static credentials, one
//     attempt (no retries hide a failure) and berth's SDK HTTP client
//     (internal/sdkhttp).
//   - Logs go nowhere unless captured (Logs) or BERTH_TEST_LOG is set, which
//     copies every record to stderr.
package inproc
