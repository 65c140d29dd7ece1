package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
)

// watcher records every distinct state DescribeTasks shows of one task.
type watcher struct {
	mu    sync.Mutex
	seen  []types.Task
	stop  chan struct{}
	done  chan struct{}
	fails []string
}

// watch polls task arn every 20ms until the returned watcher is stopped.
func (te *taskEnv) watch(arn string) *watcher {
	w := &watcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for last := false; ; {
			c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := te.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{Cluster: aws.String(te.cluster), Tasks: []string{arn}})
			cancel()
			w.mu.Lock()
			switch {
			case err != nil:
				w.fails = append(w.fails, err.Error())
			case len(out.Tasks) == 1:
				if n := len(w.seen); n == 0 || !sameState(w.seen[n-1], out.Tasks[0]) {
					w.seen = append(w.seen, out.Tasks[0])
				}
			}
			w.mu.Unlock()
			if last {
				return
			}
			select {
			case <-w.stop:
				last = true // one more look: the state the caller waited for
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

// states stops the watcher and returns what it saw.
func (w *watcher) states(t *testing.T) []types.Task {
	t.Helper()
	close(w.stop)
	<-w.done
	if len(w.fails) > 0 {
		t.Fatalf("describe while watching: %v", w.fails)
	}
	return w.seen
}

// sameState reports whether two views of a task show the same state.
func sameState(a, b types.Task) bool {
	ja, _ := json.Marshal(stateOf(a))
	jb, _ := json.Marshal(stateOf(b))
	return bytes.Equal(ja, jb)
}

func stateOf(t types.Task) any {
	type ctr struct {
		Last, Reason, Runtime, Health string
		Exit                          *int32
		Bindings                      int
	}
	s := struct {
		Last, Desired, Health, StopCode, Reason string
		Version                                 int64
		Times                                   []*time.Time
		Containers                              []ctr
	}{aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus), string(t.HealthStatus), string(t.StopCode), aws.ToString(t.StoppedReason),
		t.Version, []*time.Time{t.StartedAt, t.StoppingAt, t.StoppedAt, t.ExecutionStoppedAt, t.PullStartedAt, t.PullStoppedAt}, nil}
	for _, c := range t.Containers {
		s.Containers = append(s.Containers, ctr{aws.ToString(c.LastStatus), aws.ToString(c.Reason), aws.ToString(c.RuntimeId),
			string(c.HealthStatus), c.ExitCode, len(c.NetworkBindings)})
	}
	return s
}

// statusOrder is the order of (lastStatus, desiredStatus) pairs a task
// shown by DescribeTasks may go through.
var statusOrder = []string{"PENDING/RUNNING", "RUNNING/RUNNING", "PENDING/STOPPED", "STOPPING/STOPPED", "STOPPED/STOPPED"}

// checkHistory checks that states move forward only, that the version
// grows with every change and that the pairs in want were all seen.
func checkHistory(t *testing.T, seen []types.Task, want ...string) {
	t.Helper()
	var pairs []string
	last := -1
	for i, s := range seen {
		pair := aws.ToString(s.LastStatus) + "/" + aws.ToString(s.DesiredStatus)
		k := slices.Index(statusOrder, pair)
		if k < 0 {
			t.Errorf("state %d: unexpected status pair %s", i, pair)
		}
		if k < last {
			t.Errorf("state %d: %s after %s", i, pair, statusOrder[last])
		}
		last = max(last, k)
		if len(pairs) == 0 || pairs[len(pairs)-1] != pair {
			pairs = append(pairs, pair)
		}
		if i > 0 && !sameState(s, seen[i-1]) && s.Version <= seen[i-1].Version {
			a, _ := json.Marshal(stateOf(seen[i-1]))
			b, _ := json.Marshal(stateOf(s))
			t.Errorf("state %d changed but its version %d did not grow from %d:\n%s\n%s", i, s.Version, seen[i-1].Version, a, b)
		}
	}
	for _, w := range want {
		if !slices.Contains(pairs, w) {
			t.Errorf("status pairs %v do not include %s", pairs, w)
		}
	}
}

// checkTimes checks createdAt ≤ startedAt ≤ stoppingAt ≤ stoppedAt for the
// timestamps present, and that those in required are.
func checkTimes(t *testing.T, task types.Task, required ...string) {
	t.Helper()
	times := []struct {
		name string
		at   *time.Time
	}{{"createdAt", task.CreatedAt}, {"startedAt", task.StartedAt}, {"stoppingAt", task.StoppingAt}, {"stoppedAt", task.StoppedAt}}
	var prev *time.Time
	prevName := ""
	for _, ts := range times {
		if ts.at == nil {
			if slices.Contains(required, ts.name) {
				t.Errorf("%s is missing: %s", ts.name, taskString(task))
			}
			continue
		}
		if prev != nil && ts.at.Before(*prev) {
			t.Errorf("%s %s is before %s %s", ts.name, ts.at.Format(time.RFC3339Nano), prevName, prev.Format(time.RFC3339Nano))
		}
		prev, prevName = ts.at, ts.name
	}
	if task.ExecutionStoppedAt != nil && task.StoppedAt != nil && task.ExecutionStoppedAt.After(*task.StoppedAt) {
		t.Errorf("executionStoppedAt %s is after stoppedAt %s", task.ExecutionStoppedAt, task.StoppedAt)
	}
}

func exitCode(c types.Container) string {
	if c.ExitCode == nil {
		return "none"
	}
	return strconv.Itoa(int(*c.ExitCode))
}

// TestTaskRun_Lifecycle runs a task to RUNNING and stops it: gracefully
// (the application drains on SIGTERM and exits 0) and by SIGKILL after the
// container's stopTimeout (the application ignores SIGTERM).
func TestTaskRun_Lifecycle(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})
		ag := te.agents[0]

		t.Run("graceful", func(t *testing.T) {
			te := *te
			te.t = t
			def := te.register("lifecycle", "", te.app("app"))
			task := te.run(def, 1)[0]
			arn := aws.ToString(task.TaskArn)
			w := te.watch(arn)
			if aws.ToString(task.LastStatus) != "PENDING" || aws.ToString(task.DesiredStatus) != "RUNNING" || task.CreatedAt == nil ||
				task.StartedAt != nil || task.StopCode != "" || task.HealthStatus != types.HealthStatusUnknown {
				t.Errorf("RunTask answered %s, want PENDING/RUNNING, createdAt, health UNKNOWN and nothing else", taskString(task))
			}
			if c := container(t, task, "app"); aws.ToString(c.LastStatus) != "PENDING" || c.HealthStatus != types.HealthStatusUnknown {
				t.Errorf("RunTask container status %s and health %q, want PENDING and UNKNOWN", aws.ToString(c.LastStatus), c.HealthStatus)
			}
			if aws.ToString(task.ContainerInstanceArn) != ag.arn() {
				t.Errorf("task on %s, want %s", aws.ToString(task.ContainerInstanceArn), ag.arn())
			}

			te.waitRunning(arn)
			running := te.describe(arn)
			c := container(t, running, "app")
			if aws.ToString(c.LastStatus) != "RUNNING" || c.ExitCode != nil || aws.ToString(c.RuntimeId) == "" || c.Reason != nil ||
				c.HealthStatus != types.HealthStatusUnknown || running.HealthStatus != types.HealthStatusUnknown {
				t.Errorf("running container: %s", taskString(running))
			}
			if running.Version <= task.Version {
				t.Errorf("version %d after RUNNING, not above RunTask's %d", running.Version, task.Version)
			}
			checkTimes(t, running, "createdAt", "startedAt")
			if running.PullStartedAt == nil || running.PullStoppedAt == nil || running.PullStoppedAt.Before(*running.PullStartedAt) {
				t.Errorf("pull times %v %v", running.PullStartedAt, running.PullStoppedAt)
			}
			hs := ag.containers(t, arn)
			if len(hs) != 1 || hs[0].ID != aws.ToString(c.RuntimeId) {
				t.Fatalf("runtime has %+v for the task, want one container %s", hs, aws.ToString(c.RuntimeId))
			}
			if st := ag.inspect(t, hs[0].ID); !st.Running {
				t.Fatalf("container is not running: %+v", st)
			}
			ag.waitListening(t, hs[0].ID)

			stopping := te.stopTask(arn)
			if aws.ToString(stopping.LastStatus) != "STOPPING" || aws.ToString(stopping.DesiredStatus) != "STOPPED" ||
				stopping.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopping.StoppedReason) != "Task stopped by user" ||
				stopping.StoppingAt == nil || stopping.Version <= running.Version {
				t.Errorf("StopTask answered %s", taskString(stopping))
			}
			te.waitStopped(arn)
			stopped := te.describe(arn)
			c = container(t, stopped, "app")
			if aws.ToString(stopped.LastStatus) != "STOPPED" || aws.ToString(stopped.DesiredStatus) != "STOPPED" ||
				stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "Task stopped by user" {
				t.Errorf("stopped task: %s", taskString(stopped))
			}
			if aws.ToString(c.LastStatus) != "STOPPED" || c.ExitCode == nil || *c.ExitCode != 0 || c.Reason != nil ||
				aws.ToString(c.RuntimeId) != hs[0].ID {
				t.Errorf("stopped container: exit %s: %s", exitCode(c), taskString(stopped))
			}
			if stopped.ExecutionStoppedAt == nil {
				t.Errorf("executionStoppedAt is missing")
			}
			checkTimes(t, stopped, "createdAt", "startedAt", "stoppingAt", "stoppedAt")
			if !stopped.StartedAt.Equal(*running.StartedAt) || !stopped.StoppingAt.Equal(*stopping.StoppingAt) {
				t.Errorf("startedAt or stoppingAt changed: %s, then %s", taskString(running), taskString(stopped))
			}
			if stopped.Version <= stopping.Version {
				t.Errorf("version %d once STOPPED, not above StopTask's %d", stopped.Version, stopping.Version)
			}
			checkHistory(t, append([]types.Task{task}, w.states(t)...), "PENDING/RUNNING", "RUNNING/RUNNING", "STOPPED/STOPPED")
			if st := ag.inspect(t, hs[0].ID); st.Running || !st.Exited || st.ExitCode != 0 {
				t.Errorf("runtime status after stop: %+v", st)
			}
			// StopTask on a stopped task answers it unchanged.
			if again := te.stopTask(arn); again.Version != stopped.Version || aws.ToString(again.LastStatus) != "STOPPED" {
				t.Errorf("StopTask again answered %s", taskString(again))
			}
		})

		t.Run("sigkill after stopTimeout", func(t *testing.T) {
			te := *te
			te.t = t
			app := te.app("app", "--ignore-sigterm")
			app.StopTimeout = aws.Int32(2)
			def := te.register("stubborn", "", app)
			arn := aws.ToString(te.run(def, 1)[0].TaskArn)
			te.waitRunning(arn)
			ag.waitListening(t, aws.ToString(container(t, te.describe(arn), "app").RuntimeId))
			stopAt := time.Now()
			te.stopTask(arn)
			te.waitStopped(arn)
			took := time.Since(stopAt)
			stopped := te.describe(arn)
			c := container(t, stopped, "app")
			if c.ExitCode == nil || *c.ExitCode != 137 {
				t.Errorf("exit code %s, want 137 (SIGKILL): %s", exitCode(c), taskString(stopped))
			}
			if took < 2*time.Second {
				t.Errorf("stopped %v after StopTask, before the 2s stopTimeout", took)
			}
			checkTimes(t, stopped, "createdAt", "startedAt", "stoppingAt", "stoppedAt")
			if d := stopped.StoppedAt.Sub(*stopped.StoppingAt); d < 2*time.Second {
				t.Errorf("stoppedAt - stoppingAt = %v, want at least the 2s stopTimeout", d)
			}
			if stopped.StopCode != types.TaskStopCodeUserInitiated {
				t.Errorf("stop code %s", stopped.StopCode)
			}
		})
	})
}

