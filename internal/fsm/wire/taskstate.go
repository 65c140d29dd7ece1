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
}

func (TaskStateChange) Type() Type     { return TypeTaskStateChange }
func (TaskStateChange) Version() uint8 { return 1 }

// ContainerStateChange is an agent's report on one container
// (SubmitContainerStateChange).
type ContainerStateChange struct {
	Meta
	Cluster string                     `json:"cluster"`
	TaskID  string                     `json:"taskId"`
	Change  shape.ContainerStateChange `json:"change"`
}

func (ContainerStateChange) Type() Type     { return TypeContainerStateChange }
func (ContainerStateChange) Version() uint8 { return 1 }

// TaskHealth is an agent's report of its containers' health.
type TaskHealth struct {
	Meta
	Cluster string            `json:"cluster"`
	TaskID  string            `json:"taskId"`
	Health  map[string]string `json:"health"` // container name → HEALTHY|UNHEALTHY|UNKNOWN
}

func (TaskHealth) Type() Type     { return TypeTaskHealth }
func (TaskHealth) Version() uint8 { return 1 }
