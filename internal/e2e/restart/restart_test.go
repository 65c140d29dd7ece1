package restart

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// defaultLostHostTimeout is berth's --lost-host-timeout default. The
// outage tests keep it: what they prove is that an outage shorter than the
// timeout users run with loses nothing, and the deadlines they watch (one
// timeout after the server last heard from the agent, or after it
// started) are measured in it.
const defaultLostHostTimeout = time.Minute

// lostAfterMargin is how long past a deadline of the server's the tests
// keep watching before they conclude nothing happened at it: the
// controller acts at the deadline (a timer), so a few seconds cover a busy
// machine.
const lostAfterMargin = 5 * time.Second

// signals are the ways the tests stop a server: a clean stop (the server
// records its agents' disconnections as their streams close) and a crash.
var signals = []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL}

func sigName(s syscall.Signal) string {
	if s == syscall.SIGKILL {
		return "SIGKILL"
	}
	return "SIGTERM"
}

// TestServerRestart runs a service of two tasks on one `berth agent`,
// stops `berth server` (SIGTERM, SIGKILL) and starts it again on the same
// data dir and address, where the agent reconnects. The outages: a short
// one (5 s), one just under the lost-host timeout (50 s), and one longer
// than it (70 s): the server cannot tell whether an agent was away while
// the server itself was down, so it gives every agent a full timeout from
// its start. Nothing may happen to the service: the same two tasks run in
// the same containers and nothing is started, stopped or declared lost,
// not even once the server has run for a whole lost-host timeout.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	forEachRuntime(t, func(t *testing.T, rt string) {
		for _, sig := range signals {
			for _, outage := range []time.Duration{5 * time.Second, 50 * time.Second, 70 * time.Second} {
				t.Run(fmt.Sprintf("%s/%ds", sigName(sig), int(outage.Seconds())), func(t *testing.T) {
					t.Parallel()
					testOutage(t, rt, outageCase{mode: "server", sig: sig, outage: outage})
				})
			}
		}
	})
}

// TestServerRestartAgentLate is TestServerRestart's 50 s outage with an
// agent that comes back 20 s after the server (frozen with SIGSTOP through
// the outage, then continued): the restarted server must give it a full
// lost-host timeout from its own start, whatever it recorded before it
// stopped, instead of counting the outage against the agent.
func TestServerRestartAgentLate(t *testing.T) {
	t.Parallel()
	forEachRuntime(t, func(t *testing.T, rt string) {
		for _, sig := range signals {
			t.Run(fmt.Sprintf("%s/50s", sigName(sig)), func(t *testing.T) {
				t.Parallel()
				testOutage(t, rt, outageCase{mode: "server", sig: sig, outage: 50 * time.Second, agentLate: 20 * time.Second})
			})
		}
	})
}

// TestDevRestart is TestServerRestart's 5 s outage for `berth dev`, which
// runs the server and an agent in one process: the agent restarts with the
// server (it adopts its running containers and registers again), as when
// a developer restarts berth dev.
func TestDevRestart(t *testing.T) {
	t.Parallel()
	forEachRuntime(t, func(t *testing.T, rt string) {
		for _, sig := range signals {
			t.Run(fmt.Sprintf("%s/5s", sigName(sig)), func(t *testing.T) {
				t.Parallel()
				testOutage(t, rt, outageCase{mode: "dev", sig: sig, outage: 5 * time.Second})
			})
		}
	})
}

// outageCase is one control-plane outage.
type outageCase struct {
	mode   string         // "server" (a server and an agent process) or "dev" (one process)
	sig    syscall.Signal // how the server is stopped
	outage time.Duration  // from the server's exit to its restart
	// agentLate, when set (mode server), freezes the agent from before the
	// server stops until this long after the server answers again.
	agentLate time.Duration
}

