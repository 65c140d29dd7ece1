package ecsapi

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// taskRef resolves a task parameter (ID or ARN) in cluster.
func (a *API) taskRef(cluster string, in *string) (string, error) {
	ref, err := required("task", in)
	if err != nil {
		return "", err
	}
	id, ok := a.resourceID(arn.TypeTask, cluster, ref)
	if !ok {
		return "", fsm.ErrTaskNotFound(echo(ref))
	}
	return id, nil
}

func stopTask(a *API, c *call, in *shape.StopTaskRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	id, err := a.taskRef(cluster, in.Task)
	if err != nil {
		return nil, err
	}
	reason := "Task stopped by user"
	if in.Reason != nil && *in.Reason != "" {
		reason = *in.Reason
		if len(reason) > 255 {
			return nil, apierr.InvalidParameterf("reason can be at most 255 characters.")
		}
	}
	v, err := a.apply(c, wire.StopTask{Meta: c.meta(), Cluster: cluster, TaskID: id,
		StopCode: string(shape.TaskStopCodeUserInitiated), Reason: reason})
	if err != nil {
		return nil, err
	}
	t := taskView(v.(*state.Task))
	t.Tags = orEmpty(t.Tags)
	return &shape.StopTaskResponse{Task: &t}, nil
}

func submitTaskStateChange(a *API, c *call, in *shape.SubmitTaskStateChangeRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	id, err := a.taskRef(cluster, in.Task)
	if err != nil {
		return nil, err
	}
	switch {
	case len(in.Attachments) > 0:
		return nil, errUnsupportedMember("attachments")
	case len(in.ManagedAgents) > 0:
		return nil, errUnsupportedMember("managedAgents")
	}
	for _, cc := range in.Containers {
		if deref(cc.ContainerName) == "" {
			return nil, apierr.InvalidParameterf("Every container state change needs a containerName.")
		}
	}
	if _, err := a.apply(c, wire.TaskStateChange{Meta: c.meta(), Cluster: cluster, TaskID: id,
		Status: deref(in.Status), Reason: deref(in.Reason), Containers: in.Containers,
		PullStartedAt: in.PullStartedAt, PullStoppedAt: in.PullStoppedAt, ExecutionStoppedAt: in.ExecutionStoppedAt}); err != nil {
		return nil, err
	}
	return &shape.SubmitTaskStateChangeResponse{Acknowledgment: ptr("ACK")}, nil
}

func submitContainerStateChange(a *API, c *call, in *shape.SubmitContainerStateChangeRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	id, err := a.taskRef(cluster, in.Task)
	if err != nil {
		return nil, err
	}
	name, err := required("containerName", in.ContainerName)
	if err != nil {
		return nil, err
	}
	change := shape.ContainerStateChange{ContainerName: &name, ExitCode: in.ExitCode, NetworkBindings: in.NetworkBindings,
		Reason: in.Reason, RuntimeId: in.RuntimeId, Status: in.Status}
	if _, err := a.apply(c, wire.ContainerStateChange{Meta: c.meta(), Cluster: cluster, TaskID: id, Change: change}); err != nil {
		return nil, err
	}
	return &shape.SubmitContainerStateChangeResponse{Acknowledgment: ptr("ACK")}, nil
}
