// Package restart holds berth's end-to-end tests of control-plane and agent
// outages: the server and the agents run as processes of the berth binary,
// which the tests stop with SIGTERM or SIGKILL and start again on the same
// data dir and listen address, while a service runs. They prove that an
// outage of the control plane shorter than the lost-host timeout stops and
// replaces nothing, and that an agent gone for longer than that timeout has
// its service tasks replaced exactly once.
//
// The package has no code of its own besides the tests; it is apart from
// package e2e so that each stays well within go test's time limit. The
// cases mostly wait on timers (a full lost-host timeout of 60 s is part of
// what they prove), so they all run at once: TestMain raises -test.parallel
// unless the command line sets it.
package restart
