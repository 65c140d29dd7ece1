package awslogs

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/cli"
	"berth.dev/berth/internal/e2e/inproc"
)

const group = "/ecs/awslogs-e2e"

func TestAWSLogsDocker(t *testing.T) {
	t.Parallel()
	run(t, newEnv(t, rtDocker))
}

func TestAWSLogsProcess(t *testing.T) {
	t.Parallel()
	run(t, newEnv(t, rtProcess))
}

func TestAWSLogsResumeDocker(t *testing.T) {
	t.Parallel()
	resume(t, newEnv(t, rtDocker))
}

func TestAWSLogsResumeProcess(t *testing.T) {
	t.Parallel()
	resume(t, newEnv(t, rtProcess))
}

// appDef registers the test application printing 5 lines to stdout and 5
// to stderr, then exiting, with the awslogs log driver.
func (e *env) appDef(family string, opts map[string]string) string {
	arn, _ := e.appDefArgs(family, opts, "--print", "5", "--exit-after", "2s")
	return arn
}

// appDefArgs registers the test application with args and returns its ARN
// and container port.
func (e *env) appDefArgs(family string, opts map[string]string, args ...string) (string, int32) {
	e.t.Helper()
	mode, port, hp := ecstypes.NetworkModeBridge, 8080, 0
	if e.rt == rtProcess {
		mode, port = ecstypes.NetworkModeHost, inproc.FreePort(e.t)
		hp = port
	}
	out, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: mode,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64),
			EntryPoint:       []string{e.bin},
			Command:          append([]string{"--listen", fmt.Sprintf(":%d", port)}, args...),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: opts},
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(int32(port)), HostPort: aws.Int32(int32(hp)),
				Protocol: ecstypes.TransportProtocolTcp}},
		}},
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), int32(port)
}

