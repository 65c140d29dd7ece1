package ecsapi

import (
	"crypto/sha256"
	"fmt"
	"strconv"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// renderService returns the service as ECS shows it: running and pending
// counts (service and per deployment) from its tasks, deployments, the
// events newest first, tags on request.
func (a *API) renderService(snap *state.Snapshot, svc *state.Service, tags bool) *shape.Service {
	sh := *svc.Shape
	group := fsm.ServiceGroup(svc.Name)
	type counts struct{ running, pending int32 }
	byDeployment := map[string]*counts{}
	snap.Tasks(svc.Cluster, "", func(t *state.Task) bool {
		if deref(t.Shape.Group) != group {
			return true
		}
		c := byDeployment[deref(t.Shape.StartedBy)]
		if c == nil {
			c = &counts{}
			byDeployment[deref(t.Shape.StartedBy)] = c
		}
		switch deref(t.Shape.LastStatus) {
		case "RUNNING":
			sh.RunningCount++
			c.running++
		case "PENDING", "PROVISIONING", "ACTIVATING":
			sh.PendingCount++
			c.pending++
		}
		return true
	})
	sh.Deployments = make([]shape.Deployment, 0, len(svc.Deployments))
	for _, d := range svc.Deployments {
		c := byDeployment[d.ID]
		if c == nil {
			c = &counts{}
		}
		sh.Deployments = append(sh.Deployments, shape.Deployment{
			Id: ptr(d.ID), Status: ptr(d.Status), TaskDefinition: ptr(d.TaskDefinition),
			DesiredCount: int32(d.DesiredCount), RunningCount: c.running, PendingCount: c.pending,
			FailedTasks: int32(d.FailedTasks), CreatedAt: shape.NewTimestamp(d.CreatedAt), UpdatedAt: shape.NewTimestamp(d.UpdatedAt),
			LaunchType: sh.LaunchType, RolloutState: shape.DeploymentRolloutState(d.RolloutState),
			RolloutStateReason: optional(d.RolloutStateReason),
		})
	}
	sh.Events = make([]shape.ServiceEvent, 0, len(svc.Events))
	for i := len(svc.Events) - 1; i >= 0; i-- {
		e := svc.Events[i]
		sh.Events = append(sh.Events, shape.ServiceEvent{Id: ptr(eventID(deref(sh.ServiceArn), e)), CreatedAt: shape.NewTimestamp(e.At), Message: ptr(e.Message)})
	}
	if tags {
		sh.Tags = orEmpty(sh.Tags)
	} else {
		sh.Tags = nil
	}
	return &sh
}

// eventID is a stable UUID-shaped ID for an event.
func eventID(serviceArn string, e state.Event) string {
	b := sha256.Sum256([]byte(serviceArn + "\x00" + strconv.FormatInt(e.At.UnixNano(), 10) + "\x00" + e.Message))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
