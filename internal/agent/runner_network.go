package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskplan"
)

// netPhase is where an awsvpc task's network is. A task without a network
// (r.task.Network nil) stays netNone.
//
// The runner provisions the network (a sandbox from the runtime, the task's
// interface in it) before it creates any container, and tears it down
// (interface, then sandbox) once every container has stopped, before it
// reports the task STOPPED: the server frees the task's address on that
// report, so the address is never on two interfaces of the host. Until the
// network is up the task reports PROVISIONING, while it is torn down
// DEPROVISIONING, as ECS does.
type netPhase int

const (
	netNone         netPhase = iota // nothing done yet
	netProvisioning                 // sandbox and interface in flight
	netReady                        // containers may be created in the sandbox
	netFailed                       // provisioning failed: the task stops
	netTearing                      // interface and sandbox being removed
	netDone                         // torn down: the task may report STOPPED
)

// networked reports whether the task runs in network mode awsvpc.
func (r *runner) networked() bool { return r.task.Network != nil }

// sandboxer is the driver's sandbox side, nil when it has none.
func (a *Agent) sandboxer() driver.Sandboxer {
	sb, _ := a.cfg.Driver.(driver.Sandboxer)
	return sb
}

// sandboxName is the runtime name of a task's sandbox (the ECS agent names
// its pause containers alike).
func sandboxName(family string, revision int32, id string) string {
	return "ecs-" + sanitize(family) + "-" + strconv.Itoa(int(revision)) + "-internalecspause-" + id
}

// provision makes the task's sandbox (or finds it, for an adopted task)
// and attaches the task's interface, in the background.
func (r *runner) provision(ctx context.Context, adopted bool) {
	r.net = netProvisioning
	t := r.task
	spec := r.a.sandboxSpec(&t)
	r.async(ctx, 2*time.Minute, func(ctx context.Context) event {
		if r.a.cfg.TaskNetwork == nil {
			return event{kind: evNetwork, err: errors.New("this container instance runs no awsvpc tasks")}
		}
		sb, err := r.a.ensureSandbox(ctx, spec, adopted)
		if err == nil {
			err = r.a.cfg.TaskNetwork.Attach(ctx, taskID(t.TaskArn), sb.NetNSPath, *t.Network)
		}
		return event{kind: evNetwork, sandbox: sb, err: err}
	})
}

// sandboxSpec is the sandbox of awsvpc task t: its hostname, labels and
// DNS settings (the task definition's, else Config.TaskDNS).
func (a *Agent) sandboxSpec(t *agentproto.Task) driver.SandboxSpec {
	def := t.Definition
	spec := driver.SandboxSpec{
		Name:     sandboxName(deref(def.Family), def.Revision, taskID(t.TaskArn)),
		Hostname: t.Network.PrivateDNSName,
		Labels: map[string]string{
			driver.LabelManaged: "true", driver.LabelTaskARN: t.TaskArn, driver.LabelCluster: t.ClusterArn,
			driver.LabelFamily: deref(def.Family), driver.LabelRevision: strconv.Itoa(int(def.Revision)),
			labelAgent: a.instanceID,
		},
	}
	for _, cd := range def.ContainerDefinitions {
		spec.DNSServers = append(spec.DNSServers, cd.DnsServers...)
		spec.DNSSearch = append(spec.DNSSearch, cd.DnsSearchDomains...)
	}
	if len(spec.DNSServers) == 0 && a.cfg.TaskDNS != "" {
		if driver.SupportsDNS(a.cfg.Driver, driver.NetworkAWSVPC) {
			spec.DNSServers = []string{a.cfg.TaskDNS}
		} else {
			a.logNoTaskDNS(driver.NetworkAWSVPC)
		}
	}
	return spec
}

// ensureSandbox returns the task's sandbox: an adopted task's existing one
// (an error when it is gone), else a new one (or the one a crash left
// behind under the same name).
func (a *Agent) ensureSandbox(ctx context.Context, spec driver.SandboxSpec, adopted bool) (driver.Sandbox, error) {
	sbx := a.sandboxer()
	if sbx == nil {
		return driver.Sandbox{}, errors.New("the runtime makes no task network namespaces")
	}
	if adopted {
		sb, ok, err := findSandbox(ctx, sbx, spec.Labels[driver.LabelTaskARN])
		switch {
		case err != nil:
			return driver.Sandbox{}, err
		case !ok || sb.NetNSPath == "":
			// Its namespace is gone (a Docker pause container that
			// stopped, a host reboot): the task's running containers lost
			// their network, and a new namespace would not be theirs.
			return driver.Sandbox{}, errors.New("the task's network namespace is gone")
		}
		return sb, nil
	}
	sb, err := sbx.CreateSandbox(ctx, spec)
	if err != nil {
		if found, ok, ferr := findSandbox(ctx, sbx, spec.Labels[driver.LabelTaskARN]); ferr == nil && ok {
			return found, nil
		}
		return driver.Sandbox{}, fmt.Errorf("task network namespace: %w", err)
	}
	return sb, nil
}

