// Package taskrole holds the end-to-end test of task IAM roles on Docker:
// an IAM role whose trust policy allows ecs-tasks.amazonaws.com, a task
// definition naming it as taskRoleArn, RunTask; the container reads its
// credentials from the agent's task endpoint (169.254.170.2:80, the
// relative URI in AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, fetched by the
// test application's /fetch from inside the container), and the test
// calls STS GetCallerIdentity with them: the assumed-role ARN of the role,
// with the task ID as session name. A second task cannot read the first's
// credentials with its own credentials ID, and the task metadata v4
// endpoint answers from inside the container too.
//
// TestTaskMetadataDocker (metadata_test.go) reads the task metadata v4
// endpoint from inside a service's container: the engine's image ID,
// creation and start times and health, the task's service name, launch
// type, clock drift and (at /taskWithTags only) tags, and /stats and
// /task/stats with real usage (CPU time, memory, the bridge interface's
// counters, the previous sample).
//
// The server and the agent run in the test's process; the test binds the
// host's task endpoint address under dnstest.LockTaskEndpoint and removes
// it on cleanup.
package taskrole