// TestTaskRun_EssentialExit checks that an essential container's exit stops
// the task and a non-essential one's does not.
func TestTaskRun_EssentialExit(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})

		t.Run("essential exits 3", func(t *testing.T) {
			te := *te
			te.t = t
			def := te.register("exit3", "", te.app("app", "--exit-code", "3"))
			arn := aws.ToString(te.run(def, 1)[0].TaskArn)
			te.waitStopped(arn)
			task := te.describe(arn)
			c := container(t, task, "app")
			if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(task.StoppedReason) != "Essential container in task exited" {
				t.Errorf("got stop code %s and reason %q, want EssentialContainerExited and %q: %s", task.StopCode,
					aws.ToString(task.StoppedReason), "Essential container in task exited", taskString(task))
			}
			if c.ExitCode == nil || *c.ExitCode != 3 || aws.ToString(c.LastStatus) != "STOPPED" || aws.ToString(c.RuntimeId) == "" {
				t.Errorf("container: %s", taskString(task))
			}
			if aws.ToString(task.DesiredStatus) != "STOPPED" || task.ExecutionStoppedAt == nil {
				t.Errorf("task: %s", taskString(task))
			}
			// It ran: it started, then stopped.
			checkTimes(t, task, "createdAt", "startedAt", "stoppingAt", "stoppedAt")
		})

		t.Run("essential exits later", func(t *testing.T) {
			te := *te
			te.t = t
			def := te.register("exitlater", "", te.app("app", "--exit-code", "3", "--exit-after", "2s"))
			arn := aws.ToString(te.run(def, 1)[0].TaskArn)
			w := te.watch(arn)
			te.waitRunning(arn)
			te.waitStopped(arn)
			task := te.describe(arn)
			if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(task.StoppedReason) != "Essential container in task exited" ||
				exitCode(container(t, task, "app")) != "3" {
				t.Errorf("task: %s", taskString(task))
			}
			checkTimes(t, task, "createdAt", "startedAt", "stoppingAt", "stoppedAt")
			checkHistory(t, w.states(t), "RUNNING/RUNNING", "STOPPED/STOPPED")
		})

		t.Run("non-essential exits", func(t *testing.T) {
			te := *te
			te.t = t
			side := te.app("side", "--exit-code", "5", "--exit-after", "1s")
			side.Essential = aws.Bool(false)
			def := te.register("sidecar", "", te.app("app"), side)
			arn := aws.ToString(te.run(def, 1)[0].TaskArn)
			task := te.waitTask(arn, "the side container stopped", func(task types.Task) bool {
				return aws.ToString(container(t, task, "side").LastStatus) == "STOPPED"
			})
			if exitCode(container(t, task, "side")) != "5" {
				t.Errorf("side container: %s", taskString(task))
			}
			// Once the agent has acted on the exit (and the server has its
			// reports), look again.
			te.agents[0].settle(t)
			task = te.describe(arn)
			if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" || task.StopCode != "" ||
				aws.ToString(container(t, task, "app").LastStatus) != "RUNNING" {
				t.Fatalf("a non-essential exit changed the task: %s", taskString(task))
			}
			te.agents[0].waitListening(t, aws.ToString(container(t, task, "app").RuntimeId))
			te.stopTask(arn)
			te.waitStopped(arn)
			task = te.describe(arn)
			if task.StopCode != types.TaskStopCodeUserInitiated || exitCode(container(t, task, "app")) != "0" || exitCode(container(t, task, "side")) != "5" {
				t.Errorf("stopped: %s", taskString(task))
			}
		})
	})
}

