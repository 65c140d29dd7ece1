package fsm

import (
	"fmt"
	"strings"
	"time"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// The service scheduler and its load balancers (ecs-semantics §6.8,
// traffic.md E.1): a service task is registered in each of the service's
// target groups when it reaches RUNNING (ip targets: the task's address and
// the container port; instance targets: its instance's EC2 ID and the host
// port mapped to the container port), and deregistered when it is stopped.
// A task the scheduler or a user stops while it runs is held: its desired
// status is STOPPED at once (lastStatus DEACTIVATING) but its agent keeps
// it running until the longest deregistration delay of its target groups
// ends (Task.DrainUntil), so that in-flight requests finish. A task that
// stops on its own, or whose host is lost, is deregistered without a hold.
// Every step records ECS's service events.

// serviceOf returns the service a task belongs to (its group is
// service:NAME), or nil.
func serviceOf(tx *state.Txn, t *state.Task) *state.Service {
	name, ok := strings.CutPrefix(deref(t.Shape.Group), "service:")
	if !ok {
		return nil
	}
	return tx.Service(t.Cluster, name)
}

// registerTaskTargets registers a task that just reached RUNNING in its
// service's target groups and returns the service events to record.
func registerTaskTargets(tx *state.Txn, t *state.Task, svc *state.Service, now time.Time) ([]string, error) {
	if svc == nil || len(svc.Shape.LoadBalancers) == 0 || len(t.Targets) > 0 {
		return nil, nil
	}
	var events []string
	counts := map[string]int{}
	var order []string
	for _, lb := range svc.Shape.LoadBalancers {
		arn := deref(lb.TargetGroupArn)
		tg := tx.TargetGroup(arn)
		if tg == nil || lb.ContainerPort == nil {
			events = append(events, fmt.Sprintf("(service %s) failed to register targets in (target-group %s) with (error The target group does not exist.)", svc.Name, arn))
			continue
		}
		id, port, ok := taskTarget(tx, t, tg, deref(lb.ContainerName), *lb.ContainerPort)
		if !ok {
			events = append(events, fmt.Sprintf("(service %s) failed to register targets in (target-group %s) with (error The task has no address or host port for container %s port %d.)",
				svc.Name, arn, deref(lb.ContainerName), *lb.ContainerPort))
			continue
		}
		rec := &state.Target{TargetGroupARN: arn, ID: id, Port: port, RegisteredAt: now}
		if err := tx.Put(state.TableTargets, rec); err != nil {
			return nil, err
		}
		t.Targets = append(t.Targets, state.TaskTarget{TargetGroupARN: arn, ID: id, Port: port})
		if counts[arn] == 0 {
			order = append(order, arn)
		}
		counts[arn]++
	}
	for _, arn := range order {
		events = append(events, fmt.Sprintf("(service %s) registered %d targets in (target-group %s)", svc.Name, counts[arn], arn))
	}
	return events, nil
}

// taskTarget is the target a task is registered as in tg.
func taskTarget(tx *state.Txn, t *state.Task, tg *state.TargetGroup, container string, port int32) (string, int, bool) {
	if tg.TargetType == elb.TargetTypeIP {
		a, ok := TaskAddress(t)
		if !ok {
			return "", 0, false
		}
		return a.String(), int(port), true
	}
	ci := tx.Instance(t.InstanceID)
	if ci == nil || deref(ci.Shape.Ec2InstanceId) == "" {
		return "", 0, false
	}
	for _, c := range t.Shape.Containers {
		if deref(c.Name) != container {
			continue
		}
		for _, b := range c.NetworkBindings {
			if b.ContainerPort != nil && *b.ContainerPort == port && b.HostPort != nil && (b.Protocol == "" || b.Protocol == shape.TransportProtocolTcp) {
				return deref(ci.Shape.Ec2InstanceId), int(*b.HostPort), true
			}
		}
	}
	return "", 0, false
}

// deregisterTaskTargets deregisters a task's targets that are still
// registered: each drains for its target group's deregistration delay
// (or goes at once without one). With hold, the task's agent keeps it
// running until the longest delay ends (Task.DrainUntil) and the task
// shows DEACTIVATING. It returns the service events to record.
func deregisterTaskTargets(tx *state.Txn, t *state.Task, svcName string, now time.Time, hold bool) ([]string, error) {
	if len(t.Targets) == 0 || !t.DrainUntil.IsZero() {
		return nil, nil
	}
	var until time.Time
	counts := map[string]int{}
	var order []string
	for _, tt := range t.Targets {
		rec := tx.Target(tt.TargetGroupARN, tt.ID, tt.Port)
		if rec == nil || !rec.DrainUntil.IsZero() {
			continue // deregistered by hand, or already draining
		}
		delay := time.Duration(0)
		if tg := tx.TargetGroup(tt.TargetGroupARN); tg != nil {
			delay = DeregistrationDelay(tg)
		}
		if delay == 0 {
			if err := tx.Delete(state.TableTargets, rec); err != nil {
				return nil, err
			}
		} else {
			d := *rec
			d.DrainUntil = now.Add(delay)
			if err := tx.Put(state.TableTargets, &d); err != nil {
				return nil, err
			}
			if d.DrainUntil.After(until) {
				until = d.DrainUntil
			}
		}
		if counts[tt.TargetGroupARN] == 0 {
			order = append(order, tt.TargetGroupARN)
		}
		counts[tt.TargetGroupARN]++
	}
	if len(order) == 0 {
		return nil, nil
	}
	var events []string
	if hold && !until.IsZero() {
		t.DrainUntil = until
		if deref(t.Shape.LastStatus) == "STOPPING" {
			t.Shape.LastStatus = ptr("DEACTIVATING")
		}
		events = append(events, fmt.Sprintf("(service %s) has begun draining connections on 1 tasks.", svcName))
	} else {
		// Not held: a DrainUntil in the past marks the task's targets as
		// deregistered.
		t.DrainUntil = now
	}
	for _, arn := range order {
		events = append(events, fmt.Sprintf("(service %s) deregistered %d targets in (target-group %s)", svcName, counts[arn], arn))
	}
	return events, nil
}

// recordServiceEvents appends events to the task's service.
func recordServiceEvents(tx *state.Txn, svc *state.Service, now time.Time, events []string) error {
	if svc == nil || len(events) == 0 {
		return nil
	}
	cp := copyService(svc)
	appendEvents(cp, now, events)
	return tx.Put(state.TableServices, cp)
}

func appendEvents(svc *state.Service, now time.Time, events []string) {
	for _, e := range events {
		svc.Events = append(svc.Events, state.Event{At: now, Message: e})
	}
	if n := len(svc.Events); n > MaxServiceEvents {
		svc.Events = svc.Events[n-MaxServiceEvents:]
	}
}
