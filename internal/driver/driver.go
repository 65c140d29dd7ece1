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
//
// # Sandboxes (awsvpc)
//
// A driver may also implement Sandboxer: a sandbox is a task's own network
// namespace, which all the task's containers share (they reach each other
// on localhost) and into which the host side plugs the task's interface
// (internal/tasknet, through Sandbox.NetNSPath). Contract:
//   - A sandbox outlives the agent like a container: only RemoveSandbox
//     ends it. It carries LabelManaged, LabelSandbox and its spec's labels,
//     and ListSandboxes finds every sandbox berth created on the host, so a
//     restarted agent adopts them. List never returns a sandbox, even where
//     the runtime makes it of a container.
//   - A new sandbox has a loopback interface and nothing else; the runtime
//     never attaches it to a network of its own.
//   - RemoveSandbox is idempotent: removing a sandbox that does not exist
//     (any more) succeeds. Containers still running in it are the caller's
//     business: stop them first.
//   - A container joins a sandbox with Spec.NetworkMode NetworkAWSVPC and
//     Spec.Sandbox set to the sandbox's ID. It has no network of its own:
//     Hostname, DNSServers, DNSSearch and ExtraHosts come from the sandbox
//     (and are refused when set on the container), and nothing is
//     published: a port mapping is allowed only with HostPort 0 or equal to
//     ContainerPort, and means nothing to the runtime (Status.Bindings
//     stays empty).
//   - NetNSPath names the namespace for setns(2) while the sandbox exists.
//     It may change (the Docker runtime's is /proc/PID/ns/net of a pause
//     process), so callers read it from CreateSandbox or ListSandboxes
//     rather than keep it across restarts.
//
// # Task limits
//
// Spec.Task carries the task-level cpu and memory of the task a container
// belongs to (task definition or RunTask overrides). A driver that
// implements TaskCgroups and reports TaskLimits() enforced puts the task's
// containers in one parent cgroup per task holding those limits, as the
// ECS agent does on Linux: all the containers together get at most
// MemoryMiB of memory (a hard limit: past it the kernel OOM-kills inside
// the task) and CPUUnits/1024 CPUs (a CFS quota over a 100 ms period).
// Contract:
//   - The task's cgroup exists, with its limits, before a process of the
//     task runs: Create (or Start, at the latest) makes it when missing
//     and (re)writes its limits, so it is idempotent, and every container
//     of a task must carry the same TaskLimits. A container's own limits
//     (MemoryMiB, CPUShares) apply inside the task's.
//   - The task cgroup outlives the agent like the containers: an agent
//     restarted after a crash creates the task's next containers in it,
//     and removes it with RemoveTaskCgroup. Only RemoveTaskCgroup removes
//     it; the caller calls it once every container of the task is removed.
//     It is idempotent: an unknown task is not an error. Removing it
//     while a container of the task runs fails (the caller tries again
//     later); what a stopped container leaves in it is the runtime's to
//     clear.
//   - A driver that cannot enforce task limits on this host (another
//     cgroup layout, a remote engine, no permission) says so from
//     TaskLimits() with the reason, and then ignores Spec.Task: the agent
//     must not advertise ecs.capability.task-cpu-mem-limit. A driver that
//     does not implement TaskCgroups never enforces them.
//
// # Statistics
//
// A driver may report a container's resource usage with
// ContainerStats(ctx, runtimeID) (json.RawMessage, error): one Stats, in
// the Docker Engine API's stats shape, which the agent serves at the task
// metadata endpoint (see Stats for the contract; StatsHistory keeps the
// previous sample, ParseNetDev reads a namespace's interfaces).
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
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
	// LabelSandbox marks a sandbox ("true"); containers never carry it.
	LabelSandbox = "berth.sandbox"
)

// NetworkAWSVPC is the network mode of a container in a sandbox.
const NetworkAWSVPC = "awsvpc"

// Errors drivers wrap.
var (
	ErrCannotPull   = errors.New("CannotPullContainerError")
	ErrCannotCreate = errors.New("CannotCreateContainerError")
	ErrCannotStart  = errors.New("CannotStartContainerError")
	ErrNotFound     = errors.New("container not found")
)

// SandboxSpec describes a task's network namespace.
type SandboxSpec struct {
	// Name is a runtime name unique on the host (the agent derives it from
	// the task ID).
	Name string
	// Labels identify the task (LabelTaskARN, LabelCluster, ...).
	Labels     map[string]string
	Hostname   string
	DNSServers []string
	DNSSearch  []string
}

// Sandbox is a network namespace a runtime made for a task.
type Sandbox struct {
	ID   string
	Name string
	// NetNSPath is a path setns(2) accepts for the namespace: a
	// bind-mounted namespace file or /proc/PID/ns/net.
	NetNSPath string
	Labels    map[string]string
}

