// Package twelvefactor holds the end-to-end test of a twelve-factor
// application on both runtimes: its configuration in the environment, its
// secrets in Secrets Manager (JSON keys of a secret) and SSM Parameter
// Store (a SecureString), fetched with the task's execution role and
// injected as environment variables; its own AWS identity from the task
// role; its output shipped with awslogs. The application (berth-testapp
// twelve-factor, internal/e2e/testapp) uses aws-sdk-go-v2's defaults with
// nothing configured: its credentials come from the task credentials
// endpoint through the default chain, its calls (STS GetCallerIdentity,
// SSM GetParameter, Cloud Map DiscoverInstances, which the SDK sends to
// the data-169.254.170.2 host that the task DNS answers) reach berth
// through the task endpoint's AWS API pass-through (AWS_ENDPOINT_URL), and
// it reads its task metadata. It
// reports what it found as one JSON line on stdout, which the test reads
// back with GetLogEvents and FilterLogEvents. A rotated secret reaches the
// next task, and no secret value is anywhere in plaintext: data dirs,
// server and agent logs, the log store.
//
// The server and the agent run in the test's process; the test serves the
// task endpoint as an agent host does (DNS with package taskdns, the
// agent's HTTP endpoint on port 80) and removes it on cleanup.
package twelvefactor