// TestTaskRun_DependsOn checks the SUCCESS and HEALTHY conditions and a
// dependency that can never be met.
func TestTaskRun_DependsOn(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})
		ag := te.agents[0]

		t.Run("success", func(t *testing.T) {
			te := *te
			te.t = t
			initc := te.app("init", "--exit-code", "0", "--exit-after", "1s")
			initc.Essential = aws.Bool(false)
			app := te.app("app")
			app.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
			def := te.register("init-success", "", initc, app)
			arn := aws.ToString(te.run(def, 1)[0].TaskArn)
			te.waitRunning(arn)
			task := te.describe(arn)
			ic, ac := container(t, task, "init"), container(t, task, "app")
			if aws.ToString(ic.LastStatus) != "STOPPED" || exitCode(ic) != "0" || aws.ToString(ac.LastStatus) != "RUNNING" {
				t.Fatalf("task: %s", taskString(task))
			}
			is, as := ag.inspect(t, aws.ToString(ic.RuntimeId)), ag.inspect(t, aws.ToString(ac.RuntimeId))
			if as.StartedAt.Before(is.FinishedAt) {
				t.Errorf("app started at %s, before init finished at %s", as.StartedAt, is.FinishedAt)
			}
			if d := as.StartedAt.Sub(is.StartedAt); d < time.Second {
				t.Errorf("app started %v after init, which runs for 1s", d)
			}
		})

		t.Run("healthy", func(t *testing.T) {
			te := *te
			te.t = t
			url, listen := "http://127.0.0.1:8080/health", []string{}
			if rt == rtProcess {
				p := freePort(t)
				url, listen = fmt.Sprintf("http://127.0.0.1:%d/health", p), []string{"--listen", fmt.Sprintf("127.0.0.1:%d", p)}
			}
			db := te.app("db", listen...)
			// Three retries: on a loaded host one check can time out and
			// flip the container to UNHEALTHY for an interval, which is
			// ECS's behaviour but not what this test is about.
			db.HealthCheck = te.healthCheck(url, 5, 3)
			app := te.app("app")
			app.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerConditionHealthy}}
			def := te.register("db-healthy", "", db, app)
			arn := aws.ToString(te.run(def, 1)[0].TaskArn)
			te.waitRunning(arn)
			task := te.waitTask(arn, "db healthy", func(task types.Task) bool {
				return container(t, task, "db").HealthStatus == types.HealthStatusHealthy
			})
			dc, ac := container(t, task, "db"), container(t, task, "app")
			if aws.ToString(ac.LastStatus) != "RUNNING" {
				t.Fatalf("task: %s", taskString(task))
			}
			ds, as := ag.inspect(t, aws.ToString(dc.RuntimeId)), ag.inspect(t, aws.ToString(ac.RuntimeId))
			if d := as.StartedAt.Sub(ds.StartedAt); d < 5*time.Second {
				t.Errorf("app started %v after db, before db's first health check (interval 5s)", d)
			}
		})

		t.Run("unsatisfiable", func(t *testing.T) {
			te := *te
			te.t = t
			initc := te.app("init", "--exit-code", "1", "--exit-after", "500ms")
			initc.Essential = aws.Bool(false)
			app := te.app("app")
			app.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
			def := te.register("init-fails", "", initc, app)
			arn := aws.ToString(te.run(def, 1)[0].TaskArn)
			te.waitStopped(arn)
			task := te.describe(arn)
			ic, ac := container(t, task, "init"), container(t, task, "app")
			if task.StopCode != types.TaskStopCodeTaskFailedToStart || aws.ToString(task.StoppedReason) != "Task failed to start" {
				t.Errorf("stop code %s and reason %q, want TaskFailedToStart and %q: %s", task.StopCode, aws.ToString(task.StoppedReason),
					"Task failed to start", taskString(task))
			}
			if task.StartedAt != nil {
				t.Errorf("a task that never ran has startedAt: %s", taskString(task))
			}
			if exitCode(ic) != "1" || aws.ToString(ac.LastStatus) != "STOPPED" || aws.ToString(ac.RuntimeId) != "" ||
				!strings.HasPrefix(aws.ToString(ac.Reason), "CannotStartContainerError") {
				t.Errorf("containers: %s", taskString(task))
			}
			if hs := ag.containers(t, arn); len(hs) != 1 {
				t.Errorf("runtime has %d containers for the task, want only init's", len(hs))
			}
			checkTimes(t, task, "createdAt", "stoppingAt", "stoppedAt")
		})
	})
}

