package fsm

import (
	"berth.dev/berth/internal/fsm/wire"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// MaxCustomAttributes is ECS's limit of custom attributes per resource.
const MaxCustomAttributes = 10

// InstancesResult answers wire.UpdateContainerInstancesState.
type InstancesResult struct {
	Instances []*state.ContainerInstance
	Failures  []shape.Failure
}

// IsBuiltinAttribute reports whether name is set by ECS or its agent (or
// berth's agent: berth.*) rather than by users; built-ins do not count
// against the custom attribute limit.
func IsBuiltinAttribute(name string) bool {
	return strings.HasPrefix(name, "ecs.") || strings.HasPrefix(name, "com.amazonaws.ecs.") || strings.HasPrefix(name, "berth.")
}

func countCustom(attrs []shape.Attribute) int {
	n := 0
	for _, a := range attrs {
		if !IsBuiltinAttribute(deref(a.Name)) {
			n++
		}
	}
	return n
}

func applyRegisterContainerInstance(m *Machine, tx *state.Txn, c *wire.RegisterContainerInstance) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, apierr.New(apierr.Client, "Cluster not found.")
	}
	if countCustom(c.Attributes) > MaxCustomAttributes {
		return nil, apierr.Newf(apierr.AttributeLimitExceeded, "A container instance can have at most %d custom attributes.", MaxCustomAttributes)
	}
	var old *state.ContainerInstance
	if c.PreviousID != "" {
		old = tx.Instance(c.PreviousID)
		if old == nil || old.Cluster != c.Cluster || deref(old.Shape.Status) == "INACTIVE" {
			return nil, apierr.Clientf("Container instance %s is not registered in cluster %s or has been deregistered; register it as a new instance.", c.PreviousID, c.Cluster)
		}
	} else if c.EC2InstanceID != "" {
		tx.Instances(c.Cluster, "", func(ci *state.ContainerInstance) bool {
			if deref(ci.Shape.Ec2InstanceId) == c.EC2InstanceID && deref(ci.Shape.Status) != "INACTIVE" {
				old = ci
				return false
			}
			return true
		})
	}
	id := c.NewID
	ci := &shape.ContainerInstance{
		Status:       ptr("ACTIVE"),
		RegisteredAt: shape.NewTimestamp(c.Now),
		Version:      1,
		Tags:         orEmpty(c.Tags),
	}
	if old != nil {
		id = old.ID
		prev := *old.Shape
		ci = &prev
		ci.Version++
		if c.Tags != nil {
			ci.Tags = c.Tags
		}
	}
	ci.ContainerInstanceArn = ptr(m.namer.ContainerInstance(c.Cluster, id))
	if c.EC2InstanceID != "" {
		ci.Ec2InstanceId = ptr(c.EC2InstanceID)
	}
	ci.RegisteredResources = orEmpty(c.TotalResources)
	ci.VersionInfo = c.VersionInfo
	if ci.VersionInfo == nil {
		ci.VersionInfo = &shape.VersionInfo{}
	}
	// A re-registration refreshes the attributes the agent reports and keeps
	// those added since with wire.PutAttributes.
	ci.Attributes = mergeAttributes(ci.Attributes, c.Attributes)
	if countCustom(ci.Attributes) > MaxCustomAttributes {
		return nil, apierr.Newf(apierr.AttributeLimitExceeded, "A container instance can have at most %d custom attributes.", MaxCustomAttributes)
	}
	if err := allocateTaskSubnet(tx, c, id, ci); err != nil {
		return nil, err
	}
	ci.Attachments = []shape.Attachment{}
	rec := &state.ContainerInstance{ID: id, Cluster: c.Cluster, Shape: ci}
	if old != nil {
		rec = withShape(old, ci) // the agent's stream session goes on
	}
	if err := tx.Put(state.TableInstances, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// instanceFailureARN is the ARN a batch failure names for a reference as the
// caller wrote it: the ARN itself, or the ARN an ID would have in cluster.
func (m *Machine) instanceFailureARN(cluster, input string) string {
	if arn.IsARN(input) {
		return input
	}
	return m.namer.ContainerInstance(cluster, input)
}

// mergeAttributes returns old with every attribute of update added or
// replaced by name.
func mergeAttributes(old, update []shape.Attribute) []shape.Attribute {
	out := make([]shape.Attribute, 0, len(old)+len(update))
	replaced := map[string]bool{}
	for _, a := range update {
		replaced[deref(a.Name)] = true
	}
	for _, a := range old {
		if !replaced[deref(a.Name)] {
			out = append(out, a)
		}
	}
	return append(out, update...)
}

// ErrInstanceNotFound is the error for an unknown instance in a cluster.
func ErrInstanceNotFound(input string) *apierr.Error {
	return apierr.InvalidParameterf("Container instance %s was not found in the cluster.", input)
}

func applyDeregisterContainerInstance(m *Machine, tx *state.Txn, c *wire.DeregisterContainerInstance) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, err
	}
	old := tx.Instance(c.ID)
	if old == nil || old.Cluster != c.Cluster || deref(old.Shape.Status) == "INACTIVE" {
		return nil, ErrInstanceNotFound(c.ID)
	}
	if !c.Force {
		running := false
		tx.Tasks(c.Cluster, "", func(t *state.Task) bool {
			running = deref(t.Shape.ContainerInstanceArn) == deref(old.Shape.ContainerInstanceArn) && deref(t.Shape.LastStatus) != "STOPPED"
			return !running
		})
		if running {
			return nil, apierr.InvalidParameterf("Found running tasks on the instance. Stop the tasks or deregister with force.")
		}
	}
	ci := *old.Shape
	ci.Status = ptr("INACTIVE")
	ci.AgentConnected = false
	ci.Version++
	rec := withShape(old, &ci)
	if err := tx.Put(state.TableInstances, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

func applyUpdateContainerInstancesState(m *Machine, tx *state.Txn, c *wire.UpdateContainerInstancesState) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, err
	}
	out := &InstancesResult{Instances: []*state.ContainerInstance{}, Failures: []shape.Failure{}}
	for _, ref := range c.Refs {
		var old *state.ContainerInstance
		if ref.ID != "" {
			old = tx.Instance(ref.ID)
		}
		if old == nil || old.Cluster != c.Cluster {
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(m.instanceFailureARN(c.Cluster, ref.Input)), Reason: ptr("MISSING")})
			continue
		}
		status := deref(old.Shape.Status)
		if status != "ACTIVE" && status != "DRAINING" {
			out.Failures = append(out.Failures, shape.Failure{
				Arn:    old.Shape.ContainerInstanceArn,
				Reason: ptr(status),
				Detail: ptr("Only ACTIVE and DRAINING container instances can change state."),
			})
			continue
		}
		if status == c.Status {
			out.Instances = append(out.Instances, old)
			continue
		}
		ci := *old.Shape
		ci.Status = ptr(c.Status)
		ci.Version++
		rec := withShape(old, &ci)
		if err := tx.Put(state.TableInstances, rec); err != nil {
			return nil, err
		}
		out.Instances = append(out.Instances, rec)
	}
	return out, nil
}

// withShape is a copy of the instance record old with another shape: the
// record's own members (the agent's stream session, when it disconnected)
// stay as they are.
func withShape(old *state.ContainerInstance, sh *shape.ContainerInstance) *state.ContainerInstance {
	rec := *old
	rec.Shape = sh
	return &rec
}
