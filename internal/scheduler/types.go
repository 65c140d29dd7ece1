package scheduler

import (
	"errors"
	"time"

	"berth.dev/berth/internal/cql"
)

// Container instance statuses the scheduler distinguishes. Any other status
// (REGISTERING, REGISTRATION_FAILED, DEREGISTERING, INACTIVE, "") makes an
// instance unusable with reason INACTIVE.
const (
	StatusActive   = "ACTIVE"
	StatusDraining = "DRAINING"
	StatusInactive = "INACTIVE"
)

// Failure reasons, as ECS writes them in RunTask and StartTask failures[].
const (
	// ReasonMissing: StartTask named a container instance that is not in
	// the cluster. Failure.ARN is the identifier as given.
	ReasonMissing = "MISSING"
	// ReasonInactive: the instance is deregistered (or in any status other
	// than ACTIVE and DRAINING) and cannot be used.
	ReasonInactive = "INACTIVE"
	// ReasonDraining: the instance is DRAINING. Not an ECS-documented
	// reason; see the package documentation.
	ReasonDraining = "DRAINING"
	// ReasonAgent: the instance's agent is disconnected.
	ReasonAgent = "AGENT"
	// ReasonCPU, ReasonMemory, ReasonPorts, ReasonPortsUDP and ReasonGPU:
	// the instance lacks that resource ("RESOURCE:" + the resource name of
	// registeredResources).
	ReasonCPU      = "RESOURCE:CPU"
	ReasonMemory   = "RESOURCE:MEMORY"
	ReasonPorts    = "RESOURCE:PORTS"
	ReasonPortsUDP = "RESOURCE:PORTS_UDP"
	ReasonGPU      = "RESOURCE:GPU"
	// ReasonENI: the instance has no free task network address (an awsvpc
	// task needs one; ECS counts elastic network interfaces).
	ReasonENI = "RESOURCE:ENI"
	// ReasonAttribute: the instance lacks an attribute the task definition
	// requires (requiresAttributes).
	ReasonAttribute = "ATTRIBUTE"
	// ReasonDistinctInstance and ReasonMemberOf: a placement constraint
	// rules the instance out.
	ReasonDistinctInstance = "DistinctInstance placement constraint unsatisfied."
	ReasonMemberOf         = "MemberOf placement constraint unsatisfied."
)

// Strategy and constraint types and fields, spelled as in the ECS API.
const (
	StrategyRandom  = "random"
	StrategySpread  = "spread"
	StrategyBinpack = "binpack"

	FieldCPU        = "cpu"
	FieldMemory     = "memory"
	FieldInstanceID = "instanceId"
	FieldHost       = "host"
	// FieldAttributePrefix starts a spread field naming an attribute, as in
	// attribute:ecs.availability-zone.
	FieldAttributePrefix = "attribute:"

	ConstraintDistinctInstance = "distinctInstance"
	ConstraintMemberOf         = "memberOf"
)

// Limits of a request.
const (
	MaxStrategies = 5 // placement strategy objects per RunTask or service
	// MaxConstraints: ECS's 10 of the task definition and the request
	// together, and berth's own rule (served subnets, Fargate instances).
	MaxConstraints = 11
)

// NoContainerInstancesMessage is ECS's message for a RunTask in a cluster
// without registered (ACTIVE or DRAINING) container instances; ECS answers
// InvalidParameterException with it rather than failures.
const NoContainerInstancesMessage = "No Container Instances were found in your cluster."

// ErrInvalidRequest wraps every error of Request.Validate.
var ErrInvalidRequest = errors.New("invalid placement request")

// Resources is an amount of instance resources.
type Resources struct {
	// CPU in CPU units (1024 per vCPU) and Memory in MiB.
	CPU, Memory int64
	// TCPPorts and UDPPorts are host ports.
	TCPPorts, UDPPorts []int
	// GPUs is a number of GPUs.
	GPUs int
	// ENIs is a number of task network addresses (awsvpc tasks).
	ENIs int
}