// TestTaskRun_HealthCheck checks task and container healthStatus.
func TestTaskRun_HealthCheck(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})
		def := func(family string, args ...string) string {
			url := "http://127.0.0.1:8080/health"
			if rt == rtProcess {
				p := freePort(t)
				url = fmt.Sprintf("http://127.0.0.1:%d/health", p)
				args = append(args, "--listen", fmt.Sprintf("127.0.0.1:%d", p))
			}
			app := te.app("app", args...)
			app.HealthCheck = te.healthCheck(url, 5, 2)
			side := te.app("side") // no health check, not essential: ignored
			side.Essential = aws.Bool(false)
			return te.register(family, "", app, side)
		}
		good := te.run(def("healthy"), 1)[0]
		bad := te.run(def("unhealthy", "--unhealthy"), 1)[0]
		for _, task := range []types.Task{good, bad} {
			if task.HealthStatus != types.HealthStatusUnknown {
				t.Errorf("RunTask answered health %s, want UNKNOWN", task.HealthStatus)
			}
		}
		te.waitRunning(aws.ToString(good.TaskArn), aws.ToString(bad.TaskArn))
		for _, tc := range []struct {
			task types.Task
			want types.HealthStatus
		}{{good, types.HealthStatusHealthy}, {bad, types.HealthStatusUnhealthy}} {
			task := te.waitTask(aws.ToString(tc.task.TaskArn), "health "+string(tc.want), func(task types.Task) bool {
				return task.HealthStatus == tc.want
			})
			if h := container(t, task, "app").HealthStatus; h != tc.want {
				t.Errorf("container health %s, want %s", h, tc.want)
			}
			if h := container(t, task, "side").HealthStatus; h != types.HealthStatusUnknown {
				t.Errorf("side container without a health check has health %s", h)
			}
			if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" {
				t.Errorf("a standalone task's health must not stop it: %s", taskString(task))
			}
		}
	})
}

// httpGet answers GET url's status code, retrying while nothing answers.
func httpGet(t *testing.T, url string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTaskRun_PortMappings checks networkBindings: dynamic host ports
// (Docker bridge), static host ports, and a static port conflict.
func TestTaskRun_PortMappings(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})
		if rt == rtDocker {
			t.Run("dynamic", func(t *testing.T) {
				te := *te
				te.t = t
				app := te.app("app")
				app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: types.TransportProtocolTcp}}
				def := te.register("dynamic", types.NetworkModeBridge, app)
				out := te.run(def, 2)
				te.waitRunning(taskArns(out)...)
				ports := map[int32]bool{}
				for _, task := range out {
					task := te.describe(aws.ToString(task.TaskArn))
					bs := container(t, task, "app").NetworkBindings
					if len(bs) == 0 {
						t.Fatalf("no network bindings: %s", taskString(task))
					}
					for _, b := range bs {
						if aws.ToInt32(b.ContainerPort) != 8080 || aws.ToInt32(b.HostPort) == 0 || b.Protocol != types.TransportProtocolTcp || aws.ToString(b.BindIP) == "" {
							t.Errorf("binding %+v", b)
						}
						ports[aws.ToInt32(b.HostPort)] = true
					}
					hp := aws.ToInt32(bs[0].HostPort)
					if code := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", hp)); code != 200 {
						t.Errorf("GET on host port %d: %d", hp, code)
					}
				}
				if len(ports) < 2 {
					t.Errorf("two tasks share host ports %v", ports)
				}
			})
		}
		t.Run("static", func(t *testing.T) {
			te := *te
			te.t = t
			p := int32(freePort(t))
			app := te.app("app")
			app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(p)}}
			if rt == rtProcess {
				app = te.app("app", "--listen", fmt.Sprintf(":%d", p))
				app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(p), HostPort: aws.Int32(p)}}
			}
			def := te.register("static", types.NetworkModeBridge, app)
			task := te.run(def, 1)[0]
			arn := aws.ToString(task.TaskArn)
			te.waitRunning(arn)
			task = te.describe(arn)
			bs := container(t, task, "app").NetworkBindings
			if len(bs) == 0 {
				t.Fatalf("no network bindings: %s", taskString(task))
			}
			for _, b := range bs {
				if aws.ToInt32(b.HostPort) != p || aws.ToInt32(b.ContainerPort) != aws.ToInt32(app.PortMappings[0].ContainerPort) || b.Protocol != types.TransportProtocolTcp {
					t.Errorf("binding %+v, want host port %d", b, p)
				}
			}
			if code := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", p)); code != 200 {
				t.Errorf("GET on host port %d: %d", p, code)
			}
			// The port is taken on the only instance.
			out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(def)})
			if len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:PORTS" ||
				aws.ToString(out.Failures[0].Arn) != te.agents[0].arn() {
				t.Errorf("second task on the port: %d tasks, failures %s; want RESOURCE:PORTS for %s", len(out.Tasks), failuresString(out.Failures), te.agents[0].arn())
			}
			// Once the task stopped, the port is free again, for one task:
			// two of one request cannot share it.
			te.stopTask(arn)
			te.waitStopped(arn)
			out = te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(def), Count: aws.Int32(2)})
			if len(out.Tasks) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:PORTS" ||
				aws.ToString(out.Failures[0].Arn) != te.agents[0].arn() {
				t.Fatalf("two tasks on the port: %d tasks, failures %s; want one task and RESOURCE:PORTS", len(out.Tasks), failuresString(out.Failures))
			}
			te.waitRunning(aws.ToString(out.Tasks[0].TaskArn))
		})
	})
}

