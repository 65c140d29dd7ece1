package fsm

import (
	"berth.dev/berth/internal/fsm/wire"
	"strings"
	"time"
	"unicode/utf8"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// Task statuses in lifecycle order.
var statusOrder = map[string]int{
	"PROVISIONING": 0, "PENDING": 1, "ACTIVATING": 2, "RUNNING": 3,
	"DEACTIVATING": 4, "STOPPING": 5, "DEPROVISIONING": 6, "STOPPED": 7,
}

func clusterTask(tx *state.Txn, cluster, id string) (*state.Task, error) {
	if _, err := ActiveCluster(&tx.Snapshot, cluster); err != nil {
		return nil, err
	}
	t := tx.Task(id)
	if t == nil || t.Cluster != cluster {
		return nil, ErrTaskNotFound(id)
	}
	return t, nil
}

// copyTask returns a copy of t whose shape and containers may be changed.
func copyTask(t *state.Task) *state.Task {
	cp := *t
	sh := *t.Shape
	sh.Containers = append([]shape.Container(nil), t.Shape.Containers...)
	cp.Shape = &sh
	return &cp
}

func applyStopTask(m *Machine, tx *state.Txn, c *wire.StopTask) (any, error) {
	old, err := clusterTask(tx, c.Cluster, c.TaskID)
	if err != nil {
		return nil, err
	}
	if deref(old.Shape.DesiredStatus) == "STOPPED" {
		return old, nil // already stopping or stopped: wire.StopTask answers the task
	}
	t := copyTask(old)
	requestStop(t, c.Now, c.StopCode, c.Reason)
	svc := serviceOf(tx, t)
	if svc != nil && deref(t.Shape.LastStatus) != "STOPPED" {
		events, err := m.releaseTask(tx, t, svc.Name, c.Now, true)
		if err != nil {
			return nil, err
		}
		if err := recordServiceEvents(tx, svc, c.Now, events); err != nil {
			return nil, err
		}
	}
	return t, tx.Put(state.TableTasks, t)
}

// requestStop moves a task's desired status to STOPPED and its last status
// to STOPPING, as ECS shows a task being stopped.
func requestStop(t *state.Task, now time.Time, code, reason string) {
	sh := t.Shape
	sh.DesiredStatus = ptr("STOPPED")
	if deref(sh.LastStatus) != "STOPPED" {
		sh.LastStatus = ptr("STOPPING")
		sh.StoppingAt = shape.NewTimestamp(now)
	}
	if sh.StopCode == "" {
		sh.StopCode = shape.TaskStopCode(code)
		sh.StoppedReason = optional(reason)
	}
	sh.Version++
}

func applyTaskStateChange(m *Machine, tx *state.Txn, c *wire.TaskStateChange) (any, error) {
	old, err := clusterTask(tx, c.Cluster, c.TaskID)
	if err != nil {
		return nil, err
	}
	t := copyTask(old)
	sh := t.Shape
	changed := false
	for _, cc := range c.Containers {
		if i := containerIndex(sh, deref(cc.ContainerName)); i >= 0 {
			changed = applyContainerChange(&sh.Containers[i], cc, c.CutsReasonsByBytes()) || changed
		}
	}
	if c.PullStartedAt != nil && sh.PullStartedAt == nil {
		sh.PullStartedAt, changed = c.PullStartedAt, true
	}
	if c.PullStoppedAt != nil {
		sh.PullStoppedAt, changed = c.PullStoppedAt, true
	}
	if c.ExecutionStoppedAt != nil && sh.ExecutionStoppedAt == nil {
		sh.ExecutionStoppedAt, changed = c.ExecutionStoppedAt, true
	}
	cur := deref(sh.LastStatus)
	next := c.Status
	if next != "" && statusOrder[next] > statusOrder[cur] {
		changed = true
		switch next {
		case "RUNNING":
			sh.LastStatus = ptr("RUNNING")
			if sh.StartedAt == nil {
				sh.StartedAt = shape.NewTimestamp(c.Now)
			}
		case "STOPPING", "DEACTIVATING":
			// The agent is stopping the task on its own (an essential
			// container exited, or it failed to start).
			requestStop(t, c.Now, agentStopCode(sh), c.Reason)
			sh.Version-- // counted once below
		case "STOPPED":
			if deref(sh.DesiredStatus) != "STOPPED" || sh.StopCode == "" {
				sh.DesiredStatus = ptr("STOPPED")
				if sh.StopCode == "" {
					sh.StopCode = shape.TaskStopCode(agentStopCode(sh))
					sh.StoppedReason = optional(c.Reason)
				}
			}
			if sh.StoppingAt == nil {
				sh.StoppingAt = shape.NewTimestamp(c.Now)
			}
			sh.LastStatus = ptr("STOPPED")
			sh.StoppedAt = shape.NewTimestamp(c.Now)
			if sh.ExecutionStoppedAt == nil {
				sh.ExecutionStoppedAt = shape.NewTimestamp(c.Now)
			}
			for i := range sh.Containers {
				if deref(sh.Containers[i].LastStatus) != "STOPPED" {
					sh.Containers[i].LastStatus = ptr("STOPPED")
				}
			}
		default:
			sh.LastStatus = ptr(next)
		}
	}
	if !changed {
		return old, nil
	}
	sh.Version++
	if err := m.taskLoadBalancing(tx, old, t, c.Now); err != nil {
		return nil, err
	}
	return t, tx.Put(state.TableTasks, t)
}

// taskLoadBalancing follows a task's status change with its service's load
// balancers: registered when it reaches RUNNING, deregistered (without a
// hold: the task is stopping on its own) when it stops.
func (m *Machine) taskLoadBalancing(tx *state.Txn, old, t *state.Task, now time.Time) error {
	svc := serviceOf(tx, t)
	if svc == nil {
		return nil
	}
	var events []string
	var err error
	switch was, is := deref(old.Shape.LastStatus), deref(t.Shape.LastStatus); {
	case is == "RUNNING" && was != "RUNNING":
		events, err = registerTaskTargets(tx, t, svc, now)
		if err == nil {
			var more []string
			more, err = m.registerTaskInstance(tx, t, svc, now)
			events = append(events, more...)
		}
	case statusOrder[is] > statusOrder["RUNNING"]:
		events, err = m.releaseTask(tx, t, svc.Name, now, false)
	}
	if err != nil {
		return err
	}
	return recordServiceEvents(tx, svc, now, events)
}

// agentStopCode is the stop code of a task the agent stops on its own: it
// failed to start if it never ran, else an essential container exited.
func agentStopCode(sh *shape.Task) string {
	if sh.StartedAt == nil {
		return string(shape.TaskStopCodeTaskFailedToStart)
	}
	return string(shape.TaskStopCodeEssentialContainerExited)
}

func containerIndex(sh *shape.Task, name string) int {
	for i := range sh.Containers {
		if deref(sh.Containers[i].Name) == name {
			return i
		}
	}
	return -1
}

var containerOrder = map[string]int{"PENDING": 0, "RUNNING": 1, "STOPPED": 2}

// applyContainerChange merges an agent's container report; statuses only
// move forward.
func applyContainerChange(ct *shape.Container, cc shape.ContainerStateChange, byteCut bool) bool {
	changed := false
	if cc.RuntimeId != nil && deref(ct.RuntimeId) != *cc.RuntimeId {
		ct.RuntimeId, changed = cc.RuntimeId, true
	}
	if cc.ImageDigest != nil && deref(ct.ImageDigest) != *cc.ImageDigest {
		ct.ImageDigest, changed = cc.ImageDigest, true
	}
	if cc.NetworkBindings != nil {
		ct.NetworkBindings, changed = cc.NetworkBindings, true
	}
	if cc.ExitCode != nil && (ct.ExitCode == nil || *ct.ExitCode != *cc.ExitCode) {
		ct.ExitCode, changed = cc.ExitCode, true
	}
	if cc.Reason != nil && deref(ct.Reason) != *cc.Reason {
		r := cutReason(*cc.Reason, byteCut)
		ct.Reason, changed = &r, true
	}
	if s := deref(cc.Status); s != "" && containerOrder[s] > containerOrder[deref(ct.LastStatus)] {
		ct.LastStatus, changed = ptr(s), true
	}
	return changed
}

func applyContainerStateChange(m *Machine, tx *state.Txn, c *wire.ContainerStateChange) (any, error) {
	old, err := clusterTask(tx, c.Cluster, c.TaskID)
	if err != nil {
		return nil, err
	}
	t := copyTask(old)
	i := containerIndex(t.Shape, deref(c.Change.ContainerName))
	if i < 0 {
		return nil, apierr.InvalidParameterf("The task has no container named %s.", deref(c.Change.ContainerName))
	}
	if !applyContainerChange(&t.Shape.Containers[i], c.Change, c.CutsReasonsByBytes()) {
		return old, nil
	}
	t.Shape.Version++
	return t, tx.Put(state.TableTasks, t)
}

func applyTaskHealth(m *Machine, tx *state.Txn, c *wire.TaskHealth) (any, error) {
	old, err := clusterTask(tx, c.Cluster, c.TaskID)
	if err != nil {
		return nil, err
	}
	t := copyTask(old)
	sh := t.Shape
	changed := false
	for i := range sh.Containers {
		h, ok := c.Health[deref(sh.Containers[i].Name)]
		if ok && string(sh.Containers[i].HealthStatus) != h {
			sh.Containers[i].HealthStatus = shape.HealthStatus(h)
			changed = true
		}
	}
	if !changed {
		return old, nil
	}
	t.Health = c.Health
	sh.HealthStatus = taskHealth(tx.TaskDefinition(t.Family, t.Revision), sh.Containers)
	sh.Version++
	if svc := serviceOf(tx, t); svc != nil && deref(sh.DesiredStatus) != "STOPPED" {
		events, err := m.followTaskHealth(tx, t, svc.Name, c.Now)
		if err != nil {
			return nil, err
		}
		if err := recordServiceEvents(tx, svc, c.Now, events); err != nil {
			return nil, err
		}
	}
	return t, tx.Put(state.TableTasks, t)
}

// taskHealth is ECS's task health, as the ECS agent computes it: over the
// essential containers that have a health check (containers without one
// report nothing), any UNHEALTHY → UNHEALTHY, else any UNKNOWN → UNKNOWN,
// else HEALTHY. When no essential container has a health check, the
// non-essential containers' checks decide (AWS's documented rule). A task
// without health checks stays UNKNOWN.
func taskHealth(td *state.TaskDefinition, containers []shape.Container) shape.HealthStatus {
	if td == nil {
		return shape.HealthStatusUnknown
	}
	essential, checked := map[string]bool{}, map[string]bool{}
	anyEssentialCheck := false
	for _, cd := range td.Def.ContainerDefinitions {
		name := deref(cd.Name)
		essential[name] = cd.Essential == nil || *cd.Essential
		checked[name] = cd.HealthCheck != nil
		anyEssentialCheck = anyEssentialCheck || essential[name] && checked[name]
	}
	counted, unknown := 0, false
	for _, ct := range containers {
		name := deref(ct.Name)
		if !checked[name] || anyEssentialCheck && !essential[name] {
			continue
		}
		counted++
		switch ct.HealthStatus {
		case shape.HealthStatusUnhealthy:
			return shape.HealthStatusUnhealthy
		case shape.HealthStatusHealthy:
		default:
			unknown = true
		}
	}
	if counted == 0 || unknown {
		return shape.HealthStatusUnknown
	}
	return shape.HealthStatusHealthy
}

// MaxReasonLength is ECS's limit of a container's reason, in characters.
const MaxReasonLength = 255

// cutReason cuts a container reason to MaxReasonLength characters. Version
// 1 reports (byteCut) were cut to that many bytes, which can split a
// character: their invalid bytes become U+FFFD one by one, as a snapshot's
// JSON encoding turns them, so a replica that applied the entry and one
// restored from a snapshot hold the same string.
func cutReason(r string, byteCut bool) string {
	if byteCut {
		if len(r) <= MaxReasonLength {
			return r
		}
		r = r[:MaxReasonLength]
		if utf8.ValidString(r) {
			return r
		}
		var b strings.Builder
		for i := 0; i < len(r); {
			c, size := utf8.DecodeRuneInString(r[i:])
			if c == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(r[i : i+size])
			}
			i += size
		}
		return b.String()
	}
	n := 0
	for i := range r {
		if n == MaxReasonLength {
			return r[:i]
		}
		n++
	}
	return r
}
