package agentapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func (a *API) stream(w http.ResponseWriter, r *http.Request, body []byte) {
	var req agentproto.StreamRequest
	if err := decode(body, &req); err != nil {
		writeError(w, err)
		return
	}
	ci, err := a.instanceOf(clusterName(req.Cluster), req.ContainerInstanceArn)
	if err != nil {
		writeError(w, err)
		return
	}
	if deref(ci.Shape.Status) == "INACTIVE" {
		writeError(w, apierr.InvalidParameterf("Container instance %s is deregistered.", req.ContainerInstanceArn))
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, apierr.New(apierr.Server, "streaming is not supported by this connection"))
		return
	}
	s := &session{id: a.cfg.SessionPrefix + randomID(), instance: ci.ID, ctl: make(chan agentproto.Message, 16), done: make(chan struct{})}
	a.mu.Lock()
	if old := a.sessions[ci.ID]; old != nil {
		close(old.done)
	}
	a.sessions[ci.ID] = s
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		if a.sessions[ci.ID] == s {
			delete(a.sessions, ci.ID)
		}
		a.mu.Unlock()
		a.applyBackground(wire.InstanceConnection{Meta: wire.Meta{Now: a.cfg.Now()}, InstanceID: ci.ID, Session: s.id, Connected: false})
	}()
	if _, err := a.cfg.Proposer.Apply(r.Context(), wire.InstanceConnection{Meta: wire.Meta{Now: a.cfg.Now()}, InstanceID: ci.ID, Session: s.id, Connected: true}); err != nil {
		writeError(w, err)
		return
	}
	a.log.Info("agent connected", "instance", ci.ID, "session", s.id)
	defer a.log.Info("agent disconnected", "instance", ci.ID, "session", s.id)

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	enc := json.NewEncoder(w)
	send := func(m agentproto.Message) bool {
		if err := enc.Encode(m); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	sent := map[string]sentTask{} // what this stream carried, by task ARN
	full := true
	var sentNet *agentproto.HostNetwork
	for {
		snap := a.cfg.State.Snapshot()
		inst, instCh := snap.WatchInstance(ci.ID)
		if inst == nil || deref(inst.Shape.Status) == "INACTIVE" {
			send(agentproto.Message{Type: agentproto.TypeDeregistered})
			return
		}
		// The task network first: a task's address needs the host's subnet.
		hostNet, netCh := hostNetwork(snap, ci.ID, a.cfg.TaskRange)
		if !sameNetwork(sentNet, hostNet) {
			if !send(agentproto.Message{Type: agentproto.TypeNetwork, Network: hostNet}) {
				return
			}
			sentNet = hostNet
		}
		msg := agentproto.Message{Type: agentproto.TypeTasks, Full: full, Tasks: []agentproto.Task{}}
		seen := make(map[string]bool, len(sent))
		now := a.cfg.Now()
		var drainEnd time.Time // the earliest drain still holding a task back
		tasksCh := snap.WatchInstanceTasks(ci.ID, func(t *state.Task) bool {
			if deref(t.Shape.LastStatus) == "STOPPED" {
				return true
			}
			arn := deref(t.Shape.TaskArn)
			seen[arn] = true
			if t.Draining(now) && (drainEnd.IsZero() || t.DrainUntil.Before(drainEnd)) {
				drainEnd = t.DrainUntil
			}
			cur := sentTask{desired: agentDesired(t, now), stopCode: string(t.Shape.StopCode)}
			if t.Draining(now) {
				cur.stopCode = ""
			}
			prev, carried := sent[arn]
			switch {
			case !carried:
				msg.Tasks = append(msg.Tasks, agentTask(snap, inst, t, a.cfg.Namer.Region, now))
			case prev != cur:
				msg.Tasks = append(msg.Tasks, desiredOnly(t, now))
			default:
				return true
			}
			sent[arn] = cur
			return true
		})
		for arn := range sent {
			if !seen[arn] {
				msg.Removed = append(msg.Removed, arn)
				delete(sent, arn)
			}
		}
		if full || len(msg.Tasks) > 0 || len(msg.Removed) > 0 {
			if !send(msg) {
				return
			}
			full = false
		}
		var drained <-chan time.Time
		var drainTimer *time.Timer
		if !drainEnd.IsZero() {
			drainTimer = time.NewTimer(drainEnd.Sub(now))
			drained = drainTimer.C
		}
		select {
		case <-drained: // a task's targets finished draining: stop it now
		case <-instCh:
		case <-tasksCh:
		case <-netCh:
		case <-snap.Abandoned(): // a snapshot replaced the state: look again
		case m := <-s.ctl:
			if !send(m) {
				return
			}
		case <-heartbeat.C:
			if !send(agentproto.Message{Type: agentproto.TypeHeartbeat}) {
				return
			}
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		}
		if drainTimer != nil {
			drainTimer.Stop()
		}
	}
}

