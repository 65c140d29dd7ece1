// Package archtest enforces berth's import rules with a test: pure packages
// stay pure, only raftnode touches the consensus library, the API writes only
// through a Proposer, client code reaches the server only over the wire, and
// the test harnesses (internal/e2e/inproc) stay out of what ships.
package archtest