func run(t *testing.T, e *env) {
	start := time.Now()
	def := e.appDef("awslogs-app", map[string]string{
		"awslogs-group": group, "awslogs-region": testRegion, "awslogs-stream-prefix": "web",
		"awslogs-create-group": "true",
	})
	arn := e.runTask(def)
	e.waitTask(arn, "STOPPED", 2*time.Minute)
	taskID := arn[strings.LastIndex(arn, "/")+1:]
	stream := "web/app/" + taskID

	var want []string
	for i := 1; i <= 5; i++ {
		want = append(want, fmt.Sprintf("stdout line %d", i), fmt.Sprintf("stderr line %d", i))
	}
	slices.Sort(want)

	// The agent flushes every second: wait for the lines.
	var got []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := e.cwl.GetLogEvents(e.ctx(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group),
			LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		got = got[:0]
		if err == nil {
			for _, ev := range out.Events {
				m := aws.ToString(ev.Message)
				if strings.HasPrefix(m, "stdout line") || strings.HasPrefix(m, "stderr line") {
					got = append(got, m)
				}
				ts := time.UnixMilli(aws.ToInt64(ev.Timestamp))
				if ts.Before(start.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
					t.Errorf("event %q has timestamp %s, not the runtime's", m, ts)
				}
			}
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("GetLogEvents %s: %v", stream, err)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("stream %s holds %q, want %q (each once)", stream, got, want)
	}

	// FilterLogEvents over the prefix finds the stderr lines only.
	fo, err := e.cwl.FilterLogEvents(e.ctx(), &cwl.FilterLogEventsInput{LogGroupName: aws.String(group),
		LogStreamNamePrefix: aws.String("web/app/"), FilterPattern: aws.String(`"stderr line"`)})
	if err != nil {
		t.Fatalf("FilterLogEvents: %v", err)
	}
	var filtered []string
	for _, ev := range fo.Events {
		if aws.ToString(ev.LogStreamName) != stream {
			t.Errorf("event of stream %s", aws.ToString(ev.LogStreamName))
		}
		filtered = append(filtered, aws.ToString(ev.Message))
	}
	slices.Sort(filtered)
	if len(filtered) != 5 || filtered[0] != "stderr line 1" || filtered[4] != "stderr line 5" {
		t.Fatalf("FilterLogEvents found %q", filtered)
	}

	// The group was created by awslogs-create-group.
	dg, err := e.cwl.DescribeLogGroups(e.ctx(), &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil || len(dg.LogGroups) != 1 {
		t.Fatalf("DescribeLogGroups: %v %+v", err, dg)
	}

	// Without awslogs-create-group a missing group fails the container
	// as it is created, as with ECS.
	def2 := e.appDef("awslogs-nogroup", map[string]string{
		"awslogs-group": "/ecs/missing", "awslogs-region": testRegion, "awslogs-stream-prefix": "web"})
	arn2 := e.runTask(def2)
	stopped := e.waitTask(arn2, "STOPPED", 2*time.Minute)
	const reason = "CannotCreateContainerError: failed to initialize logging driver: ResourceNotFoundException: The specified log group does not exist."
	if len(stopped.Containers) != 1 || aws.ToString(stopped.Containers[0].Reason) != reason || stopped.StartedAt != nil {
		t.Errorf("task without its log group: started %v, containers %+v", stopped.StartedAt, stopped.Containers)
	}
	if _, err := e.cwl.DescribeLogStreams(e.ctx(), &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/ecs/missing")}); err == nil {
		t.Error("the missing group exists")
	}

	// The host is gone: `berth logs` reads the task's lines from the store.
	e.stopAgent()
	var stdout, stderr bytes.Buffer
	env := map[string]string{"BERTH_ENDPOINT": e.srv.Endpoint(), "AWS_ACCESS_KEY_ID": testKeyID,
		"AWS_SECRET_ACCESS_KEY": testSecret, "AWS_REGION": testRegion}
	code := cli.Main(e.ctx(), []string{"logs", "--cluster", cluster, "--container", "app", taskID},
		cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
	if code != 0 {
		t.Fatalf("berth logs: exit %d: %s", code, stderr.String())
	}
	var printed []string
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if strings.HasPrefix(l, "stdout line") || strings.HasPrefix(l, "stderr line") {
			printed = append(printed, l)
		}
	}
	slices.Sort(printed)
	if !slices.Equal(printed, want) {
		t.Fatalf("berth logs printed %q", stdout.String())
	}
	out, err := e.cwl.GetLogEvents(e.ctx(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	if err != nil || len(out.Events) < len(want) {
		t.Fatalf("GetLogEvents without the agent: %v, %d events", err, len(out.Events))
	}
}

// streamLines polls the stream until it holds n events that start with
// prefix (or 30 s pass) and returns them.
func (e *env) streamLines(stream, prefix string, n int) []string {
	var got []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		got = got[:0]
		out, err := e.cwl.GetLogEvents(e.ctx(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group),
			LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err == nil {
			for _, ev := range out.Events {
				if m := aws.ToString(ev.Message); strings.HasPrefix(m, prefix) {
					got = append(got, m)
				}
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
	}
}

// resume restarts the agent while the task runs and writes lines: the new
// agent ships what was written meanwhile, and nothing twice.
func resume(t *testing.T, e *env) {
	def, port := e.appDefArgs("awslogs-resume", map[string]string{
		"awslogs-group": group, "awslogs-region": testRegion, "awslogs-stream-prefix": "r", "awslogs-create-group": "true"},
		"--print", "3", "--log-requests")
	arn := e.runTask(def)
	task := e.waitTask(arn, "RUNNING", 2*time.Minute)
	hp := inproc.HostPort(t, task, port)
	stream := "r/app/" + arn[strings.LastIndex(arn, "/")+1:]
	get := func(path string) {
		t.Helper()
		c := &http.Client{Timeout: 5 * time.Second}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", hp, path))
			if err == nil {
				resp.Body.Close()
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
	}
	get("/before-1")
	if got := e.streamLines(stream, "stdout line", 3); len(got) != 3 {
		t.Fatalf("before the restart: %q", got)
	}
	if got := e.streamLines(stream, "GET /before-1", 1); len(got) != 1 {
		t.Fatalf("before the restart: %q", got)
	}
	e.stopAgent()
	get("/while-down-1")
	get("/while-down-2")
	e.startAgent()
	get("/after-1")
	e.stopTask(arn)
	all := e.streamLines(stream, "", 10)
	count := map[string]int{}
	for _, m := range all {
		count[m]++
	}
	for _, m := range all {
		if count[m] != 1 {
			t.Errorf("%q shipped %d times", m, count[m])
		}
	}
	for _, want := range []string{"stdout line 1", "stderr line 3", "GET /before-1", "GET /while-down-1", "GET /while-down-2", "GET /after-1"} {
		found := false
		for _, m := range all {
			found = found || strings.HasPrefix(m, want)
		}
		if !found {
			t.Errorf("%q not shipped; the stream holds %q", want, all)
		}
	}
}
