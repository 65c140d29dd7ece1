package fakedriver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"berth.dev/berth/internal/driver"
)

// Program is what the containers of an image do.
type Program struct {
	// ExitAfter > 0: the container exits with ExitCode this long after it
	// starts. Zero: it runs until stopped or told to Exit.
	ExitAfter time.Duration
	ExitCode  int
	// StopDelay is how long the program takes to exit on SIGTERM, with
	// StopCode. IgnoreTerm: SIGTERM does nothing, only the kill ends it.
	StopDelay  time.Duration
	StopCode   int
	IgnoreTerm bool
	// StartError, when set, makes Start fail with it (wrapped in
	// driver.ErrCannotStart).
	StartError string
	// Output is what the program writes to stdout once started.
	Output []string
	// ExecCode is the exit code of every command Exec runs in it.
	ExecCode int
}

// Op names a driver call.
type Op string

// The driver calls.
const (
	OpPull    Op = "pull"
	OpCreate  Op = "create"
	OpStart   Op = "start"
	OpWait    Op = "wait"
	OpStop    Op = "stop"
	OpInspect Op = "inspect"
	OpRemove  Op = "remove"
	OpExec    Op = "exec"
	OpLogs    Op = "logs"
	OpList    Op = "list"

	OpCreateSandbox Op = "create-sandbox"
	OpRemoveSandbox Op = "remove-sandbox"
	OpListSandboxes Op = "list-sandboxes"

	OpRemoveTaskCgroup Op = "remove-task-cgroup"
)

// Call is one call made to the Runtime.
type Call struct {
	Op    Op
	Image string // Pull, Create
	ID    string // the container (or sandbox, or task), for calls on one
	Name  string // Create, CreateSandbox
}

// Container is a container as the Runtime holds it.
type Container struct {
	Handle driver.Handle
	Image  string
	Status driver.Status
	// Task is the task limits it was created with (Spec.Task), nil
	// without.
	Task *driver.TaskLimits
	// Env is its environment: Spec.Env with Spec.Secrets over it.
	Env []string
}

// Runtime is the fake runtime. The zero value is not usable: call New.
type Runtime struct {
	mu         sync.Mutex
	programs   map[string]Program
	pullErrors map[string]string
	latency    map[Op]time.Duration
	containers map[string]*container
	order      []string // container IDs in creation order
	names      map[string]string
	calls      []Call
	next       int
	sandboxes  map[string]*driver.Sandbox
	sbOrder    []string // sandbox IDs in creation order
	tasks      taskCgroups
}

type container struct {
	h      driver.Handle
	image  string
	prog   Program
	ports  []driver.PortMapping
	status driver.Status
	exited chan struct{} // closed when it exits
	exit   *time.Timer   // the scripted exit, SIGTERM's or the kill
	exitAt time.Time     // when exit fires
	output []driver.LogLine
	task   *driver.TaskLimits
	env    []string
}

var (
	_ driver.Driver      = (*Runtime)(nil)
	_ driver.Sandboxer   = (*Runtime)(nil)
	_ driver.TaskCgroups = (*Runtime)(nil)
)

// New returns an empty runtime.
func New() *Runtime {
	return &Runtime{programs: map[string]Program{}, pullErrors: map[string]string{}, latency: map[Op]time.Duration{},
		containers: map[string]*container{}, names: map[string]string{}, sandboxes: map[string]*driver.Sandbox{}}
}

// SetProgram sets what containers of image created from now on do.
func (r *Runtime) SetProgram(image string, p Program) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.programs[image] = p
}

// FailPull makes pulls of image fail with msg; "" lets them succeed again.
func (r *Runtime) FailPull(image, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg == "" {
		delete(r.pullErrors, image)
		return
	}
	r.pullErrors[image] = msg
}

// SetLatency makes every op call take d before it acts.
func (r *Runtime) SetLatency(op Op, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency[op] = d
}

// Exit makes running container id exit now with code.
func (r *Runtime) Exit(id string, code int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.containers[id]
	if c == nil {
		return fmt.Errorf("exit %s: %w", id, driver.ErrNotFound)
	}
	if !c.status.Running {
		return fmt.Errorf("exit %s: the container is not running", id)
	}
	r.exitLocked(c, code)
	return nil
}

