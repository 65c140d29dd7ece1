// Package e2e holds berth's end-to-end tests: they start a real server (in
// process, or as a separate process for crash tests) on a free loopback
// port and drive it with real clients: aws-sdk-go-v2, raw signed HTTP, and
// the AWS CLI.
package e2e
