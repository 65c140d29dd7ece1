// Package docker implements driver.Driver on the Docker Engine API through
// github.com/moby/moby/client (the client negotiates the API version down to
// the engine's, 1.40 at least).
//
// Invariants:
//   - Every container it creates carries the Spec's labels plus
//     berth.managed=true, has no restart policy and is never auto-removed:
//     containers outlive the agent, and only Stop and Remove end them. List
//     finds them by that label, so a new Driver (an agent restarted after a
//     crash) adopts what an earlier one created.
//   - No state about containers lives in the Driver: every answer comes from
//     the engine (inspect), so Wait can be abandoned (context cancelled) and
//     called again later, by this or another Driver, without losing the
//     exit code.
//   - CPU shares follow the ECS agent: 0 and 1 (and anything below 2) become
//     2, the kernel's minimum, and values above 262144 are capped.
//   - Pull follows ECS_IMAGE_PULL_BEHAVIOR (see Pull). The only state the
//     driver keeps is the record of images it pulled, for the "once" policy;
//     it is a JSON file in Options.StateDir, or memory when that is empty.
//   - Errors: an unknown container wraps driver.ErrNotFound; a failed pull
//     wraps driver.ErrCannotPull, a failed create driver.ErrCannotCreate, a
//     failed start driver.ErrCannotStart, each followed by the engine's text,
//     so err.Error() reads like ECS's reasons:
//     "CannotStartContainerError: Error response from daemon: ...".
//   - The Spec's health check becomes the container's Healthcheck, run by
//     the engine; WatchHealth reads the result (the agent does not exec
//     checks on this runtime). Without one the image's HEALTHCHECK is off.
//   - A container whose start failed stays "created" in Docker with an exit
//     code and an error; the driver reports it as exited with them.
//
// # Sandboxes
//
// The Driver is a driver.Sandboxer. A sandbox is a pause container: network
// mode none (the host side plugs in an interface later), no restart
// policy, read-only, every capability dropped, the sandbox's hostname and
// DNS settings, labels as a container's plus driver.LabelSandbox. It runs
// `berth pause` (internal/pause) from an image made locally from the berth
// binary (Options.PauseImage and PauseBinary; internal/selfimage), the
// first time a sandbox is created. Invariants:
//   - NetNSPath is /proc/PID/ns/net of the pause process, a path in the
//     host's PID namespace (the agent must share it). It changes if the
//     pause container is restarted; a pause container that does not run is
//     listed with an empty NetNSPath: its namespace, and the network of the
//     containers that joined it, are gone.
//   - A container with Spec.Sandbox gets network mode container:PAUSE-ID,
//     and with it the pause container's hostname, /etc/hosts and
//     resolv.conf; Create checks that the pause container runs.
//   - List leaves pause containers out, so an agent never mistakes one for
//     an orphaned task container; ListSandboxes finds them by label.
//   - RemoveSandbox stops (SIGTERM) and removes the pause container; it
//     refuses a container that is not a sandbox.
//
// # Task limits
//
// The Driver is a driver.TaskCgroups. It enforces Spec.Task when the
// engine is local (a unix socket, and the engine's host name is this
// host's), uses the cgroupfs cgroup driver, and
// berth sees the hierarchies at their roots and may write them; New
// decides, and TaskLimits says why not otherwise (the systemd cgroup
// driver, whose slices only systemd may configure, is not supported).
// Task T's cgroup is /berth/task-T (TaskCgroupParent) in each hierarchy:
//   - Create makes it and writes its limits before the container: on
//     cgroup v1 memory.limit_in_bytes in the memory hierarchy and
//     cpu.cfs_period_us (100000) and cpu.cfs_quota_us (cpu units * 100000
//     / 1024) in the cpu one; on v2 memory.max and cpu.max, after enabling
//     the memory and cpu controllers from the root down. The container
//     gets HostConfig.CgroupParent /berth/task-T, so runc makes its cgroup
//     inside, in every hierarchy.
//   - RemoveTaskCgroup removes /berth/task-T from every hierarchy (runc
//     made it in all of them). It fails while a container of the task runs
//     (its cgroup is inside); a stopped container has no cgroup left.
//     /berth itself stays.
//   - Only memory is limited, not memory+swap, as the ECS agent does.
//   - On cgroup v1 the kernel's OOM notification reaches every cgroup
//     below the one at its limit, so when the task's limit makes the
//     kernel kill a process, the engine reports every container of the
//     task that was running OOMKilled, killed or not; the exit code tells
//     them apart (137 for the killed).
//
// # Statistics
//
// ContainerStats passes the engine's one-shot stats through as
// driver.Stats, filling precpu_stats and network_rate_stats from the
// driver's previous sample (kept in memory, dropped on Remove), and the
// networks of a container in a sandbox from /proc/PID/net/dev of its
// process (the engine reports none for network mode container:).
package docker
