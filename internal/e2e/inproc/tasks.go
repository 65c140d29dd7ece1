package inproc

import (
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// RunTask runs one task of def in cluster and returns its ARN; a failure
// fails the test.
func RunTask(t testing.TB, c *ecs.Client, cluster, def string) string {
	t.Helper()
	out, err := c.RunTask(Ctx(t), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(def)})
	if err != nil {
		t.Fatalf("run task %s: %v", def, err)
	}
	if len(out.Failures) > 0 || len(out.Tasks) != 1 {
		t.Fatalf("run task %s: failures %+v", def, out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// WaitTask waits (polling every 200 ms) until the task's lastStatus is
// status and returns the task. It fails the test when the task stops
// first or within passes.
func WaitTask(t testing.TB, c *ecs.Client, cluster, arn, status string, within time.Duration) ecstypes.Task {
	t.Helper()
	deadline := time.Now().Add(within)
	var last ecstypes.Task
	for {
		dt, err := c.DescribeTasks(Ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err == nil && len(dt.Tasks) == 1 {
			last = dt.Tasks[0]
			if aws.ToString(last.LastStatus) == status {
				return last
			}
			if aws.ToString(last.LastStatus) == "STOPPED" {
				t.Fatalf("task %s stopped (%s: %s) before reaching %s", arn, last.StopCode, aws.ToString(last.StoppedReason), status)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s is %s after %s, want %s", arn, aws.ToString(last.LastStatus), within, status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// StopTask stops a task and waits (a minute at most) until it is STOPPED.
func StopTask(t testing.TB, c *ecs.Client, cluster, arn string) {
	t.Helper()
	if _, err := c.StopTask(Ctx(t), &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn)}); err != nil {
		t.Fatalf("stop task: %v", err)
	}
	WaitTask(t, c, cluster, arn, "STOPPED", time.Minute)
}

// RunningTasks waits (polling every 250 ms) until the service has n tasks
// whose lastStatus and desiredStatus are RUNNING, and returns them; it
// fails the test when within passes first.
func RunningTasks(t testing.TB, c *ecs.Client, cluster, service string, n int, within time.Duration) []ecstypes.Task {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var running []ecstypes.Task
		lt, err := c.ListTasks(Ctx(t), &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service)})
		if err == nil && len(lt.TaskArns) > 0 {
			dt, err := c.DescribeTasks(Ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: lt.TaskArns})
			if err == nil {
				for _, task := range dt.Tasks {
					if aws.ToString(task.LastStatus) == "RUNNING" && aws.ToString(task.DesiredStatus) == "RUNNING" {
						running = append(running, task)
					}
				}
			}
		}
		if len(running) == n {
			return running
		}
		if time.Now().After(deadline) {
			t.Fatalf("service %s has %d running tasks after %s, want %d", service, len(running), within, n)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Task describes one task.
func Task(t testing.TB, c *ecs.Client, cluster, arn string) ecstypes.Task {
	t.Helper()
	dt, err := c.DescribeTasks(Ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil || len(dt.Tasks) != 1 {
		t.Fatalf("describe task %s: %v %+v", arn, err, dt)
	}
	return dt.Tasks[0]
}

// HostPort is the host port that container port port of the task (of
// any of its containers) is bound to.
func HostPort(t testing.TB, task ecstypes.Task, port int32) int {
	t.Helper()
	for _, c := range task.Containers {
		for _, nb := range c.NetworkBindings {
			if aws.ToInt32(nb.ContainerPort) == port {
				return int(aws.ToInt32(nb.HostPort))
			}
		}
	}
	t.Fatalf("task %s has no binding of port %d", aws.ToString(task.TaskArn), port)
	return 0
}

// FreePort is a TCP port free on 127.0.0.1 now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