// Instance is the scheduler's view of one container instance. Place, Fits
// and Cluster only read it.
type Instance struct {
	// ID is the container instance ID (the last part of its ARN). IDs are
	// unique within one call.
	ID string
	// ARN is the container instance ARN, used in failures.
	ARN string
	// Status is ACTIVE, DRAINING, INACTIVE, ...
	Status string
	// Connected is agentConnected.
	Connected bool
	// Attributes holds every attribute, the built-in ecs.* ones included.
	Attributes map[string]string
	// Registered is registeredResources. The ports listed there are
	// reserved: no task may use them.
	Registered Resources
	// Used is what tasks whose desired status is RUNNING hold, their
	// static host ports included.
	Used Resources
	// GroupCounts counts the tasks holding resources per task group.
	GroupCounts map[string]int
	// Tasks counts the tasks holding resources (runningTasksCount).
	Tasks int
	// AgentVersion, EC2InstanceID and RegisteredAt feed the cluster query
	// language.
	AgentVersion  string
	EC2InstanceID string
	RegisteredAt  time.Time
}

// Task is the reservation of one task.
type Task struct {
	// CPU in CPU units. Memory in MiB: the caller computes the
	// reservation (task memory, else the sum over containers of
	// memoryReservation, else memory).
	CPU, Memory int64
	// TCPPorts and UDPPorts are the static host ports of the task.
	// Dynamic ports (hostPort 0) are not listed.
	TCPPorts, UDPPorts []int
	// GPUs is the number of GPUs the task needs.
	GPUs int
	// ENIs is the number of task network addresses the task needs: 1 in
	// the awsvpc network mode, else 0.
	ENIs int
}

// Attribute is one entry of a task definition's requiresAttributes.
type Attribute struct {
	Name string
	// Value, when set, must equal the instance's value.
	Value *string
}

// Constraint is a placement constraint.
type Constraint struct {
	// Type is distinctInstance or memberOf.
	Type string
	// Expression is the parsed memberOf expression; nil for
	// distinctInstance.
	Expression *cql.Expr
}

// Strategy is a placement strategy.
type Strategy struct {
	// Type is random, spread or binpack.
	Type string
	// Field is cpu or memory for binpack (any case); instanceId, host or
	// attribute:NAME for spread; unused for random.
	Field string
}

// Request asks for tasks to be placed.
type Request struct {
	// Count is the number of tasks to place (RunTask). Ignored when
	// Instances is set.
	Count int
	// Task is the reservation of each task.
	Task Task
	// Group is the task group (family:NAME, service:NAME, or the
	// request's group). distinctInstance and spread count the group's
	// tasks; with an empty group they count only this request's tasks.
	Group string
	// RequiredAttributes is the task definition's requiresAttributes.
	RequiredAttributes []Attribute
	// Constraints are evaluated in order; the first unsatisfied one is the
	// failure reason.
	Constraints []Constraint
	// Strategies are applied in order, each breaking the ties the
	// previous ones left. Empty means random.
	Strategies []Strategy
	// Instances, when set, switches to StartTask: one task on each named
	// instance ID, in order, with no strategy.
	Instances []string
}

// Placement is one placed task.
type Placement struct {
	InstanceID string
}

// Failure is one entry of failures[] in a RunTask or StartTask response.
type Failure struct {
	// ARN is the container instance ARN (for MISSING, the identifier as
	// given).
	ARN string
	// Reason is one of the Reason constants.
	Reason string
	// Detail is optional in ECS's Failure. Place sets it for ATTRIBUTE
	// (AttributeDetail) and leaves it empty otherwise.
	Detail string
}

// AttributeDetail is the detail of an ATTRIBUTE failure: the required
// attribute the instance lacks, as "Missing attribute: NAME", or
// "Missing attribute: NAME=VALUE" when the task requires a value.
func AttributeDetail(a Attribute) string {
	if a.Value != nil {
		return "Missing attribute: " + a.Name + "=" + *a.Value
	}
	return "Missing attribute: " + a.Name
}

// Plan is the outcome of Place. Placements are in the order the tasks were
// placed; len(Placements) tasks were placed and the rest of the request was
// not. Failures are in instance ID order (StartTask: request order), each
// (ARN, Reason) pair once.
type Plan struct {
	Placements []Placement
	Failures   []Failure
}

// Rand is the random source Place breaks ties with. *rand.Rand of
// math/rand/v2 implements it.
type Rand interface {
	// IntN returns a number in [0, n); n > 0.
	IntN(n int) int
}
