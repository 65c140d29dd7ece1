package wire

import (
	"berth.dev/berth/internal/shape"
)

// RegisterTaskDefinition stores the next revision of a family. Def has been
// validated and completed (package taskdef); Apply assigns the revision, ARN,
// status and registration stamp.
type RegisterTaskDefinition struct {
	Meta
	Def  *shape.TaskDefinition `json:"def"`
	Tags []shape.Tag           `json:"tags,omitempty"`
}

func (RegisterTaskDefinition) Type() Type     { return TypeRegisterTaskDefinition }
func (RegisterTaskDefinition) Version() uint8 { return 1 }

// DeregisterTaskDefinition marks one revision INACTIVE.
type DeregisterTaskDefinition struct {
	Meta
	Family   string `json:"family"`
	Revision int32  `json:"revision"`
}

func (DeregisterTaskDefinition) Type() Type     { return TypeDeregisterTaskDefinition }
func (DeregisterTaskDefinition) Version() uint8 { return 1 }

// TaskDefinitionRef names one revision as the caller wrote it.
type TaskDefinitionRef struct {
	Input    string `json:"input"`
	Family   string `json:"family"`
	Revision int32  `json:"revision"`
}

// DeleteTaskDefinitions deletes INACTIVE revisions. A revision still in
// use stays DELETE_IN_PROGRESS until CollectGarbage finds it unused:
// version 2 counts a task that has not stopped and an ACTIVE or DRAINING
// service that runs or may roll back to it; version 1
// (DeleteTaskDefinitionsV1) counted tasks only.
type DeleteTaskDefinitions struct {
	Meta
	Refs []TaskDefinitionRef `json:"refs"`

	tasksOnly bool // upgraded from version 1 (never encoded)
}

func (DeleteTaskDefinitions) Type() Type     { return TypeDeleteTaskDefinitions }
func (DeleteTaskDefinitions) Version() uint8 { return 2 }

// ServicesUse reports whether services count as using a revision
// (version 2).
func (c DeleteTaskDefinitions) ServicesUse() bool { return !c.tasksOnly }
