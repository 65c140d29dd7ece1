// Package userflows holds the tests that drive `berth dev` as a process, as
// a user does: the AWS CLI scripts (scripts/awscli-*.sh) and the README's
// quickstarts (AWS CLI, `berth deploy`, `berth lbs`). They need Docker and
// the AWS CLI. They live apart from internal/e2e to keep each test package
// well under go test's time limit.
package userflows
