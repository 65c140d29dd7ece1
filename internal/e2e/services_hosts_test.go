package e2e

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/dockertest"
)

// Service tests about hosts: DAEMON services, DRAINING instances and lost
// agents.

// liveOn counts the live tasks of a service per container instance ARN.
func liveOn(tasks []types.Task) map[string]int {
	m := map[string]int{}
	for _, task := range tasks {
		if aws.ToString(task.DesiredStatus) == "RUNNING" && aws.ToString(task.LastStatus) != "STOPPED" {
			m[aws.ToString(task.ContainerInstanceArn)]++
		}
	}
	return m
}

// drain sets a container instance DRAINING.
func (te *taskEnv) drain(instanceArn string) {
	te.t.Helper()
	out, err := te.ecs.UpdateContainerInstancesState(ctx(te.t), &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(te.cluster),
		ContainerInstances: []string{instanceArn}, Status: types.ContainerInstanceStatusDraining})
	if err != nil || len(out.Failures) != 0 {
		te.t.Fatalf("drain %s: %v %s", instanceArn, err, failuresString(out.Failures))
	}
}

// instance describes one container instance.
func (te *taskEnv) instance(arn string) types.ContainerInstance {
	te.t.Helper()
	out, err := te.ecs.DescribeContainerInstances(ctx(te.t), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(te.cluster),
		ContainerInstances: []string{arn}})
	if err != nil || len(out.ContainerInstances) != 1 {
		te.t.Fatalf("describe instance %s: %v %v", arn, err, out)
	}
	return out.ContainerInstances[0]
}

// TestService_Daemon runs a DAEMON service limited to instances with the
// attribute role=edge: one task on each matching ACTIVE instance and none
// elsewhere; an agent that joins later gets its task; draining an
// instance stops its task and lowers the desired count.
func TestService_Daemon(t *testing.T) {
	edge := agentOptions{attributes: map[string]string{"role": "edge"}}
	te := newServiceEnv(t, deploy.Config{}, edge, edge, agentOptions{})
	e1, e2, plain := te.agents[0], te.agents[1], te.agents[2]
	const name = "logship"
	def := te.register(name, "", te.app("app"))
	created := te.createService(ecs.CreateServiceInput{ServiceName: aws.String(name), TaskDefinition: aws.String(def),
		SchedulingStrategy: types.SchedulingStrategyDaemon,
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf,
			Expression: aws.String("attribute:role == edge")}}})
	if created.SchedulingStrategy != types.SchedulingStrategyDaemon {
		t.Errorf("CreateService answered %s", serviceString(created))
	}
	if dc := created.DeploymentConfiguration; dc == nil || aws.ToInt32(dc.MinimumHealthyPercent) != 0 || aws.ToInt32(dc.MaximumPercent) != 100 {
		t.Errorf("DAEMON deployment configuration %+v, want ECS's defaults 0 / 100", dc)
	}
	wantOn := func(s types.Service, want map[string]int) {
		t.Helper()
		id := aws.ToString(s.Deployments[0].Id)
		tasks := te.wantServiceTasks(name, def, id, len(want))
		if got := liveOn(tasks); !maps.Equal(got, want) {
			t.Errorf("DAEMON tasks per instance %v, want %v", got, want)
		}
	}
	s := te.waitCompleted(name)
	d := wantSettled(t, s, def, 2)
	id := aws.ToString(d.Id)
	wantOn(s, map[string]int{e1.arn(): 1, e2.arn(): 1})
	wantEvents(t, s, completedEvent(name, id), steadyEvent(name))

	// A new matching agent gets one task; the count follows.
	e3 := te.startAgent(edge)
	s = te.waitService(name, "a task on the new instance", func(s types.Service) bool {
		return s.DesiredCount == 3 && s.RunningCount == 3 && len(s.Deployments) == 1 &&
			s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
	})
	if got := aws.ToString(wantSettled(t, s, def, 3).Id); got != id {
		t.Errorf("a new instance made a new deployment: %s", serviceString(s))
	}
	wantOn(s, map[string]int{e1.arn(): 1, e2.arn(): 1, e3.arn(): 1})
	if n := plain.instance(t).RunningTasksCount; n != 0 {
		t.Errorf("the instance without role=edge runs %d tasks", n)
	}

	// Draining e1 stops its task (whatever the bounds) and it is not
	// replaced there or anywhere.
	var onE1 string
	for _, task := range te.serviceTasks(name, types.DesiredStatusRunning) {
		if aws.ToString(task.ContainerInstanceArn) == e1.arn() {
			onE1 = aws.ToString(task.TaskArn)
		}
	}
	te.drain(e1.arn())
	te.wantScaledDown(onE1, id)
	s = te.waitService(name, "two tasks after the drain", func(s types.Service) bool {
		return s.DesiredCount == 2 && s.RunningCount == 2 && s.PendingCount == 0
	})
	wantOn(s, map[string]int{e2.arn(): 1, e3.arn(): 1})
	wantEvents(t, s, stoppedEvent(name, lastSegment(onE1)))
	if ci := e1.instance(t); aws.ToString(ci.Status) != "DRAINING" || ci.RunningTasksCount != 0 {
		t.Errorf("drained instance: status %s, %d running tasks", aws.ToString(ci.Status), ci.RunningTasksCount)
	}
}

