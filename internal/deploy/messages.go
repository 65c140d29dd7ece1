package deploy

import (
	"fmt"
	"strings"
	"time"
)

// Stop reasons the reconciler writes (stoppedReason).
const (
	// ReasonHealthCheck: the task failed its container health checks.
	ReasonHealthCheck = "Task failed container health checks"
	// scalingPrefix starts the reason of every other stop the service
	// scheduler makes: deployments, scale-in, draining, DAEMON placement.
	scalingPrefix = "Scaling activity initiated by (deployment "
)

// ELBHealthReason is the stoppedReason of a task the service scheduler
// stops because its target in a target group failed ELB health checks.
func ELBHealthReason(targetGroupARN string) string {
	return "Task failed ELB health checks in (target-group " + targetGroupARN + ")"
}

// ScalingReason is the stoppedReason of a task the service scheduler stops
// for a deployment, a scale-in or a draining instance.
func ScalingReason(deploymentID string) string {
	return scalingPrefix + deploymentID + ")"
}

// LostReason is the stoppedReason of a task whose container instance lost
// its agent for longer than the timeout.
func LostReason(instanceID string, timeout time.Duration) string {
	return fmt.Sprintf("Task stopped because its container instance %s lost its agent connection for longer than %s.", instanceID, timeout)
}

// GoneReason is the stoppedReason of a task whose container instance was
// deregistered.
func GoneReason(instanceID string) string {
	return fmt.Sprintf("Task stopped because its container instance %s was deregistered.", instanceID)
}

// Rollout state reasons.
func inProgressReason(id string) string { return "ECS deployment " + id + " in progress." }
func completedReason(id string) string  { return "ECS deployment " + id + " completed." }

// BreakerReason is the rolloutStateReason of a deployment the circuit
// breaker failed. ECS uses it for both stages.
const BreakerReason = "ECS deployment circuit breaker: tasks failed to start."

// RollbackReason is the rolloutStateReason of the deployment the circuit
// breaker rolls back to (id).
func RollbackReason(id string) string {
	return "ECS deployment circuit breaker: rolling back to deploymentId " + id + "."
}

// Event messages. berth uses the "(service NAME)" prefix throughout.
func steadyMessage(svc string) string { return "(service " + svc + ") has reached a steady state." }

func completedMessage(svc, id string) string {
	return "(service " + svc + ") (deployment " + id + ") deployment completed."
}

func failedMessage(svc, id string) string {
	return "(service " + svc + ") (deployment " + id + ") deployment failed: tasks failed to start."
}

func rollingBackMessage(svc, id string) string {
	return "(service " + svc + ") rolling back to deployment " + id + "."
}

func unhealthyMessage(svc, task string) string {
	return "(service " + svc + ") (task " + task + ") failed container health checks."
}

// elbUnhealthyMessage is the event for a target that failed its ELB health
// checks: "(service NAME) (port PORT) is unhealthy in (target-group ARN)
// due to (reason DESCRIPTION)." for an ip target, with "(instance ID) "
// before the port for an instance target.
func elbUnhealthyMessage(svc string, tg Target) string {
	who := ""
	if strings.HasPrefix(tg.ID, "i-") {
		who = "(instance " + tg.ID + ") "
	}
	why := tg.Description
	if why == "" {
		why = tg.Reason
	}
	return fmt.Sprintf("(service %s) %s(port %d) is unhealthy in (target-group %s) due to (reason %s).", svc, who, tg.Port, tg.TargetGroupARN, why)
}

func throttleMessage(svc string) string {
	return "(service " + svc + ") is unable to consistently start tasks successfully."
}

func deadlockMessage(svc string) string {
	return "(service " + svc + ") was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
}

func stoppedMessage(svc string, ids []string) string {
	return fmt.Sprintf("(service %s) has stopped %d running tasks: %s.", svc, len(ids), taskList(ids))
}

// StartedMessage is the event the shell records after placing a Start:
// "(service NAME) has started 2 tasks: (task a) (task b)." with, when
// some of them replace unhealthy tasks, " Amazon ECS replaced N tasks due
// to an unhealthy status." appended.
func StartedMessage(svc string, taskIDs []string, replacedUnhealthy int) string {
	m := fmt.Sprintf("(service %s) has started %d tasks: %s.", svc, len(taskIDs), taskList(taskIDs))
	if n := min(replacedUnhealthy, len(taskIDs)); n > 0 {
		m += fmt.Sprintf(" Amazon ECS replaced %d tasks due to an unhealthy status.", n)
	}
	return m
}

func taskList(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "(task " + id + ")"
	}
	return strings.Join(parts, " ")
}

// UnassumableRole is ECS's error for a task role or execution role that
// ECS tasks cannot assume (it does not exist, or does not trust
// ecs-tasks.amazonaws.com): RunTask's ClientException, a service's
// launch failure, a task's stoppedReason.
func UnassumableRole(role string) string {
	return "ECS was unable to assume the role '" + role + "' that was provided for this task. " +
		"Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role."
}

// noInstances is the scheduler's reason when the cluster has no container
// instances (as older rounds recorded it).
const noInstances = "No Container Instances were found in your cluster."

// placementMessage is the event for a placement failure, or for a failure
// to launch before placement (a Reason without an instance).
func placementMessage(svc string, f *PlacementFailure) string {
	const head = ") was unable to place a task because no container instance met all of its requirements."
	const tail = " For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
	if f.InstanceID == "" {
		if f.Reason != "" && f.Reason != noInstances {
			return "(service " + svc + ") failed to launch a task with (error " + f.Reason + ")."
		}
		return "(service " + svc + head + " Reason: " + noInstances + tail
	}
	var why string
	switch f.Reason {
	case "RESOURCE:MEMORY":
		why = "has insufficient memory available."
	case "RESOURCE:CPU":
		why = "has insufficient CPU units available."
	case "RESOURCE:PORTS", "RESOURCE:PORTS_UDP":
		why = "is already using a port required by your task."
	case "ATTRIBUTE":
		why = "is missing an attribute required by your task."
	default:
		why = `encountered error "` + f.Reason + `".`
	}
	return "(service " + svc + head + " The closest matching (container-instance " + f.InstanceID + ") " + why + tail
}

// activity reports whether a message records something the scheduler did
// (as opposed to a condition it reports). Activity resets duplicate
// suppression: a condition reported again after an activity is a new
// occurrence.
func activity(svc, msg string) bool {
	p := "(service " + svc + ") "
	if !strings.HasPrefix(msg, p) {
		return false
	}
	rest := msg[len(p):]
	return strings.HasPrefix(rest, "has started ") ||
		strings.HasPrefix(rest, "has stopped ") ||
		strings.HasPrefix(rest, "rolling back to ") ||
		strings.HasPrefix(rest, "(task ") ||
		strings.HasPrefix(rest, "(port ") ||
		strings.HasPrefix(rest, "(instance ") ||
		strings.HasPrefix(rest, "(deployment ")
}