// TestTaskRun_Placement places tasks on three process agents.
func TestTaskRun_Placement(t *testing.T) {
	te := newTaskEnv(t, rtProcess, serverOptions{},
		agentOptions{az: "us-east-1a", attributes: map[string]string{"stack": "blue"}, reservedMemory: 1000},
		agentOptions{az: "us-east-1b", attributes: map[string]string{"stack": "green"}, reservedMemory: 2000},
		agentOptions{az: "us-east-1c", attributes: map[string]string{"stack": "green"}},
	)
	arns := []string{te.agents[0].arn(), te.agents[1].arn(), te.agents[2].arn()}
	def := func(family string) string { return te.register(family, "", te.app("app")) }
	// on counts tasks per instance index.
	on := func(t *testing.T, tasks []types.Task) []int {
		t.Helper()
		n := make([]int, len(arns))
		for _, task := range tasks {
			i := slices.Index(arns, aws.ToString(task.ContainerInstanceArn))
			if i < 0 {
				t.Fatalf("task on unknown instance %s", aws.ToString(task.ContainerInstanceArn))
			}
			n[i]++
		}
		return n
	}
	// failuresFor checks one failure with reason per instance in want.
	failuresFor := func(t *testing.T, fs []types.Failure, reason string, want ...string) {
		t.Helper()
		var got []string
		for _, f := range fs {
			if aws.ToString(f.Reason) != reason {
				t.Errorf("failure %s, want reason %s", failuresString([]types.Failure{f}), reason)
			}
			got = append(got, aws.ToString(f.Arn))
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("failures for %v, want one per instance %v", got, want)
		}
	}

	t.Run("spread by zone", func(t *testing.T) {
		out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(def("spread")), Count: aws.Int32(3),
			PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}})
		if len(out.Failures) != 0 {
			t.Fatalf("failures %s", failuresString(out.Failures))
		}
		if n := on(t, out.Tasks); !slices.Equal(n, []int{1, 1, 1}) {
			t.Errorf("tasks per instance %v, want one per zone", n)
		}
		zones := map[string]bool{}
		for _, task := range out.Tasks {
			zones[aws.ToString(task.AvailabilityZone)] = true
		}
		if len(zones) != 3 {
			t.Errorf("availabilityZone of the tasks: %v", zones)
		}
		te.waitRunning(taskArns(out.Tasks)...)
	})
	t.Run("binpack memory", func(t *testing.T) {
		out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(def("binpack")), Count: aws.Int32(3),
			PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}}})
		if len(out.Failures) != 0 {
			t.Fatalf("failures %s", failuresString(out.Failures))
		}
		// Instance 1 reserves the most memory: it has the least left.
		if n := on(t, out.Tasks); !slices.Equal(n, []int{0, 3, 0}) {
			t.Errorf("tasks per instance %v, want all on the fullest instance", n)
		}
		te.waitRunning(taskArns(out.Tasks)...)
	})
	t.Run("distinctInstance", func(t *testing.T) {
		out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(def("distinct")), Count: aws.Int32(4),
			PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}}})
		if n := on(t, out.Tasks); !slices.Equal(n, []int{1, 1, 1}) {
			t.Errorf("tasks per instance %v, want one on each", n)
		}
		failuresFor(t, out.Failures, "DistinctInstance placement constraint unsatisfied.", arns...)
		te.waitRunning(taskArns(out.Tasks)...)
	})
	t.Run("memberOf", func(t *testing.T) {
		out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(def("member")), Count: aws.Int32(3),
			PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:stack == blue")}}})
		if len(out.Failures) != 0 {
			t.Fatalf("failures %s", failuresString(out.Failures))
		}
		if n := on(t, out.Tasks); !slices.Equal(n, []int{3, 0, 0}) {
			t.Errorf("tasks per instance %v, want all on the blue one", n)
		}
		te.waitRunning(taskArns(out.Tasks)...)
	})
	t.Run("nothing fits", func(t *testing.T) {
		big := te.app("app")
		big.Memory = aws.Int32(10_000_000)
		out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(te.register("big", "", big)), Count: aws.Int32(2)})
		if len(out.Tasks) != 0 {
			t.Errorf("placed %d tasks", len(out.Tasks))
		}
		failuresFor(t, out.Failures, "RESOURCE:MEMORY", arns...)
	})
	t.Run("draining", func(t *testing.T) {
		c := ctx(t)
		up, err := te.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(te.cluster),
			ContainerInstances: []string{arns[2]}, Status: types.ContainerInstanceStatusDraining})
		if err != nil || len(up.Failures) != 0 {
			t.Fatalf("drain: %v %v", err, up)
		}
		out := te.runTask(ecs.RunTaskInput{TaskDefinition: aws.String(def("drain")), Count: aws.Int32(6),
			PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("instanceId")}}})
		if len(out.Failures) != 0 {
			t.Fatalf("failures %s", failuresString(out.Failures))
		}
		if n := on(t, out.Tasks); !slices.Equal(n, []int{3, 3, 0}) {
			t.Errorf("tasks per instance %v, want none on the draining instance", n)
		}
		// StartTask on the draining instance is refused too.
		st, err := te.ecs.StartTask(c, &ecs.StartTaskInput{Cluster: aws.String(te.cluster), TaskDefinition: aws.String(def("drain")),
			ContainerInstances: []string{arns[2]}})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Tasks) != 0 || len(st.Failures) != 1 || aws.ToString(st.Failures[0].Arn) != arns[2] {
			t.Errorf("StartTask on a draining instance: %d tasks, failures %s", len(st.Tasks), failuresString(st.Failures))
		}
		if _, err := te.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(te.cluster),
			ContainerInstances: []string{arns[2]}, Status: types.ContainerInstanceStatusActive}); err != nil {
			t.Fatal(err)
		}
		te.waitRunning(taskArns(out.Tasks)...)
	})
	t.Run("StartTask", func(t *testing.T) {
		out, err := te.ecs.StartTask(ctx(t), &ecs.StartTaskInput{Cluster: aws.String(te.cluster), TaskDefinition: aws.String(def("start")),
			ContainerInstances: []string{instanceID(arns[2])}, StartedBy: aws.String("e2e")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Failures) != 0 || len(out.Tasks) != 1 || aws.ToString(out.Tasks[0].ContainerInstanceArn) != arns[2] ||
			aws.ToString(out.Tasks[0].StartedBy) != "e2e" {
			t.Fatalf("StartTask: %d tasks, failures %s", len(out.Tasks), failuresString(out.Failures))
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		te.waitRunning(arn)
		if hs := te.agents[2].containers(t, arn); len(hs) != 1 {
			t.Errorf("instance 2's runtime has %d containers of the task", len(hs))
		}
	})
	// Every instance counts what it runs.
	c := ctx(t)
	out, err := te.ecs.DescribeContainerInstances(c, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(te.cluster), ContainerInstances: arns})
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range out.ContainerInstances {
		list, err := te.ecs.ListTasks(c, &ecs.ListTasksInput{Cluster: aws.String(te.cluster), ContainerInstance: ci.ContainerInstanceArn})
		if err != nil {
			t.Fatal(err)
		}
		if int(ci.RunningTasksCount) != len(list.TaskArns) || ci.PendingTasksCount != 0 {
			t.Errorf("instance %s: runningTasksCount %d, pendingTasksCount %d, %d tasks listed", aws.ToString(ci.ContainerInstanceArn),
				ci.RunningTasksCount, ci.PendingTasksCount, len(list.TaskArns))
		}
	}
}

