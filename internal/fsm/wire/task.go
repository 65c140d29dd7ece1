package wire

import (
	"berth.dev/berth/internal/shape"
)

// NewTask is one task a RunTask or StartTask places.
type NewTask struct {
	ID           string   `json:"id"`
	InstanceID   string   `json:"instanceId"`
	ContainerIDs []string `json:"containerIds"`
	// CapacityProvider is the task's capacity provider (FARGATE or
	// FARGATE_SPOT), for a FARGATE task.
	CapacityProvider string `json:"capacityProvider,omitempty"`
}

// RunTask creates tasks on the instances the scheduler chose. Apply
// re-checks every placement against the instance's current resources, so
// concurrent plans never over-commit an instance; a placement that no
// longer fits becomes a failure.
type RunTask struct {
	Meta
	Cluster              string              `json:"cluster"`
	Family               string              `json:"family"`
	Revision             int32               `json:"revision"`
	Tasks                []NewTask           `json:"tasks"`
	Group                string              `json:"group"`
	StartedBy            string              `json:"startedBy,omitempty"`
	Overrides            *shape.TaskOverride `json:"overrides,omitempty"`
	Tags                 []shape.Tag         `json:"tags,omitempty"`
	Reserved             Reservation         `json:"reserved"`
	EnableExecuteCommand bool                `json:"enableExecuteCommand,omitempty"`
	// DistinctInstance re-checks, at commit, that no task of Group holds
	// resources on the chosen instance (a concurrent plan may have put one).
	DistinctInstance bool `json:"distinctInstance,omitempty"`
	// AllowInactive lets a service scale on a deregistered revision, as ECS
	// lets existing services do: INACTIVE, and (version 2) also
	// DELETE_IN_PROGRESS, which version 1 refused.
	AllowInactive bool `json:"allowInactive,omitempty"`
	// ClientToken makes the request idempotent for TokenTTL seconds.
	ClientToken string `json:"clientToken,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Failures are the scheduler's, answered with the result.
	Failures []shape.Failure `json:"failures,omitempty"`
	// Network is the awsvpc configuration (version 3): set exactly when the
	// task definition's network mode is awsvpc. Each task then gets the
	// lowest free task address of its instance's task subnet.
	Network *AwsVpc `json:"network,omitempty"`
	// LaunchType is the tasks' launch type ("" is EC2) and PlatformVersion
	// the resolved Fargate platform version of FARGATE tasks (version 3).
	LaunchType      string `json:"launchType,omitempty"`
	PlatformVersion string `json:"platformVersion,omitempty"`

	inactiveOnly bool // upgraded from version 1 (never encoded)
}

func (RunTask) Type() Type     { return TypeRunTask }
func (RunTask) Version() uint8 { return 3 }

// AwsVpc is a validated networkConfiguration.awsvpcConfiguration.
type AwsVpc struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIP string   `json:"assignPublicIp,omitempty"`
}

// AllowsDeleteInProgress reports whether AllowInactive also allows a
// revision whose deletion waits for its users (version 2).
func (c RunTask) AllowsDeleteInProgress() bool { return c.AllowInactive && !c.inactiveOnly }

// Reservation is what one task holds on its container instance.
type Reservation struct {
	CPU      int64 `json:"cpu"`
	Memory   int64 `json:"memory"`
	TCPPorts []int `json:"tcpPorts,omitempty"`
	UDPPorts []int `json:"udpPorts,omitempty"`
	GPUs     int   `json:"gpus,omitempty"`
}
