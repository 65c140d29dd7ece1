package fakedriver

import (
	"context"
	"io"
	"slices"

	"berth.dev/berth/internal/driver"
)

// Logs returns what the program wrote; with follow, the stream ends once
// the container has exited (or ctx ends).
func (r *Runtime) Logs(ctx context.Context, h driver.Handle, follow bool) (driver.LogStream, error) {
	if err := r.call(ctx, Call{Op: OpLogs, ID: h.ID}); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(OpLogs, h.ID)
	if err != nil {
		return nil, err
	}
	s := &logStream{ctx: ctx, lines: slices.Clone(c.output)}
	if follow {
		s.exited = c.exited
	}
	return s, nil
}

type logStream struct {
	ctx    context.Context
	lines  []driver.LogLine
	exited chan struct{} // nil: no follow
}

func (s *logStream) Next() (driver.LogLine, error) {
	if len(s.lines) > 0 {
		l := s.lines[0]
		s.lines = s.lines[1:]
		return l, nil
	}
	if s.exited != nil {
		select {
		case <-s.exited:
		case <-s.ctx.Done():
			return driver.LogLine{}, s.ctx.Err()
		}
	}
	return driver.LogLine{}, io.EOF
}

func (s *logStream) Close() error { return nil }
