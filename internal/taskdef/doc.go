// Package taskdef validates and completes RegisterTaskDefinition requests.
//
// It owns the rules that decide whether ECS accepts a task definition, the
// defaults ECS fills in before it stores one, and the two members ECS computes
// from it: compatibilities and requiresAttributes. Build is its only entry
// point; the state machine (package fsm) assigns the ARN, revision, status and
// registration stamp, and validates and stores the tags.
//
// The package is pure: no I/O, clocks, randomness, goroutines or logging. It
// imports only the standard library, internal/shape and internal/apierr. Build
// is safe for concurrent use.
//
// # Invariants
//
//   - Every error Build returns is an *apierr.Error: ClientException for almost
//     every rule (that is what ECS answers for RegisterTaskDefinition), and
//     InvalidParameterException for a task cpu or memory that does not parse.
//     Messages are ECS's own where a real response was found; the tests list
//     them.
//   - Build never modifies its argument and the result shares no pointer,
//     slice or map with it.
//   - Every member the request carries is kept unchanged, except task cpu and
//     memory, which are normalised to whole CPU units and MiB ("1 vCPU" ->
//     "1024", "0.5 GB" -> "512"). Defaults only fill members that were omitted.
//   - Build is idempotent: building a request made from a result's members
//     returns the same result.
//
// # Defaults
//
// As in real DescribeTaskDefinition output: volumes and placementConstraints
// become []; enableFaultInjection false; per container essential true (cpu is
// always emitted, 0 when unset), portMappings, environment, mountPoints,
// volumesFrom and systemControls become []; a port mapping gets protocol "tcp"
// and, with a containerPort and no hostPort, hostPort = containerPort in host
// and awsvpc mode and 0 otherwise; a health check gets interval 30, timeout 5
// and retries 3 (startPeriod stays unset); linuxParameters.capabilities gets
// add and drop []. networkMode and requiresCompatibilities stay omitted when
// the request omits them.
//
// # Compatibilities
//
// In ECS's order: EXTERNAL (not awsvpc; no EFS, FSx or configured-at-launch
// volumes; no inference accelerators), EC2 (always), FARGATE (the Fargate rules
// hold: awsvpc, a task size from the Fargate table, an execution role for
// private ECR images and awslogs, none of the features Fargate lacks),
// MANAGED_INSTANCES (an explicit awsvpc or host network mode, not Windows). A launch type named in requiresCompatibilities must hold or
// Build fails with the first violated rule.
//
// # requiresAttributes
//
// Sorted by name, only the name set; omitted when empty. Rows marked "seen" are
// confirmed by real DescribeTaskDefinition outputs (a feature present with the
// attribute and absent without it); "docs" follows the API reference's Docker
// Remote API requirement; "agent" uses the capability name the container agent
// registers, not yet confirmed in an ECS output.
//
//	feature                                          attribute(s)                                                            source
//	networkMode awsvpc                               ecs.capability.task-eni, com.amazonaws.ecs.capability.docker-remote-api.1.18  seen
//	taskRoleArn                                      com.amazonaws.ecs.capability.task-iam-role                             seen
//	taskRoleArn with networkMode host                com.amazonaws.ecs.capability.task-iam-role-network-host                agent
//	image in a private ECR registry                  com.amazonaws.ecs.capability.ecr-auth                                  seen
//	  ... with executionRoleArn                      ecs.capability.execution-role-ecr-pull                                 seen
//	logConfiguration with driver D                   com.amazonaws.ecs.capability.logging-driver.D, docker-remote-api.1.19  seen
//	awslogs with executionRoleArn                    ecs.capability.execution-role-awslogs                                  seen
//	log option awslogs-create-group                  docker-remote-api.1.29                                                 seen
//	log option mode                                  docker-remote-api.1.28                                                 seen once
//	healthCheck                                      ecs.capability.container-health-check                                  seen
//	healthCheck.startPeriod                          docker-remote-api.1.29                                                 seen once
//	dependsOn, startTimeout or stopTimeout           ecs.capability.container-ordering                                      seen
//	secrets (Secrets Manager ARN / other)            ecs.capability.secrets.asm|ssm.environment-variables, docker-remote-api.1.21  seen
//	logConfiguration.secretOptions                   ecs.capability.secrets.asm|ssm.bootstrap.log-driver                    agent
//	environmentFiles                                 ecs.capability.env-files.s3                                            seen
//	links (present, even empty)                      docker-remote-api.1.17                                                 seen
//	dockerLabels or ulimits (non-empty)              docker-remote-api.1.18                                                 docs
//	linuxParameters.initProcessEnabled               docker-remote-api.1.25                                                 docs
//	EFS volume                                       ecs.capability.efs, ecs.capability.efsAuth, docker-remote-api.1.25     seen
//	dockerVolumeConfiguration (driver D)             docker-remote-api.1.25, ecs.capability.docker-plugin.D                 seen
//	FSx for Windows volume                           ecs.capability.fsxWindowsFileServer                                    agent
//	privileged                                       com.amazonaws.ecs.capability.privileged-container                      agent
//	repositoryCredentials                            ecs.capability.private-registry-authentication.secretsmanager          agent
//	firelensConfiguration type T                     ecs.capability.firelens.T                                              agent
//	firelens option config-file-type F               ecs.capability.firelens.options.config.F                               agent
//	pidMode or ipcMode                               ecs.capability.pid-ipc-namespace-sharing                               agent
//	proxyConfiguration                               ecs.capability.aws-appmesh                                             agent
//	inferenceAccelerators                            ecs.capability.task-eia                                                agent
//
// docker-remote-api.N abbreviates com.amazonaws.ecs.capability.docker-remote-api.N.
package taskdef
