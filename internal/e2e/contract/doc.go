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
// interval is shorter. The agent runs the process runtime, whose shim is
// this test binary itself (it links internal/shimentry), so the package
// needs neither Docker nor a berth binary.
package contract
