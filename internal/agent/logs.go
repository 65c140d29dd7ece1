package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
)

// logSink takes a log request's answer.
type logSink interface {
	// UploadLogs streams body (NDJSON agentproto.LogLine) as the answer to
	// log request id, until body ends or ctx does.
	UploadLogs(ctx context.Context, id string, body io.Reader) error
}

// uploadLogs answers a log request: it streams the task's container output
// as NDJSON to the server, which relays it to `berth logs`. The upload ends
// when the output ends (or, with follow, when the server closes it).
func (a *Agent) uploadLogs(ctx context.Context, req agentproto.LogRequest) {
	// A task's containers are remembered until they are cleaned up, so the
	// output of stopped tasks can be read too.
	var containers []struct {
		name string
		h    driver.Handle
	}
	for name, id := range a.savedContainers(req.TaskArn) {
		if req.Container == "" || req.Container == name {
			containers = append(containers, struct {
				name string
				h    driver.Handle
			}{name, driver.Handle{ID: id}})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		var mu sync.Mutex
		enc := json.NewEncoder(pw)
		var wg sync.WaitGroup
		for _, c := range containers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stream, err := a.cfg.Driver.Logs(ctx, c.h, req.Follow)
				if err != nil {
					a.log.Warn("read container log", "container", c.name, "err", err)
					return
				}
				defer stream.Close()
				for {
					line, err := stream.Next()
					if err != nil {
						if !errors.Is(err, io.EOF) && ctx.Err() == nil {
							a.log.Warn("read container log", "container", c.name, "err", err)
						}
						return
					}
					mu.Lock()
					werr := enc.Encode(agentproto.LogLine{Time: line.Time, Container: c.name, Stream: line.Stream, Text: string(line.Text)})
					mu.Unlock()
					if werr != nil {
						return
					}
				}
			}()
		}
		wg.Wait()
		pw.Close()
	}()
	if err := a.srv.UploadLogs(ctx, req.ID, pr); err != nil {
		if ctx.Err() == nil {
			a.log.Warn("upload log", "err", err)
		}
		pr.CloseWithError(err)
		return
	}
	pr.Close()
}

// savedContainers returns the runtime IDs of a task's containers.
func (a *Agent) savedContainers(taskArn string) map[string]string {
	t, _ := a.store.task(taskArn)
	return t.Containers
}
