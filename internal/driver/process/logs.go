//go:build linux

package process

import (
	"context"
	"path/filepath"

	"berth.dev/berth/internal/driver"
)

// Logs streams the container's output from the oldest log file kept. With
// follow it keeps reading until the container has exited and its output is
// read, or ctx ends (Next then returns ctx's error).
func (d *Driver) Logs(ctx context.Context, h driver.Handle, follow bool) (driver.LogStream, error) {
	id, err := d.resolve(h)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	return &logStream{
		ctx:    ctx,
		cancel: cancel,
		dir:    filepath.Join(d.dir(id), dirLogs),
		follow: follow,
		poll:   d.poll,
		exited: func() bool {
			s, err := d.snapshot(id, 0)
			return err != nil || s.terminal()
		},
	}, nil
}
