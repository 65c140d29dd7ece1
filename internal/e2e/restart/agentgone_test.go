package restart

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestAgentGone kills the `berth agent` that runs a service's two tasks
// while the server runs on, and keeps it away for longer than the
// lost-host timeout. Past the timeout, and not before, both tasks are
// marked STOPPED with the lost-host reason and replaced, once, on the
// other instance: ListTasks shows the two old tasks and exactly two new
// ones, and waiting another timeout adds nothing. The old containers run
// on while their agent is away; when it comes back (the same instance) it
// stops them, and the service keeps its two replacements.
//
// The lost-host timeout is 5 s instead of 60: the test is about what
// happens past the timeout, whatever its length.
func TestAgentGone(t *testing.T) {
	t.Parallel()
	forEachRuntime(t, func(t *testing.T, rt string) {
		const lostAfter = 5 * time.Second
		e := newEnv(t, rt)
		e.startServer(serverFlags{lostHostTimeout: lostAfter})
		gone := e.startAgent(testRegion + "a")
		const name = "web"
		def := e.register(name)
		e.createService(name, def, 2)
		e.waitSteady(name)
		old := e.tasks(name)
		if len(old) != 2 {
			t.Fatalf("the service has %d tasks, want 2:%s", len(old), tasksString(old))
		}
		for _, task := range old {
			if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.ContainerInstanceArn) != gone.arn || runtimeID(task) == "" {
				t.Fatalf("want RUNNING on %s: %s", gone.id(), taskString(task))
			}
		}
		other := e.startAgent(testRegion + "b") // where the replacements go

		killed := time.Now()
		gone.signal(syscall.SIGKILL)
		e.waitConnected(gone.arn, false, time.Minute)
		reason := fmt.Sprintf("Task stopped because its container instance %s lost its agent connection for longer than %s.", gone.id(), lostAfter)
		var lastStop time.Time
		for _, o := range old {
			arn := aws.ToString(o.TaskArn)
			task := e.waitTask(arn, "STOPPED", func(task types.Task) bool { return aws.ToString(task.LastStatus) == "STOPPED" })
			if task.StopCode != types.TaskStopCodeTerminationNotice || aws.ToString(task.StoppedReason) != reason ||
				aws.ToString(task.DesiredStatus) != "STOPPED" || runtimeID(task) != runtimeID(o) {
				t.Errorf("lost task: want STOPPED, stop code TerminationNotice and %q: %s", reason, taskString(task))
			}
			// The server saw the stream close after the kill, so the
			// timeout runs from after killed (timestamps are in ms).
			if at := aws.ToTime(task.StoppedAt); at.Before(killed.Add(lostAfter - time.Millisecond)) {
				t.Errorf("task %s stopped %s after its agent was killed, before the lost-host timeout %s",
					lastSegment(arn), at.Sub(killed), lostAfter)
			} else if at.After(lastStop) {
				lastStop = at
			}
		}
		for _, o := range old {
			if !gone.containerRunning(runtimeID(o)) {
				t.Errorf("container %s of lost task %s stopped while its agent was away", runtimeID(o), lastSegment(aws.ToString(o.TaskArn)))
			}
		}

		// Two replacements on the other instance, by the same deployment.
		s := e.waitService(name, "two replacements running", func(s types.Service) bool {
			return s.RunningCount == 2 && s.PendingCount == 0 && len(s.Deployments) == 1 &&
				s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
		})
		all := e.wantReplacedOnce(name, old, other, s)

		// Another timeout and a margin later, still the same four tasks.
		for until := lastStop.Add(lostAfter + lostAfterMargin); time.Now().Before(until); time.Sleep(time.Second) {
			if now := e.tasks(name); !sameTasks(now, all) {
				t.Fatalf("the tasks changed after the replacement:%s\nwere:%s", tasksString(now), tasksString(all))
			}
		}

		// The agent comes back as the same instance and stops the
		// containers of the tasks the server gave up on.
		gone.start()
		deadline := time.Now().Add(2 * time.Minute)
		for _, o := range old {
			for gone.containerRunning(runtimeID(o)) {
				if time.Now().After(deadline) {
					t.Fatalf("container %s of lost task %s still runs 2 minutes after its agent came back", runtimeID(o), lastSegment(aws.ToString(o.TaskArn)))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if now := e.tasks(name); !sameTasks(now, all) {
			t.Errorf("the tasks changed when the agent came back:%s\nwere:%s", tasksString(now), tasksString(all))
		}
		s = e.service(name)
		e.wantReplacedOnce(name, old, other, s)
		if ci := e.instance(gone.arn); !ci.AgentConnected || ci.RunningTasksCount != 0 || ci.PendingTasksCount != 0 {
			t.Errorf("the instance that came back: agentConnected=%v, %d running and %d pending tasks, want connected and none",
				ci.AgentConnected, ci.RunningTasksCount, ci.PendingTasksCount)
		}
	})
}

// wantReplacedOnce checks that service name has the old tasks STOPPED and
// exactly len(old) others RUNNING on the other agent's instance, that its
// events name as started only these tasks, and no event of a host lost
// twice; it returns the tasks.
func (e *env) wantReplacedOnce(name string, old []types.Task, other *agentProc, s types.Service) []types.Task {
	t := e.t
	t.Helper()
	all := e.tasks(name)
	var replacements []string
	for _, task := range all {
		arn := aws.ToString(task.TaskArn)
		if slices.Contains(taskArns(old), arn) {
			if aws.ToString(task.LastStatus) != "STOPPED" {
				t.Errorf("old task not STOPPED: %s", taskString(task))
			}
			continue
		}
		replacements = append(replacements, lastSegment(arn))
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" ||
			aws.ToString(task.ContainerInstanceArn) != other.arn {
			t.Errorf("replacement: want RUNNING on %s: %s", other.id(), taskString(task))
		}
	}
	if len(all) != 2*len(old) {
		t.Fatalf("the service has %d tasks in all, want the %d old ones and %d replacements:%s\n%s",
			len(all), len(old), len(old), tasksString(all), serviceString(s))
	}
	var started []string
	for _, ev := range eventMessages(s) {
		if strings.Contains(ev, ") has started ") {
			for _, f := range strings.Split(ev, "(task ")[1:] {
				started = append(started, f[:strings.Index(f, ")")])
			}
		}
	}
	want := append(lastSegments(taskArns(old)), replacements...)
	slices.Sort(started)
	slices.Sort(want)
	if !slices.Equal(started, want) {
		t.Errorf("the service's events started tasks %v, want %v (the old and their replacements, once each):\n%s", started, want, serviceString(s))
	}
	return all
}

// waitTask polls task arn until cond holds (at most 2 minutes).
func (e *env) waitTask(arn, what string, cond func(types.Task) bool) types.Task {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.ecs.DescribeTasks(ctx(e.t), &ecs.DescribeTasksInput{Cluster: aws.String(e.cluster), Tasks: []string{arn}})
		if err != nil || len(out.Tasks) != 1 {
			e.t.Fatalf("describe task %s: %v %v", lastSegment(arn), err, out)
		}
		if cond(out.Tasks[0]) {
			return out.Tasks[0]
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("task did not get %s within 2 minutes: %s", what, taskString(out.Tasks[0]))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sameTasks reports whether two listings show the same tasks in the same
// statuses.
func sameTasks(a, b []types.Task) bool {
	return slices.EqualFunc(a, b, func(x, y types.Task) bool {
		return aws.ToString(x.TaskArn) == aws.ToString(y.TaskArn) && aws.ToString(x.LastStatus) == aws.ToString(y.LastStatus) &&
			aws.ToString(x.DesiredStatus) == aws.ToString(y.DesiredStatus)
	})
}
