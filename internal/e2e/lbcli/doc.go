// Package lbcli holds the load-balancing tests that drive `berth dev` as a
// user does, as a process: the AWS CLI script scripts/awscli-lb.sh and the
// README's "Load balancers" quickstart (AWS CLI, `berth deploy` and
// `berth lbs`). They need Docker and the AWS CLI. They live apart from
// internal/e2e to keep each test package well under go test's time limit.
package lbcli
