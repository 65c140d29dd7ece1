// Package cli is the berth command line: the daemons (server, dev) and the
// client verbs. Client verbs talk to a berth endpoint only through
// aws-sdk-go-v2's ECS client, the same wire API every other client uses, so
// every CLI test is also a compatibility test.
//
// Each command writes to the io.Writers it is given; Main returns the
// process exit code.
package cli
