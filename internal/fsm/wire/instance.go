package wire

import (
	"berth.dev/berth/internal/shape"
)

// RegisterContainerInstance registers a container instance, or re-registers
// an existing one (same previous ARN, or same EC2 instance ID in the cluster).
type RegisterContainerInstance struct {
	Meta
	Cluster string `json:"cluster"`
	// NewID is the ID a new instance gets.
	NewID string `json:"newId"`
	// PreviousID is the ID of the caller's previous registration, if any.
	PreviousID      string                 `json:"previousId,omitempty"`
	EC2InstanceID   string                 `json:"ec2InstanceId,omitempty"`
	TotalResources  []shape.Resource       `json:"totalResources,omitempty"`
	VersionInfo     *shape.VersionInfo     `json:"versionInfo,omitempty"`
	Attributes      []shape.Attribute      `json:"attributes,omitempty"`
	PlatformDevices []shape.PlatformDevice `json:"platformDevices,omitempty"`
	Tags            []shape.Tag            `json:"tags,omitempty"`
	// TaskRange and TaskSubnetBits (version 2), set when the instance can
	// run awsvpc tasks: an instance without a task subnet (attribute
	// berth.task-subnet) gets the lowest free block of TaskRange with
	// prefix length TaskSubnetBits that no registered instance of any
	// cluster holds; one that has a task subnet keeps it.
	TaskRange      string `json:"taskRange,omitempty"`
	TaskSubnetBits int    `json:"taskSubnetBits,omitempty"`
}

func (RegisterContainerInstance) Type() Type     { return TypeRegisterContainerInstance }
func (RegisterContainerInstance) Version() uint8 { return 2 }

// DeregisterContainerInstance marks an instance INACTIVE.
type DeregisterContainerInstance struct {
	Meta
	Cluster string `json:"cluster"`
	ID      string `json:"id"`
	Force   bool   `json:"force,omitempty"`
}

func (DeregisterContainerInstance) Type() Type     { return TypeDeregisterContainerInstance }
func (DeregisterContainerInstance) Version() uint8 { return 1 }

// InstanceRef names an instance as the caller wrote it.
type InstanceRef struct {
	Input string `json:"input"`
	ID    string `json:"id"`
}

// UpdateContainerInstancesState moves instances between ACTIVE and DRAINING.
type UpdateContainerInstancesState struct {
	Meta
	Cluster string        `json:"cluster"`
	Refs    []InstanceRef `json:"refs"`
	Status  string        `json:"status"`
}

func (UpdateContainerInstancesState) Type() Type     { return TypeUpdateContainerInstancesState }
func (UpdateContainerInstancesState) Version() uint8 { return 1 }
