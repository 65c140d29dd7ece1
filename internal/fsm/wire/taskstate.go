package wire

import (
	"berth.dev/berth/internal/shape"
)

// StopTask asks for a task to stop (StopTask, or the control plane itself).
type StopTask struct {
	Meta
	Cluster  string `json:"cluster"`
	TaskID   string `json:"taskId"`
	StopCode string `json:"stopCode"`
	Reason   string `json:"reason"`
}

func (StopTask) Type() Type     { return TypeStopTask }
func (StopTask) Version() uint8 { return 1 }

// TaskStateChange is an agent's report on a task (SubmitTaskStateChange).
// Version 2: container reasons longer than 255 characters are cut to 255
// characters. Version 1 (TaskStateChangeV1, the same members) cut them to
// 255 bytes, which could split a character.
type TaskStateChange struct {
	Meta
	Cluster            string                       `json:"cluster"`
	TaskID             string                       `json:"taskId"`
	Status             string                       `json:"status,omitempty"`
	Reason             string                       `json:"reason,omitempty"`
	Containers         []shape.ContainerStateChange `json:"containers,omitempty"`
	PullStartedAt      *shape.Timestamp             `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *shape.Timestamp             `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt *shape.Timestamp             `json:"executionStoppedAt,omitempty"`

	byteCut bool // upgraded from version 1 (never encoded)
}

func (TaskStateChange) Type() Type     { return TypeTaskStateChange }
func (TaskStateChange) Version() uint8 { return 2 }

// CutsReasonsByBytes reports whether container reasons are cut to 255
// bytes (version 1) rather than 255 characters (version 2).
func (c TaskStateChange) CutsReasonsByBytes() bool { return c.byteCut }

// ContainerStateChange is an agent's report on one container
// (SubmitContainerStateChange). Version 2 cuts the reason to 255
// characters; version 1 (ContainerStateChangeV1) cut it to 255 bytes.
type ContainerStateChange struct {
	Meta
	Cluster string                     `json:"cluster"`
	TaskID  string                     `json:"taskId"`
	Change  shape.ContainerStateChange `json:"change"`

	byteCut bool // upgraded from version 1 (never encoded)
}

func (ContainerStateChange) Type() Type     { return TypeContainerStateChange }
func (ContainerStateChange) Version() uint8 { return 2 }

// CutsReasonsByBytes reports whether the container's reason is cut to 255
// bytes (version 1) rather than 255 characters (version 2).
func (c ContainerStateChange) CutsReasonsByBytes() bool { return c.byteCut }

// TaskHealth is an agent's report of its containers' health.
type TaskHealth struct {
	Meta
	Cluster string            `json:"cluster"`
	TaskID  string            `json:"taskId"`
	Health  map[string]string `json:"health"` // container name → HEALTHY|UNHEALTHY|UNKNOWN
}

func (TaskHealth) Type() Type     { return TypeTaskHealth }
func (TaskHealth) Version() uint8 { return 1 }
