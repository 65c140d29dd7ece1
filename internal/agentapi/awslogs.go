package agentapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awslogs"
	"berth.dev/berth/internal/logstore"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// LogStore is the server's CloudWatch Logs store (logstore.Store), where
// the agents ship the output of containers whose log driver is awslogs.
type LogStore interface {
	CreateGroup(g logstore.Group) error
	CreateStream(group, name string) error
	Append(group, stream string, events []logstore.Input) (int64, error)
	Read(ctx context.Context, group string, q logstore.Query) (logstore.Page, error)
}

// CloudWatch Logs' name constraints.
var (
	awslogsGroupName  = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)
	awslogsStreamName = regexp.MustCompile(`^[^:*]{1,512}$`)
)

// awslogs appends a batch of a container's log events to the store: the
// agent's side of the awslogs log driver (PathAWSLogs).
func (a *API) awslogs(w http.ResponseWriter, r *http.Request, body []byte) {
	var req agentproto.AWSLogsRequest
	if err := decode(body, &req); err != nil {
		writeError(w, err)
		return
	}
	if _, err := a.instanceOf(clusterName(req.Cluster), req.ContainerInstanceArn); err != nil {
		writeError(w, err)
		return
	}
	store := a.cfg.Logs
	if store == nil {
		writeError(w, apierr.Clientf("This server keeps no log store."))
		return
	}
	switch {
	case !awslogsGroupName.MatchString(req.Group):
		writeError(w, apierr.InvalidParameterf("Log group name %q is not valid.", req.Group))
		return
	case !awslogsStreamName.MatchString(req.Stream):
		writeError(w, apierr.InvalidParameterf("Log stream name %q is not valid.", req.Stream))
		return
	case len(req.Events) > logstore.MaxBatchEvents:
		writeError(w, apierr.InvalidParameterf("At most %d log events fit in a batch.", logstore.MaxBatchEvents))
		return
	}
	events := make([]logstore.Input, len(req.Events))
	for i, e := range req.Events {
		events[i] = logstore.Input{Timestamp: e.Timestamp, Message: e.Message}
	}
	// A batch without events (the agent's check as the container is
	// created) only makes sure that the group and the stream exist.
	var err error
	if len(events) > 0 {
		_, err = store.Append(req.Group, req.Stream, events)
	}
	if len(events) == 0 || errors.Is(err, logstore.ErrStreamNotFound) || errors.Is(err, logstore.ErrGroupNotFound) {
		err = a.ensureStream(req)
		if err == nil && len(events) > 0 {
			_, err = store.Append(req.Group, req.Stream, events)
		}
	}
	switch {
	case errors.Is(err, logstore.ErrGroupNotFound):
		writeError(w, apierr.Newf(apierr.ResourceNotFound, "The specified log group does not exist."))
	case errors.Is(err, logstore.ErrBatchTooLarge):
		writeError(w, apierr.InvalidParameterf("The batch of log events is too large."))
	case err != nil:
		a.log.Warn("awslogs append failed", "group", req.Group, "stream", req.Stream, "err", err)
		writeError(w, apierr.New(apierr.Server, "The log events could not be stored."))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// ensureStream creates the request's stream, and its group when asked
// to (awslogs-create-group).
func (a *API) ensureStream(req agentproto.AWSLogsRequest) error {
	store := a.cfg.Logs
	err := store.CreateStream(req.Group, req.Stream)
	if errors.Is(err, logstore.ErrGroupNotFound) && req.CreateGroup {
		if err = store.CreateGroup(logstore.Group{Name: req.Group, Class: "STANDARD"}); err == nil || errors.Is(err, logstore.ErrGroupExists) {
			err = store.CreateStream(req.Group, req.Stream)
		}
	}
	if errors.Is(err, logstore.ErrStreamExists) {
		return nil
	}
	return err
}

// awslogsSource is where a container's awslogs output is stored.
type awslogsSource struct {
	container, group, stream string
}

// awslogsSources lists the stores of a task's containers (one container
// when container is set) when every one of them logs with awslogs; nil
// otherwise (their output is read from the agent).
func (a *API) awslogsSources(t *state.Task, container string) []awslogsSource {
	if a.cfg.Logs == nil {
		return nil
	}
	td := a.cfg.State.Snapshot().TaskDefinition(t.Family, t.Revision)
	if td == nil || td.Def == nil {
		return nil
	}
	id := deref(t.Shape.TaskArn)
	id = id[strings.LastIndex(id, "/")+1:]
	var out []awslogsSource
	for _, cd := range td.Def.ContainerDefinitions {
		name := deref(cd.Name)
		if container != "" && name != container {
			continue
		}
		lc := cd.LogConfiguration
		if lc == nil || lc.LogDriver != shape.LogDriverAwslogs || lc.Options["awslogs-group"] == "" {
			return nil
		}
		out = append(out, awslogsSource{container: name, group: lc.Options["awslogs-group"],
			stream: awslogs.StreamName(lc.Options["awslogs-stream-prefix"], name, id)})
	}
	return out
}

// logsFromStore answers `berth logs` from the log store as NDJSON
// agentproto.LogLine, in CloudWatch's order: the streams of the
// containers of one log group interleaved by timestamp (groups one after
// the other). The stream, stdout or stderr, is not kept by CloudWatch
// Logs and is left empty. Memory is one store page at a time.
func (a *API) logsFromStore(ctx context.Context, w http.ResponseWriter, srcs []awslogsSource) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	var groups []string
	containers := map[string]map[string]string{} // group → stream → container
	for _, s := range srcs {
		if containers[s.group] == nil {
			groups = append(groups, s.group)
			containers[s.group] = map[string]string{}
		}
		containers[s.group][s.stream] = s.container
	}
	for _, g := range groups {
		streams := make([]string, 0, len(containers[g]))
		for st := range containers[g] {
			streams = append(streams, st)
		}
		var after *logstore.Key
		for {
			page, err := a.cfg.Logs.Read(ctx, g, logstore.Query{Streams: streams, After: after})
			if err != nil {
				if !errors.Is(err, logstore.ErrGroupNotFound) && ctx.Err() == nil {
					a.log.Warn("read awslogs streams", "group", g, "err", err)
				}
				break
			}
			for _, e := range page.Events {
				if enc.Encode(agentproto.LogLine{Time: time.UnixMilli(e.Timestamp), Container: containers[g][e.Stream], Text: e.Message}) != nil {
					return
				}
			}
			if !page.More || len(page.Events) == 0 {
				break
			}
			k := page.Events[len(page.Events)-1].Key()
			after = &k
		}
	}
	_ = bw.Flush()
}
