package agent

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"berth.dev/berth/internal/agentproto"
)

var errDeregistered = errors.New("container instance deregistered")

// streamer opens the server's push stream (package agentproto).
type streamer interface {
	// OpenStream opens the stream; an error wrapping errDeregistered means
	// the instance is no longer registered.
	OpenStream(ctx context.Context, req agentproto.StreamRequest) (messageStream, error)
}

// messageStream yields the stream's lines (JSON agentproto.Message) until
// it ends; Close unblocks a Next under way.
type messageStream interface {
	Next() ([]byte, error)
	Close() error
}

// stream opens the push stream and handles its messages until it ends.
func (a *Agent) stream(ctx context.Context, backoff *backoff) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := a.srv.OpenStream(ctx, agentproto.StreamRequest{Cluster: a.cfg.Cluster, ContainerInstanceArn: a.InstanceArn()})
	if err != nil {
		return err
	}
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	readerDone := make(chan struct{})
	defer func() {
		cancel()
		s.Close()
		<-readerDone
		a.markUnsynced()
	}()
	backoff.reset()
	a.connOnce.Do(func() { close(a.connected) })
	a.reporter.resync()
	go func() {
		defer close(readerDone)
		for {
			line, err := s.Next()
			if err != nil {
				readErr <- err
				return
			}
			select {
			case lines <- line:
			case <-ctx.Done():
				return
			}
		}
	}()
	silence := time.NewTimer(3 * agentproto.HeartbeatInterval)
	defer silence.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case <-silence.C:
			return errors.New("stream silent for too long")
		case line := <-lines:
			silence.Reset(3 * agentproto.HeartbeatInterval)
			var m agentproto.Message
			if err := json.Unmarshal(line, &m); err != nil {
				a.log.Warn("bad stream message", "err", err)
				continue
			}
			switch m.Type {
			case agentproto.TypeTasks:
				a.reconcile(m)
				if m.Full {
					a.markSynced()
				}
			case agentproto.TypeLogs:
				if m.Logs != nil {
					go a.uploadLogs(context.WithoutCancel(ctx), *m.Logs)
				}
			case agentproto.TypeDeregistered:
				return errDeregistered
			case agentproto.TypeNetwork:
				if m.Network != nil {
					a.configureNetwork(ctx, *m.Network, true)
				}
			}
		}
	}
}

// reconcile applies a Tasks message: new tasks start, changed ones update,
// and tasks that left the server's set (Removed, or missing from a Full
// message) are forgotten: their runners stop what still runs (the server
// forgot them, e.g. after this host was declared lost) and clean up. A
// finished task (STOPPED here) is never started again, whatever the
// message says: the server may list it until it has its STOPPED report.
func (a *Agent) reconcile(m agentproto.Message) {
	want := make(map[string]bool, len(m.Tasks))
	for _, t := range m.Tasks {
		want[t.TaskArn] = true
		a.mu.Lock()
		r := a.runners[t.TaskArn]
		if r == nil {
			if a.finished.has(t.TaskArn) {
				a.mu.Unlock()
				continue
			}
			if t.Definition == nil {
				a.mu.Unlock()
				a.log.Warn("the server sent a task update for an unknown task", "task", t.TaskArn)
				continue
			}
			r = a.newRunner(t, nil)
			a.runners[t.TaskArn] = r
			a.startRunner(r)
		}
		a.mu.Unlock()
		r.update(t)
	}
	// Under a.mu a runner is either running (it is told) or handed over to
	// finished (which is told): see startRunner.
	var unlisted []string
	a.mu.Lock()
	if m.Full {
		for arn, r := range a.runners {
			if !want[arn] {
				r.forget()
			}
		}
		unlisted = a.finished.listedExcept(want)
	}
	for _, arn := range m.Removed {
		if r := a.runners[arn]; r != nil {
			r.forget()
		} else {
			unlisted = append(unlisted, arn)
		}
	}
	a.mu.Unlock()
	for _, arn := range unlisted {
		a.finished.unlisted(arn)
	}
}

// startRunner runs r; when it ends with its task STOPPED, finished takes
// the task over, in the critical section (a.mu) that removes the runner,
// still listed unless the runner was told the server forgot the task.
func (a *Agent) startRunner(r *runner) {
	a.endpoint.AddTask(r.arn, containerNames(r.task), hasTaskRole(r.task))
	a.wg.Go(func() {
		done := r.run(a.runCtx)
		a.endpoint.RemoveTask(r.arn)
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.runners[r.arn] == r {
			delete(a.runners, r.arn)
		}
		if done {
			a.finished.add(r.arn, !r.toldForgotten())
		}
		r.close() // after the hand-over: the work tally sees no gap
	})
}
