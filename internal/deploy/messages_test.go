package deploy

import "testing"

// TestPlacementMessage checks the event of each kind of placement failure,
// and of a launch that failed before placement.
func TestPlacementMessage(t *testing.T) {
	const head = "(service web) was unable to place a task because no container instance met all of its requirements."
	const tail = " For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
	role := "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/app' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role."
	for _, c := range []struct {
		f    PlacementFailure
		want string
	}{
		{PlacementFailure{}, head + " Reason: No Container Instances were found in your cluster." + tail},
		{PlacementFailure{Reason: "No Container Instances were found in your cluster."}, head + " Reason: No Container Instances were found in your cluster." + tail},
		{PlacementFailure{Reason: "RESOURCE:MEMORY", InstanceID: "i-1"}, head + " The closest matching (container-instance i-1) has insufficient memory available." + tail},
		{PlacementFailure{Reason: "ATTRIBUTE", InstanceID: "i-1"}, head + " The closest matching (container-instance i-1) is missing an attribute required by your task." + tail},
		{PlacementFailure{Reason: role}, "(service web) failed to launch a task with (error " + role + ")."},
		{PlacementFailure{Reason: "TaskDefinition not found."}, "(service web) failed to launch a task with (error TaskDefinition not found.)."},
	} {
		if got := placementMessage("web", &c.f); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.f, got, c.want)
		}
	}
}
