// Package deploy is the service reconciler: for one ECS service it decides,
// round by round, which tasks to start and stop, how the deployments array
// moves (rolling updates, completion, the circuit breaker and its
// rollback), which service events to record, and when to look again. It
// owns the semantics of REPLICA and DAEMON services with the ECS
// deployment controller: desired count, minimumHealthyPercent and
// maximumPercent, health (container and load-balancer health checks),
// draining, lost hosts, the launch throttle.
//
// Reconcile is a pure function of an Input (the service, its deployments,
// its tasks, the cluster's container instances, its recent events, the
// cluster version and the time) to a Result. It does no I/O, starts no
// goroutine, reads no clock, uses no randomness, does not log, does not
// modify its input, and is safe for concurrent use. It imports only the
// standard library; placement is not its business (a Start says how many
// tasks, the shell asks the scheduler where).
//
// # API
//
//	Reconcile(Input) Result                      one round for one service
//	DefaultConfig() Config                       the timings (zero fields default)
//	StartedMessage(svc, taskIDs, replaced) string  the event the shell records after placing
//	ScalingReason, LostReason, GoneReason, ReasonHealthCheck, ELBHealthReason,
//	BreakerReason                                the stoppedReason and rolloutStateReason texts
//
// # The shell's side of the contract
//
// The server runs one loop on the leader. For each service it builds the
// Input from one state snapshot, calls Reconcile, and, when Result.Changed,
// applies the Result in one write (Lost, Stops, Deployments, LastCompleted,
// DesiredCount, Events), then places Result.Starts:
//
//   - Input.Tasks: the service's tasks (startedBy = deployment ID), live
//     ones and the STOPPED ones still kept. Input.Instances: the cluster's
//     registered instances; for DAEMON, Eligible says whether the instance
//     satisfies the service's constraints and required attributes.
//     Input.Events: the service's events, oldest first.
//   - Service.TargetGroups: how many ELBv2 target groups the service's
//     loadBalancers name (0: none). Task.Targets: the registrations the
//     shell made for the task, one per target group (and port), with
//     their current health from the load balancer (state, reason,
//     description); empty until the shell has registered the task. The
//     shell registers a task's targets as it starts (ECS: while the task
//     is ACTIVATING) and, when the task is stopped (a Stop, or the task
//     ending on its own), deregisters them and holds the actual stop of
//     the containers for the target group's deregistration delay
//     (draining): the task's desired status is STOPPED meanwhile, so the
//     reconciler sees it stopping; nothing else about draining is its
//     business. When it deregisters a task's targets the shell keeps in
//     Task.Targets the states they had before (not draining or unused):
//     the circuit breaker reads whether a task that stopped on its own
//     was healthy in its target groups. The "registered N targets" and
//     "deregistered N targets" events are the shell's.
//   - Input.ClusterVersion: changes with any container instance or task
//     of the cluster (a raft index), not with the service's own record.
//   - Lost: set the task STOPPED at once (lastStatus and desired status),
//     with the stop code and reason; no agent will report it.
//   - Stops: desired status STOPPED, stopCode, stoppedReason, stoppingAt.
//   - Deployments replaces the service's array (bookkeeping included);
//     the service's taskDefinition is the PRIMARY's. LastCompleted
//     replaces Service.LastCompleted (keep it after the deployment leaves
//     the array). DesiredCount is the service's desiredCount (DAEMON
//     computes it).
//   - Events: record each message with Now and a new id (ECS keeps the
//     100 newest).
//   - Starts: place Count tasks (REPLICA, RunTask-style, the service's
//     placement strategy; ECS's default balances across availability
//     zones) or one task on each of Instances (DAEMON, StartTask-style),
//     with group service:NAME and startedBy = DeploymentID, re-checked at
//     commit like RunTask. Then record StartedMessage for the placed tasks,
//     and on the PRIMARY set Placement to the failure (the first failure's
//     reason and instance, At = Now, ClusterVersion as it is after the
//     placement's own writes) or to nil when every task was placed.
//   - Run a round when anything the Input reads changes (the service, its
//     tasks and their targets' health, the cluster's instances or tasks)
//     and at Result.Wake. A change of a target's health must start a
//     round: the reconciler sets no Wake for a task waiting for its load
//     balancer. A round
//     whose inputs did not change returns Changed == false, so writing the
//     Result does not start another round for ever (the property tests
//     check that rounds settle within three repeats).
//
// # Model
//
// A task is live when its desired status is RUNNING and it is not STOPPED
// (what maximumPercent bounds: "RUNNING or PENDING"); stopping when its
// desired status is STOPPED and it is not STOPPED yet; healthy when live,
// RUNNING and, if its deployment's task definition has health checks,
// HEALTHY, and, if the service has target groups, registered in every one
// of them (Targets name at least TargetGroups distinct target groups) with
// every target healthy; with neither, RUNNING for SettleTime (40 s);
// unhealthy when RUNNING, past the grace period, and UNHEALTHY or with a
// target unhealthy (unhealthy.draining too); settling otherwise (pending,
// registration pending, a target initial, in the grace period). desired is
// the service's desired count (DAEMON: the ACTIVE, matching, not lost
// instances); min = ceil(desired × minimumHealthyPercent / 100); max =
// floor(desired × maximumPercent / 100).
//
// A round, in order: mark lost tasks; count failed launches (throttle,
// circuit breaker stage 1); classify tasks; count health-check failures
// (stage 2); trip the circuit breaker (and roll back); stop; start; report
// a deadlock; complete the deployment; report placement failure, throttle
// and steady state.
//
// # Rules and their sources
//
// "Verified" names the source (ecs-semantics.md section, AWS docs, or real
// ECS output quoted in public issues and write-ups); the rest are berth's
// choices.
//
// Rolling update (ecs-semantics §6.3, design.md):
//   - Each round stops tasks that must go, tasks of older deployments,
//     PRIMARY tasks on DRAINING instances and PRIMARY tasks beyond the
//     desired count, and starts PRIMARY tasks up to the desired count
//     (tasks on DRAINING instances do not count) within max live tasks.
//     Verified: the two worked examples of AWS's best-practices guide,
//     reproduced step by step in testdata/worked_examples.txt.
//   - Tasks that must go and are not healthy (pending, settling) go at
//     once; healthy ones only while the healthy count stays at or above
//     min. Unhealthy tasks are stopped in the round they are found,
//     whatever the bounds, and replaced in the same round within max:
//     they do not count as healthy, so min is not at stake. ECS's services
//     docs describe starting the replacement first and stopping the
//     unhealthy task "one at a time" when max allows no replacement; a
//     real ECS trace shows the stop and the replacement in the same
//     second, which is what berth does.
//   - Stop order (§6.10, verified in the ECS docs for scale-in): tasks that
//     are not healthy first, then the availability zone with the most live
//     tasks of the service, then the instance with the most; ECS breaks
//     remaining ties at random, berth by task ID. Classes go in order: old
//     deployments, then draining, then scale-in.
//   - Starts wait while tasks the scheduler stopped to make room (this
//     round or before, reason ScalingReason) are still stopping, for at
//     most StopWait. Choice, forced by the worked example "stop 3 a →
//     start 5 b": ECS starts the new tasks once the old ones are gone,
//     although two slots were free; their resources are held until
//     STOPPED. Stops for failed health checks do not hold starts back;
//     verified: a real ECS trace shows the replacement started in the same
//     second as the unhealthy task was stopped, with the event suffix
//     "Amazon ECS replaced 1 tasks due to an unhealthy status.".
//   - A stopped task's code is ServiceSchedulerInitiated and its reason
//     "Scaling activity initiated by (deployment ID)" (verified: real
//     stopped tasks), ID being the PRIMARY; a task stopped for its health
//     checks has "Task failed container health checks", or, for its load
//     balancer, "Task failed ELB health checks in (target-group ARN)"
//     (verified: traffic.md E.1 [I], ufo#171), ARN being the first target
//     group in Targets where it is unhealthy. A task failing both is
//     stopped for its container health checks.
//   - Deadlock: work to do, no room under max to start, no healthy task
//     stoppable under min, and nothing in flight (no task pending,
//     settling or stopping, nothing held back): the round does nothing and
//     reports "(service X) was unable to stop or start tasks during a
//     deployment because of the service deployment configuration. Update
//     the minimumHealthyPercent or maximumPercent value and try again."
//     (verified: ECS docs and real events).
//   - Health (§6.3, §6.8): healthCheckGracePeriod ignores UNHEALTHY until
//     that long after the task started (StartedAt; ECS: "after a task has
//     first started"); a deployment without health checks counts a task
//     healthy 40 s after RUNNING (ECS's minimumHealthyPercent docs).
//   - Load balancers (traffic.md E.1, §6.8): with target groups, a new
//     task counts as healthy once its target is healthy in every target
//     group (and HEALTHY too when the deployment has container health
//     checks); no settle time applies. The grace period ignores unhealthy
//     targets as it ignores UNHEALTHY (the round wakes at its end); after
//     it, an unhealthy target makes the task unhealthy: stopped in the
//     round it is found and replaced within max, like a container
//     health-check failure, with one event per failing target: "(service
//     NAME) (port PORT) is unhealthy in (target-group ARN) due to (reason
//     DESCRIPTION)." for an ip target (awsvpc; verified: traffic.md E.2
//     [I], CivicTechJobs#436, copilot-cli#3772) and "(service NAME)
//     (instance i-...) (port PORT) is unhealthy in ..." for an instance
//     target (bridge, host; ID starting with "i-"), a pattern the
//     reference marks from memory. DESCRIPTION is ELB's description of the
//     target's health ("Health checks failed", "Health checks failed with
//     these codes: [502]", "Request timed out"; traffic.md E.2, C.3), its
//     reason code when it has none. TargetGroups is the service's, for
//     every deployment's tasks: changing the load balancers makes a new
//     deployment (§6.8), and berth's old tasks are judged by the new
//     count (choice).
//
// Deployments array (§6.4):
//   - The PRIMARY completes when the service is settled: live tasks are
//     exactly the desired number of PRIMARY tasks, all healthy, none on a
//     DRAINING (DAEMON: ineligible) instance, no task stopping or pending,
//     nothing done this round. It becomes COMPLETED with "ECS deployment
//     ID completed." and every other deployment leaves the array (the
//     services-stable waiter needs one). ACTIVE deployments stay until
//     then, their desiredCount being the live tasks they have left.
//     Verified: real rolloutStateReason texts "ECS deployment ID in
//     progress." / "... completed." and the event "(service X)
//     (deployment ID) deployment completed." followed by the steady state.
//   - A desiredCount change alone does not make a new deployment or reset
//     COMPLETED; a new deployment (UpdateService) is the shell's: it adds
//     the PRIMARY and demotes the old one. Several PRIMARY entries: the
//     newest wins.
//
// Circuit breaker (§6.5):
//   - Threshold clamp(ceil(0.5 × desired), 3, 200) (ECS docs).
//   - Stage 1: PRIMARY tasks that stopped without reaching RUNNING, not
//     stopped by a user, the scheduler or a lost host, count as failures
//     until one task of the deployment reaches RUNNING; then the count
//     resets to 0 (ECS failedTasks docs) and stage 2 counts PRIMARY tasks
//     stopped for failing health checks. A healthy task started after the
//     last failure resets the count (consecutive failures). Without health
//     checks, tasks that crash after RUNNING do not count (a known ECS
//     limitation, verified in public issues). With health checks, a task
//     that stops on its own before it passed them (a container that exits
//     as it starts reaches RUNNING for a moment) counts in either stage,
//     and reaching RUNNING does not reset the count; verified: ECS's
//     answer in aws/containers-roadmap#1206 (December 2021, "if a Task
//     fails before reporting a health check, the failedTask count is not
//     reset").
//   - Load balancers and the breaker: a deployment of a service with target
//     groups is one with health checks for the breaker. Stage 2 counts the
//     tasks stopped for failing ELB health checks (verified: ECS's breaker
//     docs, §6.5: stage 2's failures are the tasks replaced for failing ELB,
//     Cloud Map or container health checks); the rest is berth's choice, by
//     analogy with container health checks: a task that stopped on its own
//     (not a user, the scheduler or a lost host) while not healthy in its
//     target groups, as its Targets were when it stopped (not registered in
//     every group, or a target not healthy), counts in either stage;
//     reaching RUNNING does not reset the count. "Healthy" for the
//     consecutive-failure reset is the load balancer's healthy. A task with
//     container health checks too counts when either was not healthy.
//   - On the threshold: rolloutState FAILED, "ECS deployment circuit
//     breaker: tasks failed to start.", event "(service X) (deployment ID)
//     deployment failed: tasks failed to start."; no further launches.
//     Verified: real output, and the same texts when the failures were
//     health checks (stage 2).
//   - With rollback, the last COMPLETED deployment (Service.LastCompleted)
//     becomes PRIMARY again with its own ID, IN_PROGRESS, "ECS deployment
//     circuit breaker: rolling back to deploymentId ID.", event "(service
//     X) rolling back to deployment ID."; the failed one becomes ACTIVE and
//     its tasks are replaced. Verified: real traces where the rolled-back
//     ID is the one that later reports "deployment completed", and ECS docs
//     (the COMPLETED deployment goes back to IN_PROGRESS and is no rollback
//     target until it completes again: LastCompleted becomes nil). No
//     COMPLETED deployment: FAILED stays PRIMARY and the service stalls:
//     nothing starts and no healthy task is stopped (ECS docs).
//
// Launch throttle (§6.10, ECS "service throttle logic" docs): consecutive
// PRIMARY launch failures (never RUNNING) delay the next launch once there
// are ThrottleAfter (3) of them: 30 s, doubling, capped at 27 minutes (the
// cap is documented, the steps are berth's); "(service X) is unable to
// consistently start tasks successfully." when it engages, and every six
// hours while it lasts. A task reaching RUNNING ends the run; a new
// deployment starts with none. Retries never stop. Placement failures do
// not feed the throttle (ECS's docs list a lack of resources among its
// causes; berth's choice): a placement failure at an unchanged
// ClusterVersion holds launches for PlacementRetry (1 minute) instead, and
// is reported as
// "(service X) was unable to place a task because no container instance
// met all of its requirements. The closest matching (container-instance
// ID) has insufficient memory available. For more information, see the
// Troubleshooting section of the Amazon ECS Developer Guide." (variants
// for CPU, ports, attributes, other reasons, and no instances; verified in
// real events).
//
// DAEMON (§6.7): one task per ACTIVE instance that is Eligible and not
// lost; starts only where the agent is connected; tasks on instances that
// are DRAINING, no longer eligible (constraints violated: ECS stops them)
// or gone are stopped whatever the bounds; older deployments' tasks and
// extra tasks on one instance are replaced within min/max (API defaults
// 0/100: stop, then start).
//
// Draining (§8.5): PENDING tasks on a DRAINING instance stop at once;
// RUNNING ones are replaced within min/max, the replacement first when max
// allows (verified: UpdateContainerInstancesState docs).
//
// Lost hosts: tasks on an instance whose agent has been disconnected for
// LostHostTimeout (60 s), or that is deregistered or missing, are marked
// STOPPED with stopCode TerminationNotice (ECS's code for "Host EC2
// (instance i-...) terminated.") and a reason naming the instance, and are
// replaced. Until then a disconnected instance's tasks keep counting (ECS:
// they keep running).
//
// Events (§6.6): the "(service NAME)" prefix throughout. Condition
// messages (steady state, placement failure, deadlock) are not repeated
// while the same message was recorded less than six hours ago with no
// activity (tasks started or stopped, deployment events) since (ECS:
// "duplicate event messages are omitted until either the cause is resolved
// or six hours passes"; the steady state "periodically"); Wake brings the
// round back when the six hours end. Within a round: failed health checks
// (container and ELB, in task order), "has stopped N running tasks: (task
// a) (task b).", deployment events, then conditions. The ELB unhealthy
// events count as activity for duplicate suppression.
//
// # Invariants
//
// The property tests (random simulations through the scheduler, and
// arbitrary inputs) check, for every round:
//
//   - Starts never take live tasks above max; REPLICA starts never take
//     the PRIMARY above desired.
//   - Stopping never takes the healthy count below min (DAEMON: counted on
//     eligible instances); only tasks dying on their own, unhealthy ones
//     and lost hosts do. Healthy is the oracle's own reading, load
//     balancer included.
//   - A task stopped for its ELB health checks is RUNNING, past the grace
//     period, with a target failing them in the target group its reason
//     names.
//   - DAEMON starts only on ACTIVE, connected, eligible instances without
//     a live PRIMARY task, one each.
//   - Only the PRIMARY starts tasks, never when FAILED; exactly one
//     PRIMARY.
//   - Actions name existing tasks once; lost tasks are on lost hosts.
//   - Reconcile is deterministic and leaves its input unchanged.
//   - Applying a Result and repeating the round with nothing else changing
//     settles to Changed == false (no spin).
package deploy
