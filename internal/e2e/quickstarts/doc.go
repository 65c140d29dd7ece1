// Package quickstarts runs the README's quickstarts (AWS CLI, `berth
// deploy`, `berth lbs`) against `berth dev` as a process, as a newcomer
// would. They need Docker and the AWS CLI. The AWS CLI scripts are in
// internal/e2e/userflows; the two live apart to keep each test package well
// under go test's time limit.
package quickstarts
