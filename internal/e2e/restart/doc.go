// Package restart holds berth's end-to-end tests of control-plane and agent
// outages. `berth server`, `berth agent` and `berth dev` run as processes of
// the binary TestMain builds; the tests stop them with SIGTERM or SIGKILL
// (or freeze them with SIGSTOP) and start them again on the same data dir
// and listen address while a service of two tasks runs, on the process and
// the Docker runtimes, and drive the server with aws-sdk-go-v2:
//
//   - TestServerRestart, TestServerRestartAgentLate, TestDevRestart: an
//     outage of the control plane (5, 50 or 70 s, with the default 60 s
//     lost-host timeout) stops, starts and replaces nothing, through a whole
//     lost-host timeout after the server is back.
//   - TestAgentGone: an agent away for longer than the lost-host timeout has
//     its service tasks replaced exactly once, and stops their containers
//     when it comes back.
//
// The package is apart from package e2e so that each stays well within go
// test's time limit. Its cases mostly wait on timers (a full lost-host
// timeout is part of what they prove), so they all run at once: TestMain
// raises -test.parallel unless the command line sets it. Every case has its
// own processes, data dirs, port and account ID (its containers on a shared
// Docker engine are those whose task ARN names the account); all are
// removed when the case ends, failed or not.
package restart