// testOutage runs a service of two tasks, stops the server as oc says,
// starts it again and checks that nothing happens to the service.
func testOutage(t *testing.T, rt string, oc outageCase) {
	begin := time.Now()
	e := newEnv(t, rt)
	var ag *agentProc
	if oc.mode == "dev" {
		ag = e.startDev(serverFlags{})
	} else {
		e.startServer(serverFlags{})
		ag = e.startAgent(testRegion + "a")
	}
	const name = "web"
	def := e.register(name)
	e.createService(name, def, 2)
	before := e.waitSteady(name)
	tasks := e.tasks(name)
	if len(tasks) != 2 {
		t.Fatalf("the service has %d tasks, want 2:%s", len(tasks), tasksString(tasks))
	}
	for _, task := range tasks {
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.ContainerInstanceArn) != ag.arn || runtimeID(task) == "" ||
			!ag.containerRunning(runtimeID(task)) {
			t.Fatalf("before the outage: want RUNNING on %s with a running container: %s", ag.id(), taskString(task))
		}
	}
	t.Logf("the service reached a steady state %s after the test began", time.Since(begin).Round(time.Millisecond))

	// The service has run long enough: when the server comes back, the
	// container instance is older than the lost-host timeout (the bug
	// report's service had run for 70 s). A server that confuses "never
	// heard from the agent since it started" with "disconnected since the
	// instance registered" loses the tasks only then. Meanwhile nothing
	// changes.
	registered := aws.ToTime(e.instance(ag.arn).RegisteredAt)
	for ready := registered.Add(defaultLostHostTimeout - oc.outage + 2*time.Second); time.Now().Before(ready); {
		e.wantUnchanged(name, ag, before, tasks, "before the outage", aws.Bool(true))
		time.Sleep(time.Second)
	}

	// The instance's version grows with every change of its connection:
	// a view newer than this one that shows it connected was made by the
	// restarted server (right after a SIGKILL, the state rebuilt from the
	// log still shows the old stream connected).
	v0 := e.instance(ag.arn).Version
	if oc.agentLate > 0 {
		ag.pause()
	}
	st := e.srv.signal(oc.sig)
	if oc.sig == syscall.SIGTERM && !st.Success() {
		t.Errorf("the server exited with %v on SIGTERM, want 0", st)
	}
	// The outage itself is a duration: the control plane is away this long.
	time.Sleep(oc.outage)
	for _, task := range tasks {
		if !ag.containerRunning(runtimeID(task)) {
			t.Errorf("container %s of task %s stopped during the outage", runtimeID(task), lastSegment(aws.ToString(task.TaskArn)))
		}
	}
	e.restartServer()
	started := e.srv.ready // the server's start is no later than this
	if oc.agentLate > 0 {
		// The agent stays away this long after the restart; nothing
		// happens meanwhile (whatever the instance shows of a connection
		// the server has not heard from since it started).
		for time.Since(started) < oc.agentLate {
			e.wantUnchanged(name, ag, before, tasks, "while the agent is late", nil)
			time.Sleep(time.Second)
		}
		ag.resume()
	}
	if oc.mode == "dev" {
		ag.waitRegistered() // the same instance
	}
	e.waitReconnected(ag.arn, v0)
	t.Logf("agent connected again %s after the server answered", time.Since(started).Round(time.Millisecond))

	// The bug this guards against fires one lost-host timeout after the
	// server starts (or after it last saw the agent): watch the service
	// until then, and a margin past it, and fail at the first change.
	until := started.Add(defaultLostHostTimeout + lostAfterMargin)
	polls := 0
	for {
		polls++
		e.wantUnchanged(name, ag, before, tasks, "after the restart", aws.Bool(true))
		if time.Now().After(until) {
			break
		}
		time.Sleep(time.Second)
	}
	t.Logf("nothing changed in %d looks over the %s after the restart", polls, time.Since(started).Round(time.Second))
	// The runtime has exactly the two containers, running.
	hs, err := ag.containers(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.ID)
	}
	want := []string{runtimeID(tasks[0]), runtimeID(tasks[1])}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("the runtime has containers %v, want %v", ids, want)
	}
	for _, id := range want {
		if !ag.containerRunning(id) {
			t.Errorf("container %s no longer runs", id)
		}
	}
}

// wantUnchanged fails the test at once unless the service is as before
// the outage: the same tasks (ListTasks, running and stopped) RUNNING in
// the same containers on ag, the same deployment with the same counts, no
// event since but a steady state, the instance ACTIVE with its two tasks
// and, unless connected is nil, agentConnected *connected.
func (e *env) wantUnchanged(name string, ag *agentProc, before types.Service, tasks []types.Task, when string, connected *bool) {
	t := e.t
	t.Helper()
	now := e.tasks(name)
	var problems []string
	if !slices.Equal(taskArns(now), taskArns(tasks)) {
		problems = append(problems, fmt.Sprintf("tasks %v, were %v", lastSegments(taskArns(now)), lastSegments(taskArns(tasks))))
	}
	for _, task := range now {
		i := slices.Index(taskArns(tasks), aws.ToString(task.TaskArn))
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" ||
			i < 0 || runtimeID(task) != runtimeID(tasks[i]) {
			problems = append(problems, "task changed: "+taskString(task))
		}
	}
	s := e.service(name)
	d, d0 := s.Deployments, before.Deployments
	if s.DesiredCount != 2 || s.RunningCount != 2 || s.PendingCount != 0 || len(d) != 1 ||
		aws.ToString(d[0].Id) != aws.ToString(d0[0].Id) || d[0].RolloutState != d0[0].RolloutState ||
		d[0].DesiredCount != d0[0].DesiredCount || d[0].RunningCount != d0[0].RunningCount ||
		d[0].PendingCount != d0[0].PendingCount || d[0].FailedTasks != d0[0].FailedTasks {
		problems = append(problems, "service or deployment changed")
	}
	steady := "(service " + name + ") has reached a steady state."
	for _, ev := range newEvents(before, s) {
		if ev != steady {
			problems = append(problems, "new event: "+ev)
		}
	}
	ci := e.instance(ag.arn)
	if (connected != nil && ci.AgentConnected != *connected) || aws.ToString(ci.Status) != "ACTIVE" || ci.RunningTasksCount != 2 {
		problems = append(problems, fmt.Sprintf("instance %s: agentConnected=%v status=%s runningTasksCount=%d",
			ag.id(), ci.AgentConnected, aws.ToString(ci.Status), ci.RunningTasksCount))
	}
	if len(problems) > 0 {
		t.Fatalf("%s (the server answered %s ago):\n  %s\nservice now: %s\ntasks now:%s\ntasks before:%s",
			when, time.Since(e.srv.ready).Round(time.Millisecond), strings.Join(problems, "\n  "), serviceString(s), tasksString(now), tasksString(tasks))
	}
}

// newEvents returns the messages of the events of s that before did not
// have, oldest first.
func newEvents(before, s types.Service) []string {
	seen := map[string]bool{}
	for _, ev := range before.Events {
		seen[aws.ToString(ev.Id)] = true
	}
	var out []string
	for i := len(s.Events) - 1; i >= 0; i-- {
		if !seen[aws.ToString(s.Events[i].Id)] {
			out = append(out, aws.ToString(s.Events[i].Message))
		}
	}
	return out
}

func lastSegments(arns []string) []string {
	out := make([]string, len(arns))
	for i, a := range arns {
		out[i] = lastSegment(a)
	}
	return out
}
