// Package driver defines the runtime interface the berth agent runs
// containers through, and the types it exchanges. Implementations live in
// driver/docker (Docker Engine API) and driver/process (host processes).
//
// Contract:
//   - Every method that blocks takes a context first; cancelling it abandons
//     the call, never the container.
//   - A container a driver creates carries the labels of its Spec, and List
//     finds every container berth created (label LabelManaged), running or
//     exited, so an agent restarted after a crash can adopt what it runs.
//   - Containers outlive the agent: stopping or crashing the agent never
//     stops a container. Only Stop and Remove do.
//   - Errors that mean "the task cannot start" wrap ErrCannotPull,
//     ErrCannotCreate or ErrCannotStart so the agent can report ECS's
//     reasons (CannotPullContainerError, ...). ErrNotFound means the runtime
//     does not know the handle.
package driver

import (
	"context"
	"errors"
	"io"
	"time"
)

// Labels berth sets on every container it creates.
const (
	LabelManaged       = "berth.managed" // "true"
	LabelTaskARN       = "com.amazonaws.ecs.task-arn"
	LabelContainerName = "com.amazonaws.ecs.container-name"
	LabelCluster       = "com.amazonaws.ecs.cluster"
	LabelFamily        = "com.amazonaws.ecs.task-definition-family"
	LabelRevision      = "com.amazonaws.ecs.task-definition-version"
)

// Errors drivers wrap.
var (
	ErrCannotPull   = errors.New("CannotPullContainerError")
	ErrCannotCreate = errors.New("CannotCreateContainerError")
	ErrCannotStart  = errors.New("CannotStartContainerError")
	ErrNotFound     = errors.New("container not found")
)

// PullPolicy is the agent's image pull behaviour (ECS_IMAGE_PULL_BEHAVIOR).
type PullPolicy string

// Pull policies.
const (
	// PullDefault pulls, and falls back to a cached image when the pull fails.
	PullDefault PullPolicy = "default"
	// PullAlways pulls, and fails when the pull fails.
	PullAlways PullPolicy = "always"
	// PullOnce pulls only when the image was never pulled (is not cached).
	PullOnce PullPolicy = "once"
	// PullPreferCached pulls only when no cached image exists.
	PullPreferCached PullPolicy = "prefer-cached"
)

// PortMapping publishes a container port. HostPort 0 asks for a dynamic port.
type PortMapping struct {
	ContainerPort int
	HostPort      int
	Protocol      string // "tcp" or "udp"
}

// Binding is a published port as the runtime bound it.
type Binding struct {
	ContainerPort int
	HostPort      int
	Protocol      string
	HostIP        string
}

// Mount binds a host path into the container.
type Mount struct {
	Source   string // host path
	Target   string // container path
	ReadOnly bool
}

// Ulimit is a resource limit.
type Ulimit struct {
	Name       string // core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack
	Soft, Hard int64
}

// Device exposes a host device in the container.
type Device struct {
	HostPath      string
	ContainerPath string // "": HostPath
	Permissions   string // cgroup permissions, a subset of "rwm"; "": all
}

// Tmpfs mounts a tmpfs in the container.
type Tmpfs struct {
	ContainerPath string
	SizeMiB       int64
	Options       []string // mount options, e.g. "noexec"
}

// Spec describes one container to create.
type Spec struct {
	// Name is a runtime name unique on the host (the agent derives it from the
	// task ID and container name).
	Name       string
	Image      string
	EntryPoint []string
	Command    []string
	Env        []string // KEY=VALUE, in order
	WorkingDir string
	User       string
	Hostname   string

	CPUShares         int64 // ECS cpu units; like ECS, runtimes raise 0 and 1 to 2
	MemoryMiB         int64 // hard limit; 0: none
	MemoryReservation int64 // soft limit MiB; 0: none

	NetworkMode string // "bridge", "host" or "none"
	Ports       []PortMapping
	Mounts      []Mount
	ExtraHosts  []string // "host:ip"
	DNSServers  []string
	DNSSearch   []string

	Labels         map[string]string
	Ulimits        []Ulimit
	ReadonlyRootfs bool
	Privileged     bool
	CapAdd         []string
	CapDrop        []string
	Init           bool

	Devices     []Device
	Tmpfs       []Tmpfs
	ShmSizeMiB  int64             // size of /dev/shm; 0: the runtime's default
	Sysctls     map[string]string // namespaced kernel parameters
	SecurityOpt []string          // Docker security options ("no-new-privileges", "label:...", ...)

	// HealthCheck is the task definition's health check, nil when it has
	// none. A runtime that checks health itself (Docker) runs it; for the
	// others the agent runs it through Exec.
	HealthCheck *HealthCheck
}

// HealthCheck is a container health check with ECS's defaults applied.
type HealthCheck struct {
	// Test is ["CMD", argv...] or ["CMD-SHELL", "command line"]; empty or
	// ["NONE"]: no check.
	Test        []string
	Interval    time.Duration // between checks (ECS default 30 s)
	Timeout     time.Duration // bound of one check (ECS default 5 s)
	Retries     int           // consecutive failures that make it unhealthy (ECS default 3)
	StartPeriod time.Duration // failures before the first success in it do not count (ECS default 0)
}

// Handle names a created container.
type Handle struct {
	ID     string // runtime ID (docker container ID, or the process runtime's ID)
	Name   string
	Labels map[string]string
}

// Status is a container's state as the runtime reports it. When both times
// are set, StartedAt is never after FinishedAt.
type Status struct {
	Running    bool
	Exited     bool
	ExitCode   int
	OOMKilled  bool
	Error      string // runtime's error text, if any
	StartedAt  time.Time
	FinishedAt time.Time
	Bindings   []Binding
}

// ExecResult is the outcome of a command run inside a container.
type ExecResult struct {
	ExitCode int
	Output   []byte // combined output, bounded
}

// LogLine is one line of a container's output.
type LogLine struct {
	Time   time.Time
	Stream string // "stdout" or "stderr"
	Text   []byte // without the trailing newline
}

// Driver runs containers.
type Driver interface {
	// Name is "docker" or "process".
	Name() string
	// Pull makes image available according to policy.
	Pull(ctx context.Context, image string, policy PullPolicy) error
	// Create creates a container (not started).
	Create(ctx context.Context, spec Spec) (Handle, error)
	// Start starts a created container and returns its status with the port
	// bindings the runtime chose.
	Start(ctx context.Context, h Handle) (Status, error)
	// Wait blocks until the container exits and returns its final status.
	Wait(ctx context.Context, h Handle) (Status, error)
	// Stop sends SIGTERM, waits up to timeout, then SIGKILL. It returns once
	// the container has exited. Stopping an exited container is a no-op.
	Stop(ctx context.Context, h Handle, timeout time.Duration) error
	// Inspect returns the current status.
	Inspect(ctx context.Context, h Handle) (Status, error)
	// Remove deletes an exited container and what the runtime keeps for it.
	Remove(ctx context.Context, h Handle) error
	// Exec runs cmd in the container (health checks), bounded by timeout.
	Exec(ctx context.Context, h Handle, cmd []string, timeout time.Duration) (ExecResult, error)
	// Logs streams the container's output from its start. Without follow it
	// ends at the end of what was written; with follow it keeps streaming
	// until the container exits and its output is drained, or ctx ends.
	Logs(ctx context.Context, h Handle, follow bool) (LogStream, error)
	// List returns every container berth created on this host.
	List(ctx context.Context) ([]Handle, error)
}

// LogStream yields log lines until io.EOF.
type LogStream interface {
	Next() (LogLine, error)
	io.Closer
}
