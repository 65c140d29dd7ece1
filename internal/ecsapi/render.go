package ecsapi

import (
	"strconv"
	"time"

	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// instanceLoad is what the tasks on an instance hold.
type instanceLoad struct {
	running, pending int32
	cpu, memory      int64
	groups           []string
}

// loadOf sums the tasks of ci that hold resources (desired status RUNNING).
func loadOf(snap *state.Snapshot, ci *state.ContainerInstance) instanceLoad {
	var l instanceLoad
	arn := deref(ci.Shape.ContainerInstanceArn)
	snap.Tasks(ci.Cluster, "", func(t *state.Task) bool {
		if deref(t.Shape.ContainerInstanceArn) != arn || deref(t.Shape.DesiredStatus) != "RUNNING" {
			return true
		}
		l.running++
		if deref(t.Shape.LastStatus) == "PENDING" {
			l.pending++
		}
		cpu, _ := strconv.ParseInt(deref(t.Shape.Cpu), 10, 64)
		mem, _ := strconv.ParseInt(deref(t.Shape.Memory), 10, 64)
		l.cpu += cpu
		l.memory += mem
		if g := deref(t.Shape.Group); g != "" {
			l.groups = append(l.groups, g)
		}
		return true
	})
	return l
}

// renderInstance returns the container instance as ECS shows it: counts and
// remaining resources derived from its tasks, tags and health on request.
func (a *API) renderInstance(snap *state.Snapshot, rec *state.ContainerInstance, tags, health bool) *shape.ContainerInstance {
	ci := *rec.Shape
	l := loadOf(snap, rec)
	ci.RunningTasksCount = l.running
	ci.PendingTasksCount = l.pending
	registered := make([]shape.Resource, 0, len(ci.RegisteredResources))
	for _, r := range ci.RegisteredResources {
		if r.Type == nil && resourceTypes[deref(r.Name)] != "" {
			r.Type = ptr(resourceTypes[deref(r.Name)]) // stored before types were filled in
		}
		// ECS shows a STRINGSET's list even when it is empty ("PORTS_UDP": []).
		if deref(r.Type) == "STRINGSET" {
			r.StringSetValue = orEmpty(r.StringSetValue)
		}
		registered = append(registered, r)
	}
	ci.RegisteredResources = registered
	ci.RemainingResources = make([]shape.Resource, 0, len(ci.RegisteredResources))
	for _, r := range ci.RegisteredResources {
		rem := r
		if r.StringSetValue != nil {
			rem.StringSetValue = append([]string{}, r.StringSetValue...)
		}
		switch deref(r.Name) {
		case "CPU":
			rem.IntegerValue = r.IntegerValue - int32(l.cpu)
		case "MEMORY":
			rem.IntegerValue = r.IntegerValue - int32(l.memory)
		}
		ci.RemainingResources = append(ci.RemainingResources, rem)
	}
	ci.Attributes = orEmpty(ci.Attributes)
	if tags {
		ci.Tags = orEmpty(ci.Tags)
	} else {
		ci.Tags = nil
	}
	if health {
		status := shape.InstanceHealthCheckStateOk
		if !ci.AgentConnected {
			status = shape.InstanceHealthCheckStateInsufficientData
		}
		ci.HealthStatus = &shape.ContainerInstanceHealthStatus{
			OverallStatus: status,
			Details: []shape.InstanceHealthCheckResult{{
				Type:   shape.InstanceHealthCheckTypeContainerRuntime,
				Status: status,
			}},
		}
	}
	return &ci
}

// queryTarget adapts a container instance to the cluster query language.
func (a *API) queryTarget(snap *state.Snapshot, ci *state.ContainerInstance) *queryInstance {
	return &queryInstance{snap: snap, ci: ci}
}

type queryInstance struct {
	snap *state.Snapshot
	ci   *state.ContainerInstance
	load *instanceLoad
}

func (q *queryInstance) loaded() *instanceLoad {
	if q.load == nil {
		l := loadOf(q.snap, q.ci)
		q.load = &l
	}
	return q.load
}

func (q *queryInstance) Attribute(name string) (string, bool) {
	for _, at := range q.ci.Shape.Attributes {
		if deref(at.Name) == name {
			return deref(at.Value), true
		}
	}
	return "", false
}

func (q *queryInstance) AgentConnected() bool { return q.ci.Shape.AgentConnected }

func (q *queryInstance) AgentVersion() string {
	if q.ci.Shape.VersionInfo == nil {
		return ""
	}
	return deref(q.ci.Shape.VersionInfo.AgentVersion)
}

func (q *queryInstance) EC2InstanceID() string { return deref(q.ci.Shape.Ec2InstanceId) }

func (q *queryInstance) RegisteredAt() time.Time { return q.ci.Shape.RegisteredAt.Time() }

func (q *queryInstance) RunningTasksCount() int { return int(q.loaded().running) }

func (q *queryInstance) TaskGroups() []string { return q.loaded().groups }
