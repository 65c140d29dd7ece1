// Package fakedriver is an in-memory runtime for tests: a driver.Driver
// whose containers are scripted programs, written by hand (no mocking
// library) so that tests of the agent run without Docker or processes, and
// under testing/synctest with fake time.
//
// Contract, beyond package driver's:
//   - The containers live in the Runtime, not in the agent using it: give
//     one *Runtime to an agent, stop that agent, give it to a new one, and
//     the new agent finds the same containers, running or exited, as after
//     an agent restart.
//   - A container runs the Program set for its image (SetProgram): it exits
//     with ExitCode ExitAfter after it starts, or, with ExitAfter zero, runs
//     until it is stopped or told to exit (Exit).
//   - Pull succeeds for every image (there is no registry) unless the image
//     is set to fail (FailPull): then it fails with an error wrapping
//     driver.ErrCannotPull. A Program's StartError fails Start the same way
//     with driver.ErrCannotStart, and leaves the container created.
//   - Every call can take a latency (SetLatency), waited on the clock: under
//     synctest it costs fake time. A context that ends first ends the call
//     with the context's error and no effect.
//   - Stop sends SIGTERM: the program exits with StopCode after StopDelay,
//     or, when it ignores SIGTERM or StopDelay exceeds the timeout, is
//     killed at the timeout with exit code 137. Stop returns once the
//     container has exited; stopping an exited container is a no-op.
//   - Remove deletes a container that is not running and refuses a running
//     one. Every call naming a container the Runtime does not have (never
//     created, or removed) fails with driver.ErrNotFound.
//   - List returns every container whose labels have driver.LabelManaged
//     "true", running or not, with its labels, in creation order.
//   - Sandboxes (driver.Sandboxer) live in the Runtime too; their
//     NetNSPath names no real namespace. A container in one (NetworkMode
//     awsvpc) gets no port bindings; Create refuses an unknown sandbox and
//     what driver.CheckNetwork refuses, with driver.ErrCannotCreate.
//   - Task limits (driver.TaskCgroups) are enforced unless
//     DisableTaskLimits says why not: Create records the task's cgroup
//     with its limits (TaskCgroups), and RemoveTaskCgroup forgets it,
//     refusing while a container of the task runs. Containers reports the
//     TaskLimits each container was created with, enforced or not.
//   - Calls returns every call made so far, in order, for tests to check
//     what was (or was not) pulled, created, started, stopped or removed.
//
// A Runtime is safe for concurrent use. Under synctest, create it inside
// the bubble that uses it.
package fakedriver