// TestTaskRun_AgentRestart stops the agent while a task runs and starts a
// new one on the same data dir: it adopts the container.
func TestTaskRun_AgentRestart(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})
		ag := te.agents[0]
		def := te.register("restart", "", te.app("app"))
		arn := aws.ToString(te.run(def, 1)[0].TaskArn)
		te.waitRunning(arn)
		before := te.describe(arn)
		id := aws.ToString(container(t, before, "app").RuntimeId)
		ag.waitListening(t, id)

		ag.stop()
		if st := ag.inspect(t, id); !st.Running {
			t.Fatalf("the container stopped with the agent: %+v", st)
		}
		waitConnected(t, te.env, te.cluster, ag.arn(), false)
		if task := te.describe(arn); aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" {
			t.Errorf("task while the agent is away: %s", taskString(task))
		}

		ag.start()
		waitConnected(t, te.env, te.cluster, ag.arn(), true)
		if ag.arn() != aws.ToString(before.ContainerInstanceArn) {
			t.Errorf("the restarted agent is instance %s, not %s", ag.arn(), aws.ToString(before.ContainerInstanceArn))
		}
		// Once the agent has reconciled with the server's list and acted on
		// it, look: same container, nothing new.
		ag.settle(t)
		task := te.describe(arn)
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(container(t, task, "app").RuntimeId) != id {
			t.Errorf("after the restart: %s", taskString(task))
		}
		if hs := ag.containers(t, arn); len(hs) != 1 || hs[0].ID != id {
			t.Errorf("runtime has %+v for the task, want only %s", hs, id)
		}
		if st := ag.inspect(t, id); !st.Running {
			t.Errorf("container after the restart: %+v", st)
		}
		te.stopTask(arn)
		te.waitStopped(arn)
		task = te.describe(arn)
		c := container(t, task, "app")
		if exitCode(c) != "0" || aws.ToString(c.RuntimeId) != id || task.StopCode != types.TaskStopCodeUserInitiated {
			t.Errorf("stopped: %s", taskString(task))
		}
		if hs := ag.containers(t, arn); len(hs) != 1 {
			t.Errorf("runtime has %d containers for the task after the stop", len(hs))
		}
	})
}