// sentTask is what a stream last told its agent about a task.
type sentTask struct{ desired, stopCode string }

// agentDesired is the desired status the agent is told: RUNNING while the
// task's load-balancer targets drain, although the task's desired status
// is already STOPPED (ECS stops it only when the deregistration delay
// ends).
func agentDesired(t *state.Task, now time.Time) string {
	if t.Draining(now) {
		return "RUNNING"
	}
	return deref(t.Shape.DesiredStatus)
}

// desiredOnly is a delta entry for a task the stream already carried.
func desiredOnly(t *state.Task, now time.Time) agentproto.Task {
	sh := t.Shape
	out := agentproto.Task{TaskArn: deref(sh.TaskArn), DesiredStatus: agentDesired(t, now), LastStatus: deref(sh.LastStatus),
		StopCode: string(sh.StopCode), StoppedReason: deref(sh.StoppedReason), Version: sh.Version}
	if t.Draining(now) {
		out.StopCode, out.StoppedReason = "", ""
	}
	return out
}

// agentTask is what the agent needs to run or stop t.
func agentTask(snap *state.Snapshot, ci *state.ContainerInstance, t *state.Task, region string, now time.Time) agentproto.Task {
	sh := t.Shape
	out := agentproto.Task{
		TaskArn: deref(sh.TaskArn), ClusterArn: deref(sh.ClusterArn),
		DesiredStatus: agentDesired(t, now), LastStatus: deref(sh.LastStatus),
		StopCode: string(sh.StopCode), StoppedReason: deref(sh.StoppedReason),
		Overrides: sh.Overrides, CreatedAt: sh.CreatedAt.Time(), Version: sh.Version,
	}
	if t.Draining(now) {
		out.StopCode, out.StoppedReason = "", ""
	}
	if td := snap.TaskDefinition(t.Family, t.Revision); td != nil {
		out.Definition = td.Def
	}
	for _, c := range sh.Containers {
		out.Containers = append(out.Containers, agentproto.Container{Name: deref(c.Name), ContainerArn: deref(c.ContainerArn)})
	}
	out.Network = taskNetwork(ci, t, region)
	out.LaunchType, out.Group, out.Tags = string(sh.LaunchType), deref(sh.Group), tagMap(sh.Tags)
	if ci != nil && ci.Shape != nil {
		out.InstanceTags = tagMap(ci.Shape.Tags)
	}
	return out
}

// tagMap is tags as a map; nil when there are none.
func tagMap(tags []shape.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[deref(t.Key)] = deref(t.Value)
	}
	return m
}

func (a *API) health(w http.ResponseWriter, r *http.Request, body []byte) {
	var rep agentproto.HealthReport
	if err := decode(body, &rep); err != nil {
		writeError(w, err)
		return
	}
	for _, h := range rep.Health {
		switch shape.HealthStatus(h) {
		case shape.HealthStatusHealthy, shape.HealthStatusUnhealthy, shape.HealthStatusUnknown:
		default:
			writeError(w, apierr.InvalidParameterf("Health %q is not HEALTHY, UNHEALTHY or UNKNOWN.", h))
			return
		}
	}
	cluster, id, err := a.taskID(rep.Cluster, rep.TaskArn)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := a.cfg.Proposer.Apply(r.Context(), wire.TaskHealth{Meta: wire.Meta{Now: a.cfg.Now()}, Cluster: cluster, TaskID: id, Health: rep.Health}); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// taskID resolves a task ARN (long form) in a cluster.
func (a *API) taskID(cluster, taskArn string) (string, string, error) {
	cluster = clusterName(cluster)
	const marker = ":task/"
	i := bytes.LastIndex([]byte(taskArn), []byte(marker))
	if i < 0 {
		return "", "", apierr.InvalidParameterf("taskArn %s is not a task ARN.", taskArn)
	}
	rest := taskArn[i+len(marker):]
	c, id, ok := cut(rest, "/")
	if !ok || (cluster != "" && c != cluster) {
		return "", "", apierr.InvalidParameterf("taskArn %s is not a task of cluster %s.", taskArn, cluster)
	}
	return c, id, nil
}

func cut(s, sep string) (string, string, bool) {
	i := bytes.Index([]byte(s), []byte(sep))
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
