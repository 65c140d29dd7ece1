package agentapi

import (
	"bufio"
	"io"
	"net/http"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/state"
)

// logTransfer pairs a `berth logs` request with the agent's upload.
type logTransfer struct {
	body chan io.Reader
	done chan struct{}
}

// logs answers `berth logs`: it asks the task's agent, over its stream, to
// upload the log, and copies the upload to the caller line by line.
func (a *API) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cluster := clusterName(q.Get("cluster"))
	if cluster == "" {
		cluster = "default"
	}
	ref := q.Get("task")
	id := ref
	if arn.IsARN(ref) {
		var err error
		if _, id, err = a.taskID(cluster, ref); err != nil {
			writeError(w, err)
			return
		}
	}
	t := a.cfg.State.Snapshot().Task(id)
	if t == nil || t.Cluster != cluster {
		writeError(w, apierr.InvalidParameterf("The referenced task was not found: %s.", ref))
		return
	}
	container := q.Get("container")
	if container != "" && !hasContainer(t, container) {
		writeError(w, apierr.InvalidParameterf("Task %s has no container named %s.", ref, container))
		return
	}
	a.mu.Lock()
	s := a.sessions[t.InstanceID]
	a.mu.Unlock()
	// Containers that log with awslogs are read from the log store, even
	// after the task and its host are gone; following them reads from the
	// agent while it is connected.
	if srcs := a.awslogsSources(t, container); srcs != nil && (q.Get("follow") != "true" || s == nil) {
		a.logsFromStore(r.Context(), w, srcs)
		return
	}
	if s == nil {
		writeError(w, apierr.Clientf("The agent of the task's container instance is not connected; its logs cannot be read now."))
		return
	}
	reqID := randomID()
	lt := &logTransfer{body: make(chan io.Reader, 1), done: make(chan struct{})}
	a.mu.Lock()
	a.waiting[reqID] = lt
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.waiting, reqID)
		a.mu.Unlock()
		close(lt.done)
	}()
	msg := agentproto.Message{Type: agentproto.TypeLogs, Logs: &agentproto.LogRequest{
		ID: reqID, TaskArn: deref(t.Shape.TaskArn), Container: container, Follow: q.Get("follow") == "true"}}
	select {
	case s.ctl <- msg:
	case <-time.After(5 * time.Second):
		writeError(w, apierr.Clientf("The agent did not take the log request; try again."))
		return
	case <-r.Context().Done():
		return
	}
	var body io.Reader
	select {
	case body = <-lt.body:
	case <-time.After(15 * time.Second):
		writeError(w, apierr.Clientf("The agent did not send the log in time; try again."))
		return
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if _, err := w.Write(append(sc.Bytes(), '\n')); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func hasContainer(t *state.Task, name string) bool {
	for _, c := range t.Shape.Containers {
		if deref(c.Name) == name {
			return true
		}
	}
	return false
}

// upload receives an agent's log upload and holds the request open until
// the reader is done with it.
func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("request")
	a.mu.Lock()
	lt := a.waiting[id]
	a.mu.Unlock()
	if lt == nil {
		writeError(w, apierr.InvalidParameterf("No log request %s is waiting.", id))
		return
	}
	select {
	case lt.body <- r.Body:
	default:
		writeError(w, apierr.InvalidParameterf("Log request %s already has an upload.", id))
		return
	}
	select {
	case <-lt.done:
	case <-r.Context().Done():
	}
	w.WriteHeader(http.StatusNoContent)
}