// Calls returns the calls made so far, of the given ops (all when none).
func (r *Runtime) Calls(ops ...Op) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// Containers returns the containers the runtime holds, in creation order.
func (r *Runtime) Containers() []Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Container, 0, len(r.order))
	for _, id := range r.order {
		c := r.containers[id]
		out = append(out, Container{Handle: c.handle(), Image: c.image, Status: c.copyStatus(), Task: copyTask(c.task), Env: slices.Clone(c.env)})
	}
	return out
}

// Name is "fake".
func (r *Runtime) Name() string { return "fake" }

// call records a call and waits its latency.
func (r *Runtime) call(ctx context.Context, c Call) error {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	d := r.latency[c.Op]
	r.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lookup returns container id; r.mu is held.
func (r *Runtime) lookup(op Op, id string) (*container, error) {
	if c := r.containers[id]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%s %s: %w", op, id, driver.ErrNotFound)
}

// Pull succeeds unless the image is set to fail.
func (r *Runtime) Pull(ctx context.Context, image string, _ driver.PullPolicy) error {
	if err := r.call(ctx, Call{Op: OpPull, Image: image}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg, ok := r.pullErrors[image]; ok {
		return fmt.Errorf("%w: pull %s: %s", driver.ErrCannotPull, image, msg)
	}
	return nil
}

// Create creates a container running the image's program.
func (r *Runtime) Create(ctx context.Context, spec driver.Spec) (driver.Handle, error) {
	if err := r.call(ctx, Call{Op: OpCreate, Image: spec.Image, Name: spec.Name}); err != nil {
		return driver.Handle{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if spec.Name != "" && r.names[spec.Name] != "" {
		return driver.Handle{}, fmt.Errorf("%w: the name %s is in use", driver.ErrCannotCreate, spec.Name)
	}
	if err := driver.CheckNetwork(spec); err != nil {
		return driver.Handle{}, fmt.Errorf("%w: %w", driver.ErrCannotCreate, err)
	}
	if spec.Sandbox != "" && r.sandboxes[spec.Sandbox] == nil {
		return driver.Handle{}, fmt.Errorf("%w: sandbox %s: %w", driver.ErrCannotCreate, spec.Sandbox, driver.ErrNotFound)
	}
	if err := r.tasks.create(spec.Task); err != nil {
		return driver.Handle{}, fmt.Errorf("%w: %w", driver.ErrCannotCreate, err)
	}
	ports := slices.Clone(spec.Ports)
	if spec.Sandbox != "" {
		ports = nil // a sandbox publishes nothing
	}
	r.next++
	id := fmt.Sprintf("fake%028d", r.next)
	c := &container{h: driver.Handle{ID: id, Name: spec.Name, Labels: maps.Clone(spec.Labels)}, image: spec.Image,
		prog: r.programs[spec.Image], ports: ports, exited: make(chan struct{}), task: copyTask(spec.Task),
		env: driver.MergeEnv(spec.Env, spec.Secrets)}
	c.status.CreatedAt, c.status.ImageID = time.Now(), imageID(spec.Image)
	r.containers[id] = c
	r.order = append(r.order, id)
	if spec.Name != "" {
		r.names[spec.Name] = id
	}
	return c.handle(), nil
}

// Start starts a created container.
func (r *Runtime) Start(ctx context.Context, h driver.Handle) (driver.Status, error) {
	if err := r.call(ctx, Call{Op: OpStart, ID: h.ID}); err != nil {
		return driver.Status{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(OpStart, h.ID)
	if err != nil {
		return driver.Status{}, err
	}
	if c.status.Running || c.status.Exited {
		return driver.Status{}, fmt.Errorf("%w: container %s was started already", driver.ErrCannotStart, h.ID)
	}
	if c.prog.StartError != "" {
		return driver.Status{}, fmt.Errorf("%w: %s", driver.ErrCannotStart, c.prog.StartError)
	}
	now := time.Now()
	c.status.Running, c.status.StartedAt = true, now
	for i, p := range c.ports {
		hp := p.HostPort
		if hp == 0 {
			hp = 32768 + r.next*16 + i
		}
		c.status.Bindings = append(c.status.Bindings, driver.Binding{ContainerPort: p.ContainerPort, HostPort: hp, Protocol: p.Protocol, HostIP: "0.0.0.0"})
	}
	for _, line := range c.prog.Output {
		c.output = append(c.output, driver.LogLine{Time: now, Stream: "stdout", Text: []byte(line)})
	}
	if c.prog.ExitAfter > 0 {
		r.exitIn(c, c.prog.ExitAfter, c.prog.ExitCode)
	}
	return c.copyStatus(), nil
}

// exitIn makes c exit with code after d, unless an earlier exit is set;
// r.mu is held.
func (r *Runtime) exitIn(c *container, d time.Duration, code int) {
	at := time.Now().Add(d)
	if c.exit != nil {
		if !at.Before(c.exitAt) {
			return
		}
		c.exit.Stop()
	}
	c.exitAt = at
	c.exit = time.AfterFunc(d, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.exitLocked(c, code)
	})
}

// exitLocked ends a running container; r.mu is held.
func (r *Runtime) exitLocked(c *container, code int) {
	if !c.status.Running {
		return
	}
	if c.exit != nil {
		c.exit.Stop()
		c.exit = nil
	}
	c.status.Running, c.status.Exited, c.status.ExitCode, c.status.FinishedAt = false, true, code, time.Now()
	close(c.exited)
}

// Wait blocks until the container exits.
func (r *Runtime) Wait(ctx context.Context, h driver.Handle) (driver.Status, error) {
	if err := r.call(ctx, Call{Op: OpWait, ID: h.ID}); err != nil {
		return driver.Status{}, err
	}
	r.mu.Lock()
	c, err := r.lookup(OpWait, h.ID)
	r.mu.Unlock()
	if err != nil {
		return driver.Status{}, err
	}
	select {
	case <-c.exited:
	case <-ctx.Done():
		return driver.Status{}, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return c.copyStatus(), nil
}

// Stop sends SIGTERM, kills at timeout, and returns once it exited.
func (r *Runtime) Stop(ctx context.Context, h driver.Handle, timeout time.Duration) error {
	if err := r.call(ctx, Call{Op: OpStop, ID: h.ID}); err != nil {
		return err
	}
	r.mu.Lock()
	c, err := r.lookup(OpStop, h.ID)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if !c.status.Running {
		r.mu.Unlock()
		return nil
	}
	if c.prog.IgnoreTerm || c.prog.StopDelay > timeout {
		r.exitIn(c, max(timeout, 0), 137)
	} else {
		r.exitIn(c, c.prog.StopDelay, c.prog.StopCode)
	}
	r.mu.Unlock()
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Inspect returns the container's status.
func (r *Runtime) Inspect(ctx context.Context, h driver.Handle) (driver.Status, error) {
	if err := r.call(ctx, Call{Op: OpInspect, ID: h.ID}); err != nil {
		return driver.Status{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(OpInspect, h.ID)
	if err != nil {
		return driver.Status{}, err
	}
	return c.copyStatus(), nil
}

// Remove deletes a container that is not running.
func (r *Runtime) Remove(ctx context.Context, h driver.Handle) error {
	if err := r.call(ctx, Call{Op: OpRemove, ID: h.ID}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(OpRemove, h.ID)
	if err != nil {
		return err
	}
	if c.status.Running {
		return fmt.Errorf("remove %s: the container is running; stop it first", h.ID)
	}
	if c.exit != nil {
		c.exit.Stop()
	}
	delete(r.containers, h.ID)
	r.order = slices.DeleteFunc(r.order, func(id string) bool { return id == h.ID })
	if r.names[c.h.Name] == h.ID {
		delete(r.names, c.h.Name)
	}
	return nil
}

// Exec runs nothing: it answers the program's ExecCode.
func (r *Runtime) Exec(ctx context.Context, h driver.Handle, cmd []string, timeout time.Duration) (driver.ExecResult, error) {
	if err := r.call(ctx, Call{Op: OpExec, ID: h.ID}); err != nil {
		return driver.ExecResult{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(OpExec, h.ID)
	if err != nil {
		return driver.ExecResult{}, err
	}
	if !c.status.Running {
		return driver.ExecResult{}, errors.New("exec: the container is not running")
	}
	return driver.ExecResult{ExitCode: c.prog.ExecCode}, nil
}

// List returns the containers berth created.
func (r *Runtime) List(ctx context.Context) ([]driver.Handle, error) {
	if err := r.call(ctx, Call{Op: OpList}); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []driver.Handle
	for _, id := range r.order {
		if c := r.containers[id]; c.h.Labels[driver.LabelManaged] == "true" {
			out = append(out, c.handle())
		}
	}
	return out, nil
}

func (c *container) handle() driver.Handle {
	h := c.h
	h.Labels = maps.Clone(c.h.Labels)
	return h
}

func (c *container) copyStatus() driver.Status {
	st := c.status
	st.Bindings = slices.Clone(c.status.Bindings)
	return st
}
