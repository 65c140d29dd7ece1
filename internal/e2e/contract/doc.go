// Package contract holds contract tests of the call sequences that
// clients berth must serve make, replayed with aws-sdk-go-v2 against a
// server and an agent started in the test process.
//
// The Terraform AWS provider's are mirrored step by step from its source
// (internal/service/ecs: cluster.go, cluster_capacity_providers.go,
// task_definition.go and service.go, whose statusServiceWaitForStable,
// findPrimaryDeploymentARN and findDeploymentStatus wait for a service
// deployment): the same operations, with the same inputs and in the same
// order, and the same decisions on their answers. Only the polling
// interval is shorter. The configuration resources (aws_secretsmanager_secret
// and _secret_version, aws_ssm_parameter, aws_iam_role with inline_policy
// and managed_policy_arns, aws_iam_role_policy, aws_iam_role_policy_attachment,
// aws_iam_policy, aws_cloudwatch_log_group, and an aws_ecs_task_definition
// that references them) are mirrored by cfgProvider the same way, from
// internal/service/secretsmanager, ssm, iam and logs: create, refresh (every
// attribute read back must equal the configuration's, or a plan would show
// a perpetual diff), update, destroy and a refresh after it; they need a
// server only. The agent runs the process runtime, whose shim is
// this test binary itself (it links internal/shimentry), so the package
// needs neither Docker nor a berth binary.
package contract
