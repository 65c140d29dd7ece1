package agentapi

import (
	"maps"
	"testing"
	"time"

	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// TestAgentTaskCarriesLaunchTypeGroupAndTags: what the task metadata
// endpoint serves (LaunchType, ServiceName from the group, TaskTags,
// ContainerInstanceTags) reaches the agent with the task.
func TestAgentTaskCarriesLaunchTypeGroupAndTags(t *testing.T) {
	s := func(v string) *string { return &v }
	ci := &state.ContainerInstance{ID: "i1", Cluster: "default", Shape: &shape.ContainerInstance{
		Tags: []shape.Tag{{Key: s("rack"), Value: s("r1")}}}}
	task := &state.Task{ID: "t1", Cluster: "default", InstanceID: "i1", Shape: &shape.Task{
		TaskArn: s("arn:aws:ecs:us-east-1:123456789012:task/default/t1"), LaunchType: shape.LaunchTypeFargate,
		Group: s("service:web"), Tags: []shape.Tag{{Key: s("team"), Value: s("blue")}, {Key: s("empty"), Value: s("")}}}}
	out := agentTask(state.New().Snapshot(), ci, task, "us-east-1", time.Now())
	if out.LaunchType != "FARGATE" || out.Group != "service:web" ||
		!maps.Equal(out.Tags, map[string]string{"team": "blue", "empty": ""}) || !maps.Equal(out.InstanceTags, map[string]string{"rack": "r1"}) {
		t.Fatalf("task %+v", out)
	}
	task.Shape.Tags, ci.Shape.Tags = nil, nil
	if out := agentTask(state.New().Snapshot(), ci, task, "us-east-1", time.Now()); out.Tags != nil || out.InstanceTags != nil {
		t.Fatalf("no tags: %+v", out)
	}
}
