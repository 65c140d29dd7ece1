// Package process is berth's process runtime: it implements driver.Driver by
// running a task container's entryPoint+command as host processes, for
// machines without Docker. The task definition's image is recorded and
// reported, never pulled; there is no filesystem, user or PID isolation,
// and no network isolation outside a sandbox (see Sandboxes).
// docs/runtimes.md ("Process runtime") lists what is enforced.
//
// # Supervision
//
// Each container has a supervisor, the shim: the berth binary itself run as
// `berth shim run --ready-fd 3 DIR` (see ShimCommand and RunShim). The agent
// starts it in a new session with its stdio on DIR/shim.log, so it survives
// the agent's exit and crash. The shim starts the workload in its own
// process group: with Go's fork/exec (process group, working directory,
// environment, and the cgroup through clone3's CLONE_INTO_CGROUP) when the
// container has no ulimits, no user to switch to and no DNS settings,
// otherwise through a trampoline (`berth shim exec`) that mounts the
// container's resolv.conf (see Resolvers), applies ulimits, switches user,
// changes directory, resolves the program through the container's PATH as
// that user and execs it, reporting a failure to exec on a close-on-exec
// pipe. Both ways report the same failures with the same exit codes. The
// shim copies stdout and stderr into size-bounded, rotated log files and
// records the workload's exit status. A new agent adopts a container by
// reading its directory: nothing but the state directory connects an agent
// to a shim.
//
// # Waiting without polling
//
// Start, Wait and Stop do not poll the state directory. Start waits on a
// pipe whose write end the shim holds as fd 3 and closes once
// workload.json or start-error.json is written (or when it dies). Wait and
// Stop wait for the exit of the process the records show alive, the shim
// or else an unsupervised workload, on its pidfd (pidfd_open, registered
// with the Go runtime's poller: no thread per container), then read the
// records once: the shim writes exit.json before it exits, and a workload
// without a shim gets its lost record from the snapshot. They re-read the
// records every recheckInterval (seconds) as a safety net, and fall back
// to polling every PollInterval for what has no event: a container another
// driver is starting, and kernels without pidfd (before 5.3).
//
// # Memory of the state directory
//
// The driver keeps every container's spec.json (never changed once
// written) and a name → ID index in memory, read at New and refreshed by
// List, so Create checks a name without reading the directory. Names are
// unique per driver: one agent owns a state directory.
//
// # State directory
//
// StateDir/ID/ holds one container; ID is 32 hex digits. Every file is
// written whole (temporary file, rename), and each has one writer. The
// records of live processes (shim.json, workload.json) are not fsynced: a
// power loss ends the processes they describe, and one found torn reads as
// missing. The others are fsynced before the rename.
//
//	spec.json         agent (Create): the spec and everything derived from it
//	                  (never Spec.Secrets' values: their names only; see secrets.go)
//	started           agent (Start): created exclusively; a second Start does not launch a second shim
//	shim.json         shim: its pid and start time
//	workload.json     shim: the workload's pid (= its process group), start time, StartedAt
//	start-error.json  shim, or the agent once the shim is proven dead: why the workload never ran
//	exit.json         shim, or the agent once the shim is proven dead: the final status
//	shim.log          the shim's own diagnostics
//	logs/NNNNNNNN.log the workload's output, see below
//
// Invariants:
//   - exit.json is written last: after the output is drained, the log files
//     are closed and the cgroup is removed. Once present it never changes.
//   - A process is alive only if /proc/PID/stat shows the recorded start time
//     (field 22) and it is not a zombie, so a reused pid is never taken for
//     the shim or the workload.
//   - Only the shim signals the workload's process group while it lives: it
//     is the workload's parent, so the group leader cannot be reaped and its
//     pid reused before the shim is done with it. The agent signals the shim
//     through a pidfd opened before the start time is checked. The agent
//     signals the group itself only when the shim is gone and the leader is
//     verified alive.
//   - Shim signals: SIGTERM and SIGINT are forwarded to the process group,
//     SIGUSR1 means SIGKILL the process group (and the cgroup), SIGHUP is
//     ignored. Signals that arrive before the workload runs are delivered as
//     soon as it does.
//   - When the workload's main process exits, the rest of its process group
//     (and of its cgroup) is killed, like a container's PID namespace.
//   - The exit code is the process's exit status, or 128+signal when a signal
//     killed it (SIGKILL and OOM kills read 137, SIGTERM 143). When the shim
//     died before recording it, the code is 255 and Status.Error says so.
//   - The agent's environment never reaches a workload: a workload gets a
//     base PATH and HOME, then the spec's Env.
//
// # Sandboxes (network mode awsvpc)
//
// The driver is a driver.Sandboxer. A sandbox is a network namespace with
// lo up, bind-mounted at StateDir/netns/ID (as `ip netns add` mounts one
// under /run/netns: StateDir/netns is bound onto itself and made a shared
// mount, so a mount namespace copied from the agent's sees the namespace
// unmounted when it is removed; the directory's own mount goes with the
// last sandbox). Its record, StateDir/sandboxes/ID.json (name, labels,
// hostname), is written before the namespace is mounted and removed after
// it is unmounted. The mount keeps the namespace alive without any process,
// so a sandbox outlives the agent; ListSandboxes reads the records and
// drops those whose namespace is no longer mounted (after a reboot). The
// hostname is recorded, not applied (there is no UTS namespace). The
// sandbox's DNS settings are written to StateDir/sandboxes/ID.resolv.conf,
// which its containers' workloads see as /etc/resolv.conf (see Resolvers),
// and removed with the sandbox.
//
// A container with Spec.Sandbox records the namespace's path in its exec
// plan. The shim, and Exec, fork its program (or the trampoline) from a
// goroutine locked to a thread that has joined the namespace with setns,
// and return the thread to its own namespace before unlocking it; a thread
// that cannot return stays locked and ends with its goroutine. No thread
// is left in a sandbox, which it would keep alive. The shim itself stays
// in the host's namespace.
//
// # Resolvers
//
// A container with DNS servers or search domains (Spec.DNSServers and
// DNSSearch, in network modes host and bridge, which the runtime runs as
// host; a sandbox's, in awsvpc) gets a resolv.conf of its own: the servers
// and search domains given, what is not given (and the options) taken from
// the host's /etc/resolv.conf. Create writes it to DIR/resolv.conf; the
// exec plan carries its path (execPlan.ResolvConf). Such a workload always
// starts through the trampoline, forked with CLONE_NEWNS: a mount
// namespace of its own, in which Go makes every mount private (MS_REC |
// MS_PRIVATE) before the trampoline runs, so nothing it mounts reaches the
// host. The trampoline, still privileged, bind-mounts the file over
// /etc/resolv.conf (over its target, when that is a symbolic link) and
// remounts it read-only, then applies ulimits, switches user and execs.
// The host's /etc/resolv.conf and mount table do not change.
//
// Mount namespaces need CAP_SYS_ADMIN. Where the agent lacks it (an agent
// that does not run as root), SupportsDNS reports false and a container or
// sandbox with DNS settings is refused with CannotCreateContainerError
// saying why; one without runs as before, with the host's resolvers. The
// agent's own default nameserver (agent Config.TaskDNS) is not applied
// then, rather than failing tasks.
//
// # Task limits
//
// The driver is a driver.TaskCgroups. It enforces Spec.Task where it has
// per-container cgroups with the memory and cpu controllers (cgroup v2
// only; TaskLimits says why not elsewhere, and then Spec.Task is
// ignored, like a container's own limits). Task T's cgroup is
// berth-task-T in the driver's cgroup parent (Limits.Cgroup), and the
// cgroups of T's containers are made inside it instead of in the parent:
//   - The shim makes the task's cgroup, when missing, before its
//     container's, and (re)writes memory.max (MemoryMiB, or max) and
//     cpu.max (cpu units * 100000 / 1024 per 100000 µs, or max), then
//     enables memory and cpu for its children. The workload is cloned into
//     its container's cgroup, below the task's, as before.
//   - A container with a task memory limit has memory.oom.group set: an
//     OOM kill the task's limit causes takes that container whole, and
//     reports it OOMKilled (its own memory.events); its siblings are not.
//   - RemoveTaskCgroup removes berth-task-T; it fails while a container
//     of the task runs (a container's cgroup lives from its start to its
//     exit).
//
// # Logs
//
// Output lines are stored in the CRI log format, one record per line:
//
//	2006-01-02T15:04:05.000000000Z stdout F text
//
// The time is when the shim read the line (UTC), the stream is stdout or
// stderr, and the flag is F for a full line or P for a piece of a line longer
// than 16 KiB (the next record continues it). Files are numbered; the shim
// appends to the highest number and, when a record would take the file past
// the configured size, starts the next number and deletes the oldest beyond
// the configured count. Files are never renamed, so a reader that holds a file
// knows it is complete once a higher number exists.
//
// # Statistics
//
// ContainerStats reads a running container's usage as driver.Stats from
// its cgroup v2 files, or, without a cgroup, sums its process group from
// /proc (see ContainerStats); a container in a sandbox adds the sandbox's
// interfaces. The previous sample is kept in memory (dropped on Remove).
package process