// findSandbox finds the sandbox of a task by its label.
func findSandbox(ctx context.Context, sbx driver.Sandboxer, taskArn string) (driver.Sandbox, bool, error) {
	all, err := sbx.ListSandboxes(ctx)
	if err != nil {
		return driver.Sandbox{}, false, fmt.Errorf("list task network namespaces: %w", err)
	}
	for _, sb := range all {
		if sb.Labels[driver.LabelTaskARN] == taskArn {
			return sb, true, nil
		}
	}
	return driver.Sandbox{}, false, nil
}

// teardown removes the task's interface and sandbox in the background,
// retrying until it succeeds or the agent stops: the address must not be
// freed while an interface holds it.
func (r *runner) teardown(ctx context.Context) {
	r.net = netTearing
	arn, known := r.task.TaskArn, r.sandbox
	r.async(ctx, 0, func(ctx context.Context) event {
		wait := 500 * time.Millisecond
		for {
			err := r.a.removeTaskNetwork(ctx, arn, known)
			if err == nil || ctx.Err() != nil {
				return event{kind: evNetwork, err: err}
			}
			r.log.Warn("remove the task's network; retrying", "err", err, "in", wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return event{kind: evNetwork, err: ctx.Err()}
			}
			wait = min(2*wait, 30*time.Second)
		}
	})
}

// removeTaskNetwork detaches a task's interface and removes its sandbox
// (known, or found by label). Both steps are idempotent.
func (a *Agent) removeTaskNetwork(ctx context.Context, arn string, known driver.Sandbox) error {
	if err := a.cfg.TaskNetwork.Detach(ctx, taskID(arn)); err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	sbx := a.sandboxer()
	if sbx == nil {
		return nil
	}
	if known.ID == "" {
		sb, ok, err := findSandbox(ctx, sbx, arn)
		if err != nil || !ok {
			return err
		}
		known = sb
	}
	return sbx.RemoveSandbox(ctx, known.ID)
}

// applyNetwork records the outcome of provision or teardown.
func (r *runner) applyNetwork(ev event) {
	r.inflight--
	switch r.net {
	case netProvisioning:
		if ev.err != nil {
			r.net = netFailed
			r.log.Warn("task network failed", "err", ev.err)
			now := time.Now()
			running := false
			for i := range r.plan.States {
				s := &r.plan.States[i]
				if s.Phase < taskplan.PhaseCreated && s.Err == "" {
					s.Err, s.FinishedAt = "CannotCreateContainerError: task network: "+ev.err.Error(), now
				}
				running = running || s.Phase == taskplan.PhaseRunning
			}
			if running && r.plan.Desired != taskplan.DesiredStopped {
				// An adopted task whose network cannot be restored stops.
				r.plan.Desired = taskplan.DesiredStopped
				r.plan.StopCode = taskplan.StopCodeEssentialContainerExited
				r.plan.StopReason = "Task network lost: " + ev.err.Error()
				r.plan.StoppingAt = now
			}
			return
		}
		r.sandbox, r.net = ev.sandbox, netReady
	case netTearing:
		if ev.err != nil {
			r.net = netReady // try again on the next decision, unless the agent stops
			return
		}
		r.sandbox, r.net = driver.Sandbox{}, netDone
	}
}

// holdForNetwork filters a decision's actions while the task's network is
// not ready: pulls and stops go on; creates and starts wait for it, and the
// first one starts provisioning.
func (r *runner) holdForNetwork(ctx context.Context, d taskplan.Decision) taskplan.Decision {
	if !r.networked() || r.net == netReady {
		return d
	}
	kept := d.Actions[:0:0]
	for _, act := range d.Actions {
		switch act.Kind {
		case taskplan.Create, taskplan.Start:
			if r.net == netNone && !r.held && d.Desired != taskplan.DesiredStopped {
				r.provision(ctx, false)
			}
			continue
		}
		kept = append(kept, act)
	}
	d.Actions = kept
	return d
}

// needsTeardown reports whether a STOPPED task must still remove its
// network before it reports STOPPED.
func (r *runner) needsTeardown() bool {
	return r.networked() && r.net != netDone && r.a.cfg.TaskNetwork != nil
}

// networkStatus is the status the task reports while its network is not
// up (PROVISIONING) or being torn down (DEPROVISIONING), else status.
func (r *runner) networkStatus(status string) string {
	switch {
	case !r.networked():
		return status
	case status == taskplan.StatusPending && r.net != netReady:
		return "PROVISIONING"
	case status == taskplan.StatusStopped && r.net != netDone:
		return "DEPROVISIONING"
	}
	return status
}

// inSandbox puts a container spec in the task's sandbox: network mode
// awsvpc, nothing published, hostname and DNS the sandbox's.
func inSandbox(spec *driver.Spec, sandbox string) {
	spec.NetworkMode, spec.Sandbox = driver.NetworkAWSVPC, sandbox
	spec.Hostname, spec.DNSServers, spec.DNSSearch, spec.ExtraHosts, spec.Ports = "", nil, nil, nil, nil
}
