// Package userflows holds the tests that drive `berth dev` as a process, as
// a user does, with the AWS CLI scripts (scripts/awscli-*.sh). They need
// Docker and the AWS CLI. They live apart from internal/e2e, and the
// README's quickstarts in internal/e2e/quickstarts, to keep each test
// package well under go test's time limit.
package userflows
