package state

import (
	"fmt"

	"berth.dev/berth/internal/shape"
)

// TaskDefinition is one revision of a task definition family.
type TaskDefinition struct {
	Family   string                `json:"family"`
	Revision int32                 `json:"revision"`
	Def      *shape.TaskDefinition `json:"def"`
	Tags     []shape.Tag           `json:"tags,omitempty"`
}

// TaskDefinitionKey orders revisions by family, then numerically by revision.
func TaskDefinitionKey(family string, revision int32) string {
	return fmt.Sprintf("%s:%010d", family, revision)
}

func (t *TaskDefinition) key() string { return TaskDefinitionKey(t.Family, t.Revision) }

// Family keeps a task definition family's revision counter. It outlives the
// family's revisions: a family whose revisions were all deleted continues its
// numbering on the next registration.
type Family struct {
	Name         string `json:"name"`
	LastRevision int32  `json:"lastRevision"`
	// Active counts the family's ACTIVE revisions; Live counts those not deleted.
	Active int32 `json:"active"`
	Live   int32 `json:"live"`
}

// ContainerInstance is a registered container instance. Shape's counts and
// remainingResources are derived at read time and not kept here.
type ContainerInstance struct {
	ID      string                   `json:"id"`
	Cluster string                   `json:"cluster"`
	Shape   *shape.ContainerInstance `json:"shape"`
}

// Task is a task. (Tasks are created by the scheduler; see later packages.)
type Task struct {
	ID      string      `json:"id"`
	Cluster string      `json:"cluster"`
	Shape   *shape.Task `json:"shape"`
}

// AccountSetting is an account setting explicitly set for a principal. The
// account default is stored under the account's root principal with
// Default set.
type AccountSetting struct {
	Principal string `json:"principal"`
	Name      string `json:"name"`
	Value     string `json:"value"`
}

func (a *AccountSetting) key() string { return a.Principal + "\x00" + a.Name }
