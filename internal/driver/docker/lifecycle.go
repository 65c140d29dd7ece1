package docker

import (
	"context"
	"fmt"
	"math"
	"time"

	"berth.dev/berth/internal/driver"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Create creates the container; it does not pull (call Pull first). A
// container in a sandbox needs the sandbox's pause container running.
func (d *Driver) Create(ctx context.Context, spec driver.Spec) (driver.Handle, error) {
	opts, err := createOptions(spec)
	if err != nil {
		return driver.Handle{}, wrap(driver.ErrCannotCreate, err)
	}
	if spec.Sandbox != "" {
		// The engine checks the network container only at start.
		sb, err := d.inspectSandbox(ctx, spec.Sandbox)
		if err == nil && sb.NetNSPath == "" {
			err = fmt.Errorf("sandbox %s is not running", spec.Sandbox)
		}
		if err != nil {
			return driver.Handle{}, wrap(driver.ErrCannotCreate, err)
		}
	}
	if err := d.taskCgroup(spec, opts.HostConfig); err != nil {
		return driver.Handle{}, wrap(driver.ErrCannotCreate, err)
	}
	res, err := d.cli.ContainerCreate(ctx, opts)
	if err != nil {
		return driver.Handle{}, wrap(driver.ErrCannotCreate, err)
	}
	for _, w := range res.Warnings {
		d.log.Warn("docker create", "container", spec.Name, "warning", w)
	}
	return driver.Handle{ID: res.ID, Name: spec.Name, Labels: opts.Config.Labels}, nil
}

// Start starts the container and returns its status, with the host ports
// the engine bound.
func (d *Driver) Start(ctx context.Context, h driver.Handle) (driver.Status, error) {
	if _, err := d.cli.ContainerStart(ctx, ref(h), client.ContainerStartOptions{}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return driver.Status{}, classify("start", ref(h), err)
		}
		return driver.Status{}, wrap(driver.ErrCannotStart, err)
	}
	return d.Inspect(ctx, h)
}

// Inspect returns the container's current status.
func (d *Driver) Inspect(ctx context.Context, h driver.Handle) (driver.Status, error) {
	res, err := d.cli.ContainerInspect(ctx, ref(h), client.ContainerInspectOptions{})
	if err != nil {
		return driver.Status{}, classify("inspect", ref(h), err)
	}
	return status(res.Container), nil
}

// createdPoll is how often Wait looks at a container that was created but
// not started yet (the engine has no wait condition for "started").
const createdPoll = 200 * time.Millisecond

// Wait blocks until the container has exited and returns its final status,
// read from inspect. Cancelling ctx abandons the wait and nothing else: a
// later Wait (from any Driver) returns the same exit.
func (d *Driver) Wait(ctx context.Context, h driver.Handle) (driver.Status, error) {
	for {
		st, err := d.Inspect(ctx, h)
		if err != nil {
			return st, err
		}
		if st.Exited {
			return st, nil
		}
		if !st.Running { // created, not started yet
			select {
			case <-ctx.Done():
				return driver.Status{}, ctx.Err()
			case <-time.After(createdPoll):
			}
			continue
		}
		// "not-running" returns at once if the container stopped since the
		// inspect, so no exit slips between the two calls.
		w := d.cli.ContainerWait(ctx, ref(h), client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case <-w.Result:
		case err := <-w.Error:
			if ctx.Err() != nil {
				return driver.Status{}, ctx.Err()
			}
			return driver.Status{}, classify("wait", ref(h), err)
		}
	}
}

// Stop sends SIGTERM, and SIGKILL after timeout (rounded up to whole seconds,
// the engine's unit), and returns once the container is not running.
// Stopping a container that is not running is a no-op.
func (d *Driver) Stop(ctx context.Context, h driver.Handle, timeout time.Duration) error {
	secs := int(math.Ceil(max(timeout, 0).Seconds()))
	if _, err := d.cli.ContainerStop(ctx, ref(h), client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return classify("stop", ref(h), err)
	}
	w := d.cli.ContainerWait(ctx, ref(h), client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-w.Result:
		return nil
	case err := <-w.Error:
		return classify("stop", ref(h), err)
	}
}

// Remove deletes a container that is not running, with its anonymous
// volumes. A running container is refused: Stop it first.
func (d *Driver) Remove(ctx context.Context, h driver.Handle) error {
	if _, err := d.cli.ContainerRemove(ctx, ref(h), client.ContainerRemoveOptions{RemoveVolumes: true}); err != nil {
		return classify("remove", ref(h), err)
	}
	d.stats.Forget(h.ID)
	return nil
}

// List returns every container labelled berth.managed=true, running or
// not, except sandboxes' pause containers.
func (d *Driver) List(ctx context.Context) ([]driver.Handle, error) {
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", driver.LabelManaged+"=true"),
	})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]driver.Handle, 0, len(res.Items))
	for _, c := range res.Items {
		if c.Labels[driver.LabelSandbox] == "true" {
			continue // a sandbox's pause container: see ListSandboxes
		}
		h := driver.Handle{ID: c.ID, Labels: c.Labels}
		if len(c.Names) > 0 {
			h.Name = trimSlash(c.Names[0])
		}
		out = append(out, h)
	}
	return out, nil
}

func trimSlash(name string) string {
	if len(name) > 0 && name[0] == '/' {
		return name[1:]
	}
	return name
}
