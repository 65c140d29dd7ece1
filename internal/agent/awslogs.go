package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/awslogs"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/shape"
)

// awslogsPutter is the server's awslogs endpoint (agentproto.PathAWSLogs).
type awslogsPutter interface {
	PutAWSLogs(ctx context.Context, req agentproto.AWSLogsRequest) error
}

// PutAWSLogs appends a batch of log events to the server's log store. A
// refusal (4xx: a missing group, a bad name) is permanent.
func (c *serverClient) PutAWSLogs(ctx context.Context, req agentproto.AWSLogsRequest) error {
	hreq, err := c.signedRequest(ctx, http.MethodPost, agentproto.PathAWSLogs, req)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return fmt.Errorf("ship log events: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return awslogs.Permanent(apiError(resp))
	default:
		return apiError(resp)
	}
}

// awslogsSink sends one container's batches through the server.
type awslogsSink struct {
	a       *Agent
	taskArn string
}

func (s awslogsSink) Put(ctx context.Context, b awslogs.Batch) error {
	p, ok := s.a.srv.(awslogsPutter)
	if !ok {
		return awslogs.Permanent(errors.New("this agent's server connection cannot ship logs"))
	}
	req := agentproto.AWSLogsRequest{Cluster: s.a.cfg.Cluster, ContainerInstanceArn: s.a.store.instance().ContainerInstanceArn,
		TaskArn: s.taskArn, Group: b.Group, Stream: b.Stream, CreateGroup: b.CreateGroup, Events: make([]agentproto.AWSLogsEvent, len(b.Events))}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i, e := range b.Events {
		req.Events[i] = agentproto.AWSLogsEvent{Timestamp: e.Timestamp, Message: e.Message}
	}
	return p.PutAWSLogs(ctx, req)
}

// initAWSLogs makes sure container i's log group (created with
// awslogs-create-group "true") and stream exist before the container is
// created, as ECS does: a missing group fails the container
// ("CannotCreateContainerError: failed to initialize logging driver:
// ResourceNotFoundException: The specified log group does not exist.").
// A server that cannot be reached does not: shipping retries later.
func (r *runner) initAWSLogs(ctx context.Context, i int) error {
	def := r.task.Definition.ContainerDefinitions[i]
	lc := def.LogConfiguration
	if lc == nil || lc.LogDriver != shape.LogDriverAwslogs {
		return nil
	}
	opts, err := awslogs.ParseOptions(lc.Options)
	if err != nil {
		return fmt.Errorf("failed to initialize logging driver: %w", err)
	}
	sink := awslogsSink{a: r.a, taskArn: r.arn}
	err = sink.Put(ctx, awslogs.Batch{Group: opts.Group, Stream: awslogs.StreamName(opts.Prefix, deref(def.Name), taskID(r.arn)), CreateGroup: opts.CreateGroup})
	if errors.Is(err, awslogs.ErrPermanent) {
		return fmt.Errorf("failed to initialize logging driver: %w", err)
	}
	if err != nil {
		r.log.Warn("awslogs: the log group could not be checked; shipping will retry", "container", deref(def.Name), "err", err)
	}
	return nil
}

// awslogsDir holds a task's shipping cursors (removed with the task).
func (a *Agent) awslogsDir(taskArn string) string {
	return filepath.Join(a.cfg.DataDir, "awslogs", taskID(taskArn))
}

// shipLogs starts shipping container i's output when its log driver is
// awslogs: the agent reads the runtime's log (never Docker's own awslogs
// driver) from the cursor on, until the container exited and its output
// is shipped, or the agent stops. One shipper per container and agent run.
func (r *runner) shipLogs(i int, h driver.Handle) {
	def := r.task.Definition.ContainerDefinitions[i]
	lc := def.LogConfiguration
	if lc == nil || lc.LogDriver != shape.LogDriverAwslogs || h.ID == "" {
		return
	}
	a := r.a
	a.mu.Lock()
	if a.shipping == nil {
		a.shipping = map[string]bool{}
	}
	if a.shipping[h.ID] || a.runCtx == nil {
		a.mu.Unlock()
		return
	}
	a.shipping[h.ID] = true
	a.mu.Unlock()
	name := deref(def.Name)
	opts, err := awslogs.ParseOptions(lc.Options)
	if err != nil {
		r.log.Error("awslogs options not valid; the container's output is not shipped", "container", name, "err", err)
		return
	}
	stream := awslogs.StreamName(opts.Prefix, name, taskID(r.arn))
	s := awslogs.New(awslogs.Config{Options: opts, Stream: stream, Sink: awslogsSink{a: a, taskArn: r.arn},
		Cursor: filepath.Join(a.awslogsDir(r.arn), strings.ReplaceAll(name, "/", "_")+".json"), Log: r.log.With("container", name)})
	ctx := a.runCtx
	a.wg.Go(func() {
		defer func() {
			a.mu.Lock()
			delete(a.shipping, h.ID)
			a.mu.Unlock()
		}()
		src, err := a.cfg.Driver.Logs(ctx, h, true)
		if err != nil {
			r.log.Warn("awslogs: read container log", "container", name, "err", err)
			return
		}
		if err := s.Run(ctx, src); err != nil && ctx.Err() == nil {
			r.log.Warn("awslogs: shipping ended", "container", name, "err", err)
		}
		if n := s.Dropped(); n > 0 {
			r.log.Warn("awslogs: non-blocking mode dropped lines", "container", name, "lines", n)
		}
	})
}