// waitConnected waits until the instance's agentConnected is want.
func waitConnected(t *testing.T, e *env, cluster, arn string, want bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ci := e.describeInstance(cluster, arn)
		if ci.AgentConnected == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agentConnected stayed %v for 30s", ci.AgentConnected)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTaskRun_ServerRestart stops the server while tasks run: they keep
// running; a container that exits meanwhile is reported once the server is
// back.
func TestTaskRun_ServerRestart(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})
		ag := te.agents[0]
		def := te.register("outage", "", te.app("app"))
		tasks := te.run(def, 2)
		keep, lose := aws.ToString(tasks[0].TaskArn), aws.ToString(tasks[1].TaskArn)
		te.waitRunning(keep, lose)
		keepID := aws.ToString(container(t, te.describe(keep), "app").RuntimeId)
		loseID := aws.ToString(container(t, te.describe(lose), "app").RuntimeId)
		ag.waitListening(t, loseID)

		dir, listen := te.dataDir, strings.TrimPrefix(te.endpoint, "http://")
		if err := te.srv.Close(); err != nil {
			t.Fatalf("close server: %v", err)
		}
		// The tasks outlive the control plane; one container exits meanwhile,
		// and the agent sees it while the server is away.
		ag.waitOffline(t)
		if err := ag.drv.Stop(ctx(t), driver.Handle{ID: loseID}, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		ag.waitAgentStatus(t, lose, "STOPPED")
		if st := ag.inspect(t, keepID); !st.Running {
			t.Fatalf("the container stopped with the server: %+v", st)
		}

		te.env = startServer(t, serverOptions{dir: dir, listen: listen})
		waitConnected(t, te.env, te.cluster, ag.arn(), true)
		ag.settle(t)
		task := te.describe(lose)
		if aws.ToString(task.LastStatus) != "STOPPED" {
			t.Fatalf("the task whose container exited during the outage: %s", taskString(task))
		}
		if task.StopCode != types.TaskStopCodeEssentialContainerExited || exitCode(container(t, task, "app")) != "0" {
			t.Errorf("task whose container exited during the outage: %s", taskString(task))
		}
		task = te.describe(keep)
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(container(t, task, "app").RuntimeId) != keepID {
			t.Errorf("after the outage: %s", taskString(task))
		}
		if st := ag.inspect(t, keepID); !st.Running {
			t.Errorf("container after the outage: %+v", st)
		}
		te.stopTask(keep)
		te.waitStopped(keep)
		if task := te.describe(keep); exitCode(container(t, task, "app")) != "0" || task.StopCode != types.TaskStopCodeUserInitiated {
			t.Errorf("stopped: %s", taskString(task))
		}
	})
}

// fetchLogs reads a task's output through GET /berth/v1/logs.
func (te *taskEnv) fetchLogs(t *testing.T, taskRef string) ([]agentproto.LogLine, error) {
	q := url.Values{"cluster": {te.cluster}, "task": {taskRef}}
	req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, te.endpoint+agentproto.PathCLILog+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(ctx(t), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, req,
		hex.EncodeToString(sum[:]), "ecs", testRegion, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	var lines []agentproto.LogLine
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l agentproto.LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// TestTaskRun_Logs reads a task's output through the server's log relay
// and with `berth logs`.
func TestTaskRun_Logs(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt string) {
		te := newTaskEnv(t, rt, serverOptions{}, agentOptions{})
		def := te.register("printer", "", te.app("app", "--print", "3"))
		arn := aws.ToString(te.run(def, 1)[0].TaskArn)
		te.waitRunning(arn)
		want := []string{"stderr stderr line 1", "stderr stderr line 2", "stderr stderr line 3",
			"stdout stdout line 1", "stdout stdout line 2", "stdout stdout line 3"} // sorted
		var got []string
		deadline := time.Now().Add(30 * time.Second)
		for {
			lines, err := te.fetchLogs(t, arn)
			if err != nil {
				t.Fatalf("logs: %v", err)
			}
			got = got[:0]
			for _, l := range lines {
				if l.Container != "app" || l.Time.IsZero() {
					t.Errorf("log line %+v", l)
				}
				if strings.Contains(l.Text, " line ") {
					got = append(got, l.Stream+" "+l.Text)
				}
			}
			slices.Sort(got)
			if slices.Equal(got, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("log lines %q, want %q", got, want)
		}

		// The berth binary's logs verb, by task ID.
		id := arn[strings.LastIndex(arn, "/")+1:]
		cmd := exec.Command(berthBin, "logs", "--endpoint", te.endpoint, "--cluster", te.cluster, id)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_REGION="+testRegion)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		outb, err := cmd.Output()
		if err != nil {
			t.Fatalf("berth logs: %v: %s", err, stderr.String())
		}
		for i := 1; i <= 3; i++ {
			for _, s := range []string{"stdout", "stderr"} {
				if line := fmt.Sprintf("app | %s line %d\n", s, i); !strings.Contains(string(outb), line) {
					t.Errorf("berth logs output lacks %q:\n%s", line, outb)
				}
			}
		}
		// A task of another cluster, or none, is an error.
		if _, err := te.fetchLogs(t, strings.Repeat("0", 32)); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("logs of an unknown task: %v", err)
		}

		// A stopped task's output can still be read, with what it wrote
		// while stopping.
		te.agents[0].waitListening(t, aws.ToString(container(t, te.describe(arn), "app").RuntimeId))
		te.stopTask(arn)
		te.waitStopped(arn)
		lines, err := te.fetchLogs(t, arn)
		if err != nil {
			t.Fatalf("logs of the stopped task: %v", err)
		}
		var texts []string
		for _, l := range lines {
			texts = append(texts, l.Text)
		}
		all := strings.Join(texts, "\n")
		for _, s := range []string{"stdout line 3", "stderr line 3", "received terminated", "drained, exiting with code 0"} {
			if !strings.Contains(all, s) {
				t.Errorf("logs of the stopped task lack %q:\n%s", s, all)
			}
		}
	})
}

