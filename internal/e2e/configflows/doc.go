// Package configflows holds the AWS CLI script test of a task's
// configuration (scripts/awscli-config.sh): Secrets Manager secrets and SSM
// parameters injected as a container's environment, an IAM role for the
// task and STS's AssumeRole, and the awslogs log driver read back through
// CloudWatch Logs, all against `berth dev` on Docker as a user drives it.
// It needs Docker and the AWS CLI (CI sets BERTH_REQUIRE_DOCKER=1 and
// BERTH_REQUIRE_AWSCLI=1 to make their absence a failure). It lives apart
// from internal/e2e/userflows to keep each test package well under go
// test's time limit.
package configflows