// instance describes the agent's container instance.
func (ta *testAgent) instance(t *testing.T) types.ContainerInstance {
	t.Helper()
	return ta.te.instance(ta.arn())
}

// TestService_DrainingInstance drains the instance of one of a REPLICA
// service's two tasks: the task is replaced on the other instance within
// minimumHealthyPercent 100 / maximumPercent 200 (the replacement first,
// sampled throughout), by the same deployment; a standalone task on the
// drained instance is left running (ECS leaves those to the user).
func TestService_DrainingInstance(t *testing.T) {
	const settle = time.Second
	te := newServiceEnv(t, deploy.Config{SettleTime: settle}, agentOptions{}, agentOptions{})
	const name = "api"
	def := te.register(name, "", te.app("app"))
	te.createService(ecs.CreateServiceInput{ServiceName: aws.String(name), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(2)})
	s := te.waitCompleted(name)
	id := aws.ToString(wantSettled(t, s, def, 2).Id)
	tasks := te.wantServiceTasks(name, def, id, 2)
	if got := liveOn(tasks); len(got) != 2 {
		t.Errorf("tasks per instance %v, want one on each (spread across availability zones)", got)
	}
	drained := te.agentOf(tasks[0])
	var moving string
	for _, task := range tasks {
		if aws.ToString(task.ContainerInstanceArn) == drained.arn() {
			moving = aws.ToString(task.TaskArn)
		}
	}
	other := te.agents[0]
	if other == drained {
		other = te.agents[1]
	}
	standalone, err := te.ecs.StartTask(ctx(t), &ecs.StartTaskInput{Cluster: aws.String(te.cluster),
		TaskDefinition: aws.String(te.register("standalone", "", te.app("app"))), ContainerInstances: []string{drained.arn()}})
	if err != nil || len(standalone.Tasks) != 1 {
		t.Fatalf("StartTask: %v %v", err, standalone)
	}
	alone := aws.ToString(standalone.Tasks[0].TaskArn)
	te.waitFor(alone, "RUNNING", func(task types.Task) bool { return aws.ToString(task.LastStatus) == "RUNNING" })

	b := te.watchBounds(name, 2, 4, healthyAfter(settle))
	te.drain(drained.arn())
	te.wantScaledDown(moving, id)
	s = te.waitService(name, "its tasks off the drained instance", func(s types.Service) bool {
		if s.RunningCount != 2 || s.PendingCount != 0 {
			return false
		}
		on := liveOn(te.serviceTasks(name, types.DesiredStatusRunning))
		return on[drained.arn()] == 0 && on[other.arn()] == 2
	})
	b.check(t)
	s = te.waitCompleted(name)
	if got := aws.ToString(wantSettled(t, s, def, 2).Id); got != id {
		t.Errorf("draining made a new deployment: %s", serviceString(s))
	}
	te.wantServiceTasks(name, def, id, 2)
	started := startedTasks(t, s)
	if len(started) < 2 || len(started[len(started)-1]) != 1 {
		t.Fatalf("started events %v, want one replacement last", started)
	}
	replacement := started[len(started)-1][0]
	// The replacement first (maximumPercent leaves room), then the stop.
	wantEvents(t, s, startedEvent(name, replacement), stoppedEvent(name, lastSegment(moving)))
	if task := te.describe(alone); aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" {
		t.Errorf("the standalone task on the drained instance: %s", taskString(task))
	}
	if ci := drained.instance(t); aws.ToString(ci.Status) != "DRAINING" || ci.RunningTasksCount != 1 {
		t.Errorf("drained instance: status %s, %d running tasks (want only the standalone one)", aws.ToString(ci.Status), ci.RunningTasksCount)
	}
}

