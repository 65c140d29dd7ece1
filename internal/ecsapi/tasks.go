package ecsapi

import (
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func listTasks(a *API, c *call, in *shape.ListTasksRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkEnum("desiredStatus", in.DesiredStatus); err != nil {
		return nil, err
	}
	if err := checkEnum("launchType", in.LaunchType); err != nil {
		return nil, err
	}
	if in.StartedBy != nil && (in.ContainerInstance != nil || in.Family != nil || in.ServiceName != nil || in.DaemonName != nil || in.LaunchType != "" || in.DesiredStatus != "") {
		return nil, apierr.InvalidParameterf("startedBy must be the only filter when it is specified.")
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 100, 100)
	if err != nil {
		return nil, err
	}
	snap := a.snapshot()
	if _, err := fsm.ActiveCluster(snap, cluster); err != nil {
		return nil, err
	}
	instanceArn := ""
	if in.ContainerInstance != nil {
		id, ok := a.resourceID(arn.TypeContainerInstance, cluster, *in.ContainerInstance)
		ci := snap.Instance(id)
		if !ok || ci == nil || ci.Cluster != cluster {
			return nil, apierr.InvalidParameterf("The container instance %s was not found in cluster %s.", *in.ContainerInstance, cluster)
		}
		instanceArn = deref(ci.Shape.ContainerInstanceArn)
	}
	desired := "RUNNING"
	if in.DesiredStatus != "" {
		desired = string(in.DesiredStatus)
	}
	out := &shape.ListTasksResponse{TaskArns: []string{}}
	last := ""
	snap.Tasks(cluster, after, func(t *state.Task) bool {
		ts := t.Shape
		switch {
		case in.StartedBy != nil:
			if deref(ts.StartedBy) != *in.StartedBy {
				return true
			}
		case deref(ts.DesiredStatus) != desired,
			instanceArn != "" && deref(ts.ContainerInstanceArn) != instanceArn,
			in.Family != nil && taskFamily(ts) != *in.Family,
			in.ServiceName != nil && deref(ts.Group) != "service:"+*in.ServiceName,
			in.LaunchType != "" && ts.LaunchType != in.LaunchType,
			in.DaemonName != nil: // berth has no daemons: no task belongs to one
			return true
		}
		if len(out.TaskArns) == limit {
			out.NextToken = nextToken(c.op, last)
			return false
		}
		out.TaskArns = append(out.TaskArns, deref(ts.TaskArn))
		last = t.ID
		return true
	})
	return out, nil
}

// taskFamily is the family part of a task's task definition ARN.
func taskFamily(t *shape.Task) string {
	s := deref(t.TaskDefinitionArn)
	_, rest, _ := strings.Cut(s, ":task-definition/")
	fam, _, _ := strings.Cut(rest, ":")
	return fam
}

func describeTasks(a *API, c *call, in *shape.DescribeTasksRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 {
		return nil, apierr.InvalidParameterf("Tasks cannot be empty.")
	}
	if err := checkCount("tasks", len(in.Tasks), 1, 100); err != nil {
		return nil, err
	}
	if err := checkEnums("include", in.Include); err != nil {
		return nil, err
	}
	tags := false
	for _, f := range in.Include {
		tags = tags || f == shape.TaskFieldTags
	}
	snap := a.snapshot()
	if cl := snap.Cluster(cluster); cl == nil {
		return nil, fsm.ErrClusterNotFound()
	}
	out := &shape.DescribeTasksResponse{Tasks: []shape.Task{}, Failures: []shape.Failure{}}
	for _, ref := range in.Tasks {
		id, ok := a.resourceID(arn.TypeTask, cluster, ref)
		var t *state.Task
		if ok {
			t = snap.Task(id)
		}
		if t == nil || t.Cluster != cluster {
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(a.failureARN(arn.TypeTask, cluster, ref)), Reason: ptr("MISSING")})
			continue
		}
		ts := taskView(t)
		if tags {
			ts.Tags = orEmpty(ts.Tags)
		} else {
			ts.Tags = nil
		}
		out.Tasks = append(out.Tasks, ts)
	}
	return out, nil
}
