package fsm

import (
	"net/netip"
	"slices"
	"strconv"

	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/scheduler"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// TokenTTL is how long a wire.RunTask clientToken is remembered.
const TokenTTL = 12 * 60 * 60

// RunTaskResult answers wire.RunTask.
type RunTaskResult struct {
	Tasks    []*state.Task
	Failures []shape.Failure
}

func applyRunTask(m *Machine, tx *state.Txn, c *wire.RunTask) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, err
	}
	if c.ClientToken != "" {
		if tok := tx.ClientToken(c.ClientToken); tok != nil && tok.Expires > c.Now.Unix() {
			if tok.Request != c.Fingerprint {
				return nil, apierr.Newf(apierr.Conflict, "The clientToken %s was already used by a request with different parameters.", c.ClientToken)
			}
			out := &RunTaskResult{Failures: orEmpty(tok.Failures)}
			for _, id := range tok.Tasks {
				if t := tx.Task(id); t != nil {
					out.Tasks = append(out.Tasks, t)
				}
			}
			return out, nil
		}
	}
	td := tx.TaskDefinition(c.Family, c.Revision)
	if td == nil || td.Def.Status == shape.TaskDefinitionStatusInactive && !c.AllowInactive ||
		td.Def.Status == shape.TaskDefinitionStatusDeleteInProgress && !c.AllowsDeleteInProgress() {
		return nil, apierr.Clientf("TaskDefinition is inactive")
	}
	awsvpc := td.Def.NetworkMode == shape.NetworkModeAwsvpc
	switch {
	case awsvpc && (c.Network == nil || len(c.Network.Subnets) == 0):
		return nil, apierr.InvalidParameterf("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	case !awsvpc && c.Network != nil:
		return nil, apierr.InvalidParameterf("Network Configuration is not valid for the given networkMode of this task definition.")
	}
	if c.LaunchType == string(shape.LaunchTypeFargate) && !slices.Contains(td.Def.Compatibilities, shape.CompatibilityFargate) {
		return nil, apierr.InvalidParameterf("Task definition does not support launch_type FARGATE.")
	}
	need := SchedulerTask(state.Reservation(c.Reserved), TaskENIs(td.Def))
	out := &RunTaskResult{Tasks: []*state.Task{}, Failures: append([]shape.Failure{}, c.Failures...)}
	for _, nt := range c.Tasks {
		ci := tx.Instance(nt.InstanceID)
		reason := placeable(&tx.Snapshot, ci, c.Cluster, need)
		if reason == "" && c.DistinctInstance && groupOnInstance(&tx.Snapshot, nt.InstanceID, c.Group) {
			reason = "DistinctInstance placement constraint unsatisfied."
		}
		var addr netip.Addr
		if reason == "" && awsvpc {
			addr, _, reason = taskAddress(&tx.Snapshot, ci)
		}
		if reason != "" {
			arn := ""
			if ci != nil {
				arn = deref(ci.Shape.ContainerInstanceArn)
			} else {
				arn = m.namer.ContainerInstance(c.Cluster, nt.InstanceID)
			}
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(arn), Reason: ptr(reason)})
			continue
		}
		t := m.newTask(c, td, ci, nt, addr)
		if err := tx.Put(state.TableTasks, t); err != nil {
			return nil, err
		}
		out.Tasks = append(out.Tasks, t)
	}
	if c.ClientToken != "" {
		ids := make([]string, len(out.Tasks))
		for i, t := range out.Tasks {
			ids[i] = t.ID
		}
		tok := &state.ClientToken{Token: c.ClientToken, Request: c.Fingerprint, Tasks: ids, Failures: out.Failures, Expires: c.Now.Unix() + TokenTTL}
		if err := tx.Put(state.TableClientTokens, tok); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// groupOnInstance reports whether a task of group holds resources on the
// instance (tasks created earlier in the same command included).
func groupOnInstance(s *state.Snapshot, instanceID, group string) bool {
	found := false
	s.InstanceTasks(instanceID, func(t *state.Task) bool {
		found = t.HoldsResources() && deref(t.Shape.Group) == group
		return !found
	})
	return found
}

// placeable re-checks one placement at commit time; "" means it fits.
func placeable(s *state.Snapshot, ci *state.ContainerInstance, cluster string, r scheduler.Task) string {
	if ci == nil || ci.Cluster != cluster {
		return "MISSING"
	}
	switch deref(ci.Shape.Status) {
	case "ACTIVE":
	case "INACTIVE":
		return "INACTIVE"
	default:
		return deref(ci.Shape.Status)
	}
	if !ci.Shape.AgentConnected {
		return "AGENT"
	}
	inst := SchedulerInstance(s, ci)
	if ok, reason := scheduler.Fits(inst, r); !ok {
		return reason
	}
	return ""
}

// newTask builds the task record ECS shows right after RunTask: PENDING,
// desired RUNNING, its containers PENDING; an awsvpc task (addr valid) is
// PROVISIONING, with its network interface attachment and its containers'
// network interfaces.
func (m *Machine) newTask(c *wire.RunTask, td *state.TaskDefinition, ci *state.ContainerInstance, nt wire.NewTask, addr netip.Addr) *state.Task {
	taskArn := m.namer.Task(c.Cluster, nt.ID)
	def := td.Def
	overrides := c.Overrides
	if overrides == nil {
		overrides = &shape.TaskOverride{}
	}
	ov := *overrides
	if ov.ContainerOverrides == nil {
		ov.ContainerOverrides = []shape.ContainerOverride{}
		for _, cd := range def.ContainerDefinitions {
			ov.ContainerOverrides = append(ov.ContainerOverrides, shape.ContainerOverride{Name: cd.Name})
		}
	}
	if ov.InferenceAcceleratorOverrides == nil {
		ov.InferenceAcceleratorOverrides = []shape.InferenceAcceleratorOverride{}
	}
	containers := make([]shape.Container, 0, len(def.ContainerDefinitions))
	for i, cd := range def.ContainerDefinitions {
		co := containerOverride(&ov, deref(cd.Name))
		ct := shape.Container{
			ContainerArn:      ptr(m.namer.Container(c.Cluster, nt.ID, nt.ContainerIDs[i])),
			TaskArn:           ptr(taskArn),
			Name:              cd.Name,
			Image:             cd.Image,
			LastStatus:        ptr("PENDING"),
			NetworkInterfaces: []shape.NetworkInterface{},
			Cpu:               ptr(strconv.Itoa(int(cd.Cpu))),
			// ECS: a container without a health check, or whose check is
			// still being evaluated, reports UNKNOWN.
			HealthStatus: shape.HealthStatusUnknown,
		}
		if co != nil && co.Cpu != nil {
			ct.Cpu = ptr(strconv.Itoa(int(*co.Cpu)))
		}
		if mem := firstInt(overrideMemory(co), cd.Memory); mem != nil {
			ct.Memory = ptr(strconv.Itoa(int(*mem)))
		}
		if res := firstInt(overrideReservation(co), cd.MemoryReservation); res != nil {
			ct.MemoryReservation = ptr(strconv.Itoa(int(*res)))
		}
		if len(cd.ResourceRequirements) > 0 {
			ct.GpuIds = []string{}
		}
		containers = append(containers, ct)
	}
	shapeTask := &shape.Task{
		TaskArn:              ptr(taskArn),
		ClusterArn:           ptr(m.namer.Cluster(c.Cluster)),
		TaskDefinitionArn:    def.TaskDefinitionArn,
		ContainerInstanceArn: ci.Shape.ContainerInstanceArn,
		Overrides:            &ov,
		LastStatus:           ptr("PENDING"),
		DesiredStatus:        ptr("RUNNING"),
		Cpu:                  ptr(strconv.FormatInt(c.Reserved.CPU, 10)),
		Memory:               ptr(strconv.FormatInt(c.Reserved.Memory, 10)),
		Containers:           containers,
		StartedBy:            optional(c.StartedBy),
		Version:              1,
		CreatedAt:            shape.NewTimestamp(c.Now),
		Group:                ptr(c.Group),
		LaunchType:           shape.LaunchTypeEc2,
		Attachments:          []shape.Attachment{},
		Tags:                 orEmpty(c.Tags),
		EnableExecuteCommand: c.EnableExecuteCommand,
		HealthStatus:         shape.HealthStatusUnknown,
		Connectivity:         shape.ConnectivityConnected,
		ConnectivityAt:       shape.NewTimestamp(c.Now),
	}
	if def.Cpu != nil {
		shapeTask.Cpu = def.Cpu
	}
	if def.Memory != nil {
		shapeTask.Memory = def.Memory
	}
	if ov.Cpu != nil {
		shapeTask.Cpu = ov.Cpu
	}
	if ov.Memory != nil {
		shapeTask.Memory = ov.Memory
	}
	if c.LaunchType != "" {
		shapeTask.LaunchType = shape.LaunchType(c.LaunchType)
	}
	if shapeTask.LaunchType == shape.LaunchTypeFargate {
		// ECS shows no container instance for a Fargate task; berth keeps
		// the instance in the record (InstanceID).
		shapeTask.ContainerInstanceArn = nil
		shapeTask.CapacityProviderName = optional(nt.CapacityProvider)
		if shapeTask.CapacityProviderName == nil {
			shapeTask.CapacityProviderName = ptr("FARGATE")
		}
		shapeTask.PlatformVersion = optional(c.PlatformVersion)
		shapeTask.PlatformFamily = ptr("Linux")
		size := int32(20)
		if def.EphemeralStorage != nil && def.EphemeralStorage.SizeInGiB > size {
			size = def.EphemeralStorage.SizeInGiB
		}
		shapeTask.EphemeralStorage = &shape.EphemeralStorage{SizeInGiB: size}
	}
	if addr.IsValid() {
		at := eniAttachment(nt.ID, servedSubnet(ci, c.Network.Subnets), addr, m.namer.Region)
		shapeTask.Attachments = []shape.Attachment{at}
		shapeTask.LastStatus = ptr("PROVISIONING")
		for i := range shapeTask.Containers {
			shapeTask.Containers[i].NetworkInterfaces = []shape.NetworkInterface{{AttachmentId: at.Id, PrivateIpv4Address: ptr(addr.String())}}
			shapeTask.Containers[i].NetworkBindings = []shape.NetworkBinding{} // ECS's for awsvpc: ports are on the task's address
		}
	}
	for _, a := range ci.Shape.Attributes {
		switch deref(a.Name) {
		case "ecs.availability-zone":
			shapeTask.AvailabilityZone = a.Value
		case "ecs.cpu-architecture":
			shapeTask.Attributes = append(shapeTask.Attributes, shape.Attribute{Name: a.Name, Value: a.Value})
		}
	}
	return &state.Task{
		ID: nt.ID, Cluster: c.Cluster, InstanceID: nt.InstanceID, Shape: shapeTask,
		Reserved: state.Reservation(c.Reserved), Family: c.Family, Revision: c.Revision,
	}
}

func containerOverride(ov *shape.TaskOverride, name string) *shape.ContainerOverride {
	for i := range ov.ContainerOverrides {
		if deref(ov.ContainerOverrides[i].Name) == name {
			return &ov.ContainerOverrides[i]
		}
	}
	return nil
}

func overrideMemory(co *shape.ContainerOverride) *int32 {
	if co == nil {
		return nil
	}
	return co.Memory
}

func overrideReservation(co *shape.ContainerOverride) *int32 {
	if co == nil {
		return nil
	}
	return co.MemoryReservation
}

func firstInt(vs ...*int32) *int32 {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ErrTaskNotFound is the error for an unknown task.
func ErrTaskNotFound(input string) *apierr.Error {
	return apierr.InvalidParameterf("The referenced task was not found: %s.", input)
}