// TestService_LostHost stops an agent without deregistering it (its
// containers go on running). Past the server's lost-host timeout its
// service task is marked STOPPED with a reason naming the instance and
// replaced on the other instance. When the agent comes back on the same
// data dir it stops that container instead of running it beside the
// replacement.
func TestService_LostHost(t *testing.T) {
	const lostAfter = 3 * time.Second
	te := newServiceEnv(t, deploy.Config{LostHostTimeout: lostAfter}, agentOptions{}, agentOptions{})
	const name = "sticky"
	def := te.register(name, "", te.app("app"))
	te.createService(ecs.CreateServiceInput{ServiceName: aws.String(name), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(2)})
	s := te.waitCompleted(name)
	id := aws.ToString(wantSettled(t, s, def, 2).Id)
	tasks := te.wantServiceTasks(name, def, id, 2)
	lost := te.agentOf(tasks[0])
	survivor := te.agents[0]
	if survivor == lost {
		survivor = te.agents[1]
	}
	var lostTasks []string
	var lostContainers []string
	for _, task := range tasks {
		if aws.ToString(task.ContainerInstanceArn) == lost.arn() {
			lostTasks = append(lostTasks, aws.ToString(task.TaskArn))
			lostContainers = append(lostContainers, aws.ToString(container(t, task, "app").RuntimeId))
		}
	}

	lost.stop()
	waitConnected(t, te.env, te.cluster, lost.arn(), false)
	reason := fmt.Sprintf("Task stopped because its container instance %s lost its agent connection for longer than %s.", instanceID(lost.arn()), lostAfter)
	for _, arn := range lostTasks {
		task := te.waitTaskStopped(arn)
		if task.StopCode != types.TaskStopCodeTerminationNotice || aws.ToString(task.StoppedReason) != reason {
			t.Errorf("lost task: want stop code TerminationNotice and %q: %s", reason, taskString(task))
		}
	}
	docker := dockertest.RequireDocker(t)
	for _, rid := range lostContainers {
		if !containerRunning(t, docker, rid) {
			t.Errorf("container %s of the lost host stopped while its agent was away", rid)
		}
	}
	s = te.waitService(name, "replacements on the other instance", func(s types.Service) bool {
		return s.RunningCount == 2 && s.PendingCount == 0 && liveOn(te.serviceTasks(name, types.DesiredStatusRunning))[survivor.arn()] == 2
	})
	s = te.waitCompleted(name)
	if got := aws.ToString(wantSettled(t, s, def, 2).Id); got != id {
		t.Errorf("a lost host made a new deployment: %s", serviceString(s))
	}
	live := te.wantServiceTasks(name, def, id, 2)

	// The agent returns with the same data dir: the server no longer
	// lists the lost tasks, so the agent stops their containers.
	lost.start()
	if arn := lost.arn(); arn != aws.ToString(tasks[0].ContainerInstanceArn) && arn != aws.ToString(tasks[1].ContainerInstanceArn) {
		t.Errorf("the agent came back as %s, a new instance", arn)
	}
	waitConnected(t, te.env, te.cluster, lost.arn(), true)
	for _, rid := range lostContainers {
		deadline := time.Now().Add(2 * time.Minute)
		for containerRunning(t, docker, rid) {
			if time.Now().After(deadline) {
				t.Fatalf("container %s of a lost task still runs 2 minutes after its agent came back", rid)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	lost.settle(t) // it has acted on the server's list: what it left runs is what it keeps
	for _, arn := range lostTasks {
		if task := te.describe(arn); task.StopCode != types.TaskStopCodeTerminationNotice || aws.ToString(task.StoppedReason) != reason {
			t.Errorf("lost task after its agent came back: %s", taskString(task))
		}
		for _, h := range lost.containers(t, arn) {
			if st := lost.inspect(t, h.ID); st.Running {
				t.Errorf("the returned agent runs a container of lost task %s", arn)
			}
		}
	}
	// No duplicate: the service keeps exactly its two replacements.
	now := te.wantServiceTasks(name, def, id, 2)
	if !slices.Equal(sortedArns(now), sortedArns(live)) {
		t.Errorf("the service's tasks changed when the agent came back: %v, were %v", sortedArns(now), sortedArns(live))
	}
	if s := te.service(name); s.RunningCount != 2 || len(s.Deployments) != 1 {
		t.Errorf("after the agent came back: %s", serviceString(s))
	}
}

func sortedArns(tasks []types.Task) []string {
	out := taskArns(tasks)
	slices.Sort(out)
	return out
}

// containerRunning asks the engine whether container id runs (a removed
// container does not).
func containerRunning(t *testing.T, docker *client.Client, id string) bool {
	t.Helper()
	res, err := docker.ContainerInspect(ctx(t), id, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatalf("docker inspect %s: %v", id, err)
	}
	return res.Container.State != nil && res.Container.State.Running
}