// TestTaskRun_StoppedRetention checks that STOPPED tasks stay describable,
// then disappear after the retention.
func TestTaskRun_StoppedRetention(t *testing.T) {
	const retention = 3 * time.Second
	te := newTaskEnv(t, rtProcess, serverOptions{retention: retention, gc: 200 * time.Millisecond}, agentOptions{})
	def := te.register("retained", "", te.app("app"))
	tasks := te.run(def, 2)
	arn, other := aws.ToString(tasks[0].TaskArn), aws.ToString(tasks[1].TaskArn)
	te.waitRunning(arn, other)
	te.stopTask(arn)
	te.waitStopped(arn)
	stopped := te.describe(arn)
	c := ctx(t)
	listStopped := func() []string {
		out, err := te.ecs.ListTasks(c, &ecs.ListTasksInput{Cluster: aws.String(te.cluster), DesiredStatus: types.DesiredStatusStopped})
		if err != nil {
			t.Fatal(err)
		}
		return out.TaskArns
	}
	if got := listStopped(); !slices.Equal(got, []string{arn}) {
		t.Errorf("stopped tasks listed %v, want %v", got, []string{arn})
	}
	for {
		out, err := te.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{Cluster: aws.String(te.cluster), Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) == 1 {
			if time.Since(*stopped.StoppedAt) > time.Minute {
				t.Fatalf("task still describable %v after it stopped, retention %v", time.Since(*stopped.StoppedAt), retention)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		gone := time.Now()
		if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" || aws.ToString(out.Failures[0].Arn) != arn {
			t.Fatalf("describe after retention: failures %s", failuresString(out.Failures))
		}
		if d := gone.Sub(*stopped.StoppedAt); d < retention {
			t.Errorf("task gone %v after it stopped, before the %v retention", d, retention)
		}
		break
	}
	if got := listStopped(); len(got) != 0 {
		t.Errorf("stopped tasks listed %v after retention", got)
	}
	// A running task is never collected.
	if task := te.describe(other); aws.ToString(task.LastStatus) != "RUNNING" {
		t.Errorf("running task: %s", taskString(task))
	}
}

// TestTaskRun_Validation checks RunTask's errors and clientToken.
func TestTaskRun_Validation(t *testing.T) {
	te := newTaskEnv(t, rtProcess, serverOptions{}, agentOptions{})
	c := ctx(t)
	def := te.register("valid", "", te.app("app"))
	in := func(mod func(*ecs.RunTaskInput)) *ecs.RunTaskInput {
		r := &ecs.RunTaskInput{Cluster: aws.String(te.cluster), TaskDefinition: aws.String(def)}
		mod(r)
		return r
	}
	inactive := te.register("gone", "", te.app("app"))
	if _, err := te.ecs.DeregisterTaskDefinition(c, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(inactive)}); err != nil {
		t.Fatal(err)
	}
	counts := te.stateCounts()
	for _, tc := range []struct {
		name string
		in   *ecs.RunTaskInput
		code string
		msg  string
	}{
		{"count 11", in(func(r *ecs.RunTaskInput) { r.Count = aws.Int32(11) }), "InvalidParameterException", ""},
		{"count 0", in(func(r *ecs.RunTaskInput) { r.Count = aws.Int32(0) }), "InvalidParameterException", ""},
		{"unknown task definition", in(func(r *ecs.RunTaskInput) { r.TaskDefinition = aws.String("nothing:1") }), "ClientException", "TaskDefinition not found."},
		{"unknown family", in(func(r *ecs.RunTaskInput) { r.TaskDefinition = aws.String("nothing") }), "ClientException", "TaskDefinition not found."},
		{"inactive task definition", in(func(r *ecs.RunTaskInput) { r.TaskDefinition = aws.String(inactive) }), "ClientException", "TaskDefinition is inactive"},
		{"binpack on disk", in(func(r *ecs.RunTaskInput) {
			r.PlacementStrategy = []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("disk")}}
		}), "InvalidParameterException", ""},
		{"spread without field", in(func(r *ecs.RunTaskInput) {
			r.PlacementStrategy = []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread}}
		}), "InvalidParameterException", ""},
		{"spread on nothing", in(func(r *ecs.RunTaskInput) {
			r.PlacementStrategy = []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:")}}
		}), "InvalidParameterException", ""},
		{"spread on an unknown field", in(func(r *ecs.RunTaskInput) {
			r.PlacementStrategy = []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("disk")}}
		}), "InvalidParameterException", ""},
		{"random with field", in(func(r *ecs.RunTaskInput) {
			r.PlacementStrategy = []types.PlacementStrategy{{Type: types.PlacementStrategyTypeRandom, Field: aws.String("memory")}}
		}), "InvalidParameterException", ""},
		{"unknown strategy type", in(func(r *ecs.RunTaskInput) {
			r.PlacementStrategy = []types.PlacementStrategy{{Type: "pack", Field: aws.String("memory")}}
		}), "InvalidParameterException", ""},
		{"bad memberOf", in(func(r *ecs.RunTaskInput) {
			r.PlacementConstraints = []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:stack ==")}}
		}), "InvalidParameterException", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := te.ecs.RunTask(c, tc.in)
			wantCode(t, err, tc.code, tc.msg)
		})
	}
	if got := te.stateCounts(); fmt.Sprint(got) != fmt.Sprint(counts) {
		t.Errorf("refused requests changed the state: %v, was %v", got, counts)
	}

	t.Run("clientToken", func(t *testing.T) {
		first, err := te.ecs.RunTask(c, in(func(r *ecs.RunTaskInput) { r.Count = aws.Int32(2); r.ClientToken = aws.String("token-1") }))
		if err != nil || len(first.Tasks) != 2 {
			t.Fatalf("first: %v %v", err, first)
		}
		again, err := te.ecs.RunTask(c, in(func(r *ecs.RunTaskInput) { r.Count = aws.Int32(2); r.ClientToken = aws.String("token-1") }))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := taskArns(again.Tasks), taskArns(first.Tasks); !slices.Equal(got, want) {
			t.Errorf("same token answered tasks %v, want %v", got, want)
		}
		list, err := te.ecs.ListTasks(c, &ecs.ListTasksInput{Cluster: aws.String(te.cluster)})
		if err != nil || len(list.TaskArns) != 2 {
			t.Errorf("tasks listed after a repeated token: %v %v", list, err)
		}
		_, err = te.ecs.RunTask(c, in(func(r *ecs.RunTaskInput) { r.Count = aws.Int32(1); r.ClientToken = aws.String("token-1") }))
		wantAPIError[*types.ConflictException](t, err, "")
		te.waitRunning(taskArns(first.Tasks)...)
	})
}