// Sandboxer is implemented by drivers that run tasks in network mode
// awsvpc (see "Sandboxes" in the package doc).
type Sandboxer interface {
	// CreateSandbox makes a sandbox and returns it once its namespace
	// exists.
	CreateSandbox(ctx context.Context, spec SandboxSpec) (Sandbox, error)
	// RemoveSandbox ends a sandbox by ID; an unknown ID is not an error.
	RemoveSandbox(ctx context.Context, id string) error
	// ListSandboxes returns every sandbox berth created on this host.
	ListSandboxes(ctx context.Context) ([]Sandbox, error)
}

// CheckNetwork checks what the contract says of a container's sandbox:
// NetworkMode NetworkAWSVPC exactly when Sandbox is set, and then no
// hostname, DNS, extra hosts of its own and no port publishing (HostPort 0
// or ContainerPort). It is nil for a container outside a sandbox.
func CheckNetwork(spec Spec) error {
	if (spec.NetworkMode == NetworkAWSVPC) != (spec.Sandbox != "") {
		return fmt.Errorf("network mode %q with sandbox %q: network mode awsvpc needs a sandbox, and only it takes one", spec.NetworkMode, spec.Sandbox)
	}
	if spec.Sandbox == "" {
		return nil
	}
	switch {
	case spec.Hostname != "":
		return errors.New("hostname cannot be set on a container in network mode awsvpc: the task's sandbox has it")
	case len(spec.DNSServers) > 0 || len(spec.DNSSearch) > 0:
		return errors.New("dnsServers and dnsSearchDomains cannot be set on a container in network mode awsvpc: the task's sandbox has them")
	case len(spec.ExtraHosts) > 0:
		return errors.New("extraHosts cannot be set on a container in network mode awsvpc")
	}
	for _, p := range spec.Ports {
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return fmt.Errorf("invalid container port %d", p.ContainerPort)
		}
		if p.HostPort != 0 && p.HostPort != p.ContainerPort {
			return fmt.Errorf("port %d: network mode awsvpc publishes nothing, so hostPort must be 0 or the container port (got %d)", p.ContainerPort, p.HostPort)
		}
	}
	return nil
}

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
	// Secrets are KEY=VALUE entries added over Env (a name in both takes
	// the secret's value): the values of the task definition's secrets.
	// They are never serialised with the spec (json:"-"): a runtime keeps
	// them out of its own records where it can. Docker's container
	// config necessarily holds them, as it does for ECS on EC2; the
	// process runtime keeps them in memory and hands them to the shim
	// over a pipe (see its package doc).
	Secrets    []string `json:"-"`
	WorkingDir string
	User       string
	Hostname   string

	CPUShares         int64 // ECS cpu units; like ECS, runtimes raise 0 and 1 to 2
	MemoryMiB         int64 // hard limit; 0: none
	MemoryReservation int64 // soft limit MiB; 0: none
	// Task is the limits of the task the container belongs to, shared by
	// all its containers; nil: none (see "Task limits" in the package doc).
	Task *TaskLimits

	NetworkMode string // "bridge", "host", "none" or NetworkAWSVPC
	// Sandbox is the ID of the sandbox the container joins; set exactly
	// when NetworkMode is NetworkAWSVPC (see the package doc).
	Sandbox    string
	Ports      []PortMapping
	Mounts     []Mount
	ExtraHosts []string // "host:ip"
	DNSServers []string
	DNSSearch  []string

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
	// CreatedAt is when the runtime created the container (zero when it
	// does not say).
	CreatedAt time.Time
	// ImageID identifies the image the container runs: Docker's image ID
	// ("sha256:..."); the process runtime's image digest when its image
	// reference names one (NAME@sha256:...); else "".
	ImageID string
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
	// List returns every container berth created on this host; never a
	// sandbox (see Sandboxer.ListSandboxes).
	List(ctx context.Context) ([]Handle, error)
}

// LogStream yields log lines until io.EOF.
type LogStream interface {
	Next() (LogLine, error)
	io.Closer
}

// MergeEnv is env with secrets (Spec.Secrets) added over it: a secret
// replaces an entry of env with the same name.
func MergeEnv(env, secrets []string) []string {
	if len(secrets) == 0 {
		return slices.Clone(env)
	}
	names := make(map[string]bool, len(secrets))
	for _, kv := range secrets {
		k, _, _ := strings.Cut(kv, "=")
		names[k] = true
	}
	out := make([]string, 0, len(env)+len(secrets))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !names[k] {
			out = append(out, kv)
		}
	}
	return append(out, secrets...)
}
