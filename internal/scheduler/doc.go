// Package scheduler decides where ECS tasks run: it is the placement engine
// behind RunTask, StartTask and the service scheduler, for the EC2 and
// EXTERNAL launch types.
//
// It owns candidate selection, resource accounting (CPU units, memory,
// static TCP and UDP host ports, GPUs), required attributes, placement
// constraints (distinctInstance, memberOf with the cluster query language),
// placement strategies (random, spread, binpack) and the failure reasons ECS
// reports for tasks it cannot place. Its input is a view of a cluster's
// container instances, one request and a random source; its output is a
// Plan of placements and failures.
//
// The package is pure: no I/O, goroutines, clock, logging or global
// randomness. It imports only the standard library and internal/cql.
//
// # API
//
//	Place(instances, req, rng) Plan      one request: NewCluster(instances).Place(req, rng)
//	NewCluster(instances) *Cluster       a prepared view of one snapshot ...
//	(*Cluster).Place(req, rng) Plan      ... for many requests
//	(*Cluster).Registered() int          ACTIVE + DRAINING instances
//	Fits(instance, task) (bool, string)  the commit-time re-check
//	(*Request).Validate() error          what Place requires of a request
//
// The random source is an interface (Rand, IntN) that *rand.Rand of
// math/rand/v2 satisfies, so the package needs no import of math/rand.
//
// # Pipeline
//
//	instances ─sort by ID─▶ status ─▶ agent ─▶ resources ─▶ requiresAttributes ─▶ constraints ─▶ candidates
//	                        ACTIVE    connected  CPU, memory,   name exists; value    distinctInstance,
//	                                             TCP ports,     equal when given      memberOf, in order
//	                                             UDP ports, GPU,
//	                                             task addresses (ENI)
//	candidates ─▶ strategy 1 ─▶ … ─▶ strategy n ─▶ random among the ties ─▶ place, update ─▶ next task
//
// The first check an instance fails is its failure reason, so an instance
// lacking both memory and an attribute reports RESOURCE:MEMORY.
// Constraints and resources are binding; strategies only order the
// candidates (ECS: "best effort").
//
// # Decisions
//
// "Verified" names the source; the rest are choices.
//
//   - Candidates are ACTIVE instances whose agent is connected
//     (ecs-semantics §7.1, §8.5; ECS: "Only instances connected to an
//     agent can accept task placement requests").
//   - CPU, memory and GPUs fit when the task's reservation is at most
//     registered minus used. Task.Memory is the caller's reservation (task
//     memory, else Σ memoryReservation-or-memory).
//   - A static TCP (UDP) host port fits when it is neither reserved
//     (Registered.TCPPorts, registeredResources PORTS) nor used by a task
//     (Used.TCPPorts). All tasks of a request have the same static ports, so
//     an instance takes at most one of them per request. Verified: a real
//     run-task of count 2 with a static port on a one-instance cluster
//     placed one task and returned one RESOURCE:PORTS failure with the
//     container instance ARN (run-task output quoted in public notes).
//   - requiresAttributes: the attribute must exist and, when a value is
//     given, be equal (case-sensitive).
//   - distinctInstance: no two tasks of the request on one instance and
//     none on an instance already running a task of req.Group. Verified: a
//     RunTask of count 1 on a one-instance cluster already running the
//     group failed with "DistinctInstance placement constraint
//     unsatisfied." and the container instance ARN (boto3 output quoted in
//     public code, 2022).
//   - memberOf: the expression must match the instance as it is at that
//     point of the iteration: runningTasksCount and task:group include the
//     tasks this request placed, so "runningTasksCount == 0" with count 2
//     puts the tasks on two instances.
//   - Strategies are tie-breakers applied in order (ECS task placement
//     docs). random picks uniformly among the remaining ties, so strategies
//     after a random one have no effect. Ties left after the last strategy
//     are broken at random; no strategy means random (RunTask's default,
//     ecs-semantics §7.2, not verified).
//   - binpack cpu|memory (any case): the candidate with the least remaining
//     amount of that resource (ECS: "least available amount of CPU or
//     memory").
//   - spread instanceId or host: the candidate with the fewest tasks of
//     req.Group. spread attribute:NAME: the candidate whose value of NAME
//     has the fewest tasks of req.Group, counted over every instance of the
//     view (DRAINING, disconnected and full ones included: their tasks are
//     still in that zone) plus this request's placements; instances without
//     the attribute share one value of their own. Verified: "Service tasks
//     are spread based on the tasks from that service. Standalone tasks are
//     spread based on the tasks from the same task group" (ECS task
//     placement strategies docs): callers pass service:NAME or the RunTask
//     group as req.Group.
//   - count > 1 places one task at a time; each placement updates the
//     instance's free resources, ports, group count and runningTasksCount
//     and the spread counts before the next task (ecs-semantics §7.1).
//   - RunTask failures: when a task cannot be placed, every instance of the
//     cluster gets one failure, ARN = its container instance ARN, with the
//     reason it was rejected (ECS API failure reasons docs: "RESOURCE:*
//     (container instance ID)"). Nothing changed since, so no later task
//     can be placed either: Place stops. Deregistered (INACTIVE) instances
//     are not in the cluster for RunTask: never candidates, never reported;
//     their tasks, if any, still count for spread.
//   - StartTask failures: one per named instance that cannot take its task,
//     in request order: MISSING with the identifier as given for an
//     instance not in the view, else the reason with the instance ARN
//     (verified: ECS API failure reasons docs list MISSING and INACTIVE
//     for StartTask). Naming an instance twice places two tasks on it, the
//     second against what the first left. Constraints in the request apply;
//     the caller decides which.
//   - Failures are deduplicated: one (ARN, reason) pair appears once.
//     Detail names the missing attribute for ATTRIBUTE (AttributeDetail:
//     the first required attribute the instance lacks) and is empty for
//     every other reason.
//   - Reasons RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS, RESOURCE:GPU,
//     RESOURCE:ENI (an awsvpc task needs a free task address; ECS's
//     reason for a lack of elastic network interfaces, from memory),
//     AGENT ("has an agent that is currently disconnected"), ATTRIBUTE,
//     MISSING and INACTIVE are ECS's documented words (API failure reasons
//     docs; RESOURCE:MEMORY, RESOURCE:PORTS and AGENT also seen in real
//     responses). RESOURCE:PORTS_UDP follows RESOURCE:<name of the
//     registered resource> (the UDP resource is PORTS_UDP); not seen in a
//     real response. "MemberOf placement constraint unsatisfied." is seen
//     in real service events quoting the closest instance's error.
//   - A DRAINING instance fails with reason DRAINING: ECS documents no
//     reason for it (its docs only say draining instances get no new
//     tasks); not verified. Any other status but ACTIVE (INACTIVE,
//     REGISTERING, DEREGISTERING, ...) fails with INACTIVE, ECS's reason for
//     an instance that "cannot be used".
//   - A RunTask in a cluster without ACTIVE or DRAINING instances is an
//     error in ECS, not failures: InvalidParameterException "No Container
//     Instances were found in your cluster." (verified: CloudTrail records
//     and SDK errors quoted in public issues). Place returns an empty plan;
//     the caller checks Registered and answers NoContainerInstancesMessage.
//     StartTask in such a cluster reports MISSING per named instance.
//   - Place requires a request that Validate accepts and panics otherwise:
//     user input is the API layer's to reject, with ECS's messages.
//
// # Determinism
//
// Instances are considered in ID order whatever order they come in, ties
// are broken with rng alone (one IntN call per placement with more than one
// tie), and no map is iterated where order matters. The same instances,
// request and random sequence give the same plan. A nil rng picks the first
// tie in ID order.
//
// # Invariants
//
// The property tests check them on random clusters and requests, and a
// naive reference implementation (reference_test.go) must produce the same
// plans from the same random sequence:
//
//   - No instance gets more CPU, memory, GPUs or task addresses than it
//     has free, nor a
//     static port that is reserved, used, or taken by another task of the
//     plan.
//   - Every placement satisfies the required attributes and every
//     constraint, evaluated against the state the placement saw.
//   - No task goes to an instance that is not ACTIVE or whose agent is
//     disconnected.
//   - A RunTask plan places Count tasks or carries failures, and then no
//     instance could take another task.
//   - Each placement Fits the instance state it was made against, and Fits
//     gives the reason Place gives.
//   - Place never modifies its arguments.
//
// # Cost
//
// NewCluster copies what placement reads into compact arrays, O(n). Columns
// a request needs (an attribute's values, a group's task counts, a memberOf
// expression's result, spread counts) are computed once per view and kept;
// that is where the per-instance map lookups happen. A placement call then
// makes one pass over the instances to find the candidates, and per task
// one pass over the ties of the first strategy (kept from task to task and
// updated from what a placement changes) and deeper strategies only over
// those ties. Per-call buffers come from a pool, so a call allocates almost
// nothing. Only the instance that received a task is re-checked after
// each placement; reporting failures is one more pass.
//
// # Concurrency
//
// Place, Fits and Validate are safe for concurrent use, and so is a
// Cluster (its column caches are guarded by a mutex). The Rand is the
// caller's: *rand.Rand is not safe for concurrent use.
package scheduler
