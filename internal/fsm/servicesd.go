package fsm

import (
	"fmt"
	"strconv"
	"time"

	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// The service scheduler and Cloud Map (ecs-semantics §6.8, §10.2,
// traffic.md D.9): a task of a service with a service registry is
// registered as an instance of the registry's Cloud Map service when it
// reaches RUNNING (instance ID: the task ID; ECS's attributes), and
// deregistered in the same change that stops it (before its agent stops
// it), or when it stops on its own. When the Cloud Map service has a
// custom health check, the instance's status follows the task's health:
// UNHEALTHY when the task is UNHEALTHY; when the task definition has
// container health checks, HEALTHY only once the task is HEALTHY;
// otherwise HEALTHY. Every step records a service event.

// Cloud Map instance attributes ECS writes.
const (
	attrIPv4       = "AWS_INSTANCE_IPV4"
	attrPort       = "AWS_INSTANCE_PORT"
	attrAZ         = "AVAILABILITY_ZONE"
	attrRegion     = "REGION"
	attrCluster    = "ECS_CLUSTER_NAME"
	attrService    = "ECS_SERVICE_NAME"
	attrFamily     = "ECS_TASK_DEFINITION_FAMILY"
	attrEC2        = "EC2_INSTANCE_ID"
	attrInitHealth = "AWS_INIT_HEALTH_STATUS"
)

// Cloud Map custom health statuses.
const (
	sdHealthy   = "HEALTHY"
	sdUnhealthy = "UNHEALTHY"
)

// sameRegistry reports whether two service registries are the same.
func sameRegistry(a, b shape.ServiceRegistry) bool {
	return deref(a.RegistryArn) == deref(b.RegistryArn) && deref(a.ContainerName) == deref(b.ContainerName) &&
		int32Of(a.ContainerPort) == int32Of(b.ContainerPort) && (a.Port == nil) == (b.Port == nil) && int32Of(a.Port) == int32Of(b.Port)
}

// registerTaskInstance registers a task that just reached RUNNING with its
// service's registry and returns the service events to record.
func (m *Machine) registerTaskInstance(tx *state.Txn, t *state.Task, svc *state.Service, now time.Time) ([]string, error) {
	if svc == nil || len(svc.Shape.ServiceRegistries) == 0 {
		return nil, nil
	}
	var events []string
	for _, reg := range svc.Shape.ServiceRegistries {
		arn := deref(reg.RegistryArn)
		sd := tx.SDServiceByARN(arn)
		if sd == nil {
			events = append(events, fmt.Sprintf("(service %s) failed to register an instance in (service-registry %s) with (error The Cloud Map service does not exist.)", svc.Name, arn))
			continue
		}
		if tx.SDInstance(sd.ID, t.ID) != nil {
			continue
		}
		attrs, reason := m.instanceAttributes(tx, t, svc, reg)
		if reason != "" {
			events = append(events, fmt.Sprintf("(service %s) failed to register an instance in (service-registry %s) with (error %s)", svc.Name, arn, reason))
			continue
		}
		inst := &state.SDInstance{
			ServiceID: sd.ID, ID: t.ID, Attributes: attrs, TaskARN: m.namer.Task(t.Cluster, t.ID),
			ECSServiceARN: m.namer.Service(svc.Cluster, svc.Name), CreatedAt: now, UpdatedAt: now,
		}
		if sd.CustomHealth != nil {
			inst.CustomHealth = m.instanceHealth(tx, t)
			attrs[attrInitHealth] = inst.CustomHealth
		}
		if err := tx.Put(state.TableSDInstances, inst); err != nil {
			return nil, err
		}
		if err := bumpSDRevision(tx, sd); err != nil {
			return nil, err
		}
		events = append(events, fmt.Sprintf("(service %s) registered 1 instances in (service-registry %s)", svc.Name, arn))
	}
	return events, nil
}

// instanceAttributes are the Cloud Map attributes of a task's instance,
// or why there are none.
func (m *Machine) instanceAttributes(tx *state.Txn, t *state.Task, svc *state.Service, reg shape.ServiceRegistry) (map[string]string, string) {
	attrs := map[string]string{
		attrRegion: m.namer.Region, attrCluster: t.Cluster, attrService: svc.Name, attrFamily: t.Family,
	}
	if az := deref(t.Shape.AvailabilityZone); az != "" {
		attrs[attrAZ] = az
	}
	ci := tx.Instance(t.InstanceID)
	if ci != nil && t.Shape.LaunchType != shape.LaunchTypeFargate {
		if id := deref(ci.Shape.Ec2InstanceId); id != "" {
			attrs[attrEC2] = id
		}
	}
	if a, ok := TaskAddress(t); ok {
		attrs[attrIPv4] = a.String()
		switch {
		case reg.Port != nil:
			attrs[attrPort] = strconv.Itoa(int(*reg.Port))
		case reg.ContainerPort != nil:
			attrs[attrPort] = strconv.Itoa(int(*reg.ContainerPort))
		}
		return attrs, ""
	}
	// bridge and host: the host's address and the host port.
	host := ""
	if ci != nil {
		for _, a := range ci.Shape.Attributes {
			if deref(a.Name) == hostAddressAttribute {
				host = deref(a.Value)
			}
		}
	}
	if host == "" {
		return nil, "The task's container instance has no address."
	}
	attrs[attrIPv4] = host
	switch {
	case reg.Port != nil:
		attrs[attrPort] = strconv.Itoa(int(*reg.Port))
	case reg.ContainerPort != nil:
		port, ok := hostPort(t, deref(reg.ContainerName), *reg.ContainerPort)
		if !ok {
			return nil, fmt.Sprintf("The task has no host port for container %s port %d.", deref(reg.ContainerName), *reg.ContainerPort)
		}
		attrs[attrPort] = strconv.Itoa(port)
	}
	return attrs, ""
}

// hostAddressAttribute is the container-instance attribute agents register
// with the address their host is reached at.
const hostAddressAttribute = "berth.host-address"

// hostPort is the host port a task's container port is bound to.
func hostPort(t *state.Task, container string, port int32) (int, bool) {
	for _, c := range t.Shape.Containers {
		if deref(c.Name) != container {
			continue
		}
		for _, b := range c.NetworkBindings {
			if b.ContainerPort != nil && *b.ContainerPort == port && b.HostPort != nil && (b.Protocol == "" || b.Protocol == shape.TransportProtocolTcp) {
				return int(*b.HostPort), true
			}
		}
	}
	return 0, false
}

// instanceHealth is the custom health status of a task's instance.
func (m *Machine) instanceHealth(tx *state.Txn, t *state.Task) string {
	switch t.Shape.HealthStatus {
	case shape.HealthStatusUnhealthy:
		return sdUnhealthy
	case shape.HealthStatusHealthy:
		return sdHealthy
	}
	if anyHealthCheck(tx.TaskDefinition(t.Family, t.Revision)) {
		return sdUnhealthy // not checked yet
	}
	return sdHealthy
}

// anyHealthCheck reports whether a container of td has a health check
// (then the task's health is computed; see taskHealth).
func anyHealthCheck(td *state.TaskDefinition) bool {
	if td == nil {
		return false
	}
	for _, c := range td.Def.ContainerDefinitions {
		if c.HealthCheck != nil {
			return true
		}
	}
	return false
}

// followTaskHealth updates the custom health of a task's instances after
// its health changed, and returns the service events to record.
func (m *Machine) followTaskHealth(tx *state.Txn, t *state.Task, svcName string, now time.Time) ([]string, error) {
	var events []string
	for _, inst := range taskInstances(tx, m.namer.Task(t.Cluster, t.ID)) {
		sd := tx.SDService(inst.ServiceID)
		if sd == nil || sd.CustomHealth == nil {
			continue
		}
		h := m.instanceHealth(tx, t)
		if h == inst.CustomHealth {
			continue
		}
		cp := *inst
		cp.CustomHealth, cp.UpdatedAt = h, now
		if err := tx.Put(state.TableSDInstances, &cp); err != nil {
			return nil, err
		}
		if h == sdUnhealthy {
			events = append(events, fmt.Sprintf("(service %s) (task %s) is unhealthy in (service-registry %s).", svcName, t.ID, sd.ARN))
		}
	}
	return events, nil
}

// deregisterTaskInstances deregisters a task's Cloud Map instances and
// returns the service events to record.
func (m *Machine) deregisterTaskInstances(tx *state.Txn, t *state.Task, svcName string) ([]string, error) {
	var events []string
	for _, inst := range taskInstances(tx, m.namer.Task(t.Cluster, t.ID)) {
		if err := tx.Delete(state.TableSDInstances, inst); err != nil {
			return nil, err
		}
		arn := inst.ServiceID
		if sd := tx.SDService(inst.ServiceID); sd != nil {
			arn = sd.ARN
			if err := bumpSDRevision(tx, sd); err != nil {
				return nil, err
			}
		}
		events = append(events, fmt.Sprintf("(service %s) deregistered 1 instances in (service-registry %s)", svcName, arn))
	}
	return events, nil
}

// taskInstances are the Cloud Map instances registered for a task.
func taskInstances(tx *state.Txn, taskARN string) []*state.SDInstance {
	var out []*state.SDInstance
	tx.SDInstancesByTask(taskARN, func(i *state.SDInstance) bool {
		out = append(out, i)
		return true
	})
	return out
}

// releaseTask deregisters a stopping task from its service's registries
// and target groups (see deregisterTaskTargets for hold) and returns the
// service events to record.
func (m *Machine) releaseTask(tx *state.Txn, t *state.Task, svcName string, now time.Time, hold bool) ([]string, error) {
	events, err := m.deregisterTaskInstances(tx, t, svcName)
	if err != nil {
		return nil, err
	}
	more, err := deregisterTaskTargets(tx, t, svcName, now, hold)
	return append(events, more...), err
}
