package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/cli"
	"berth.dev/berth/internal/shape"
)

// berthResult is what one run of the berth command line printed.
type berthResult struct {
	code           int
	stdout, stderr string
}

// berth runs the berth command line in process against te's server, with
// the credentials in the environment as a user would set them.
func (te *taskEnv) berth(c context.Context, args ...string) berthResult {
	te.t.Helper()
	var out, errb bytes.Buffer
	wd := te.t.TempDir() // no ./.berth: endpoint and credentials come from the environment
	code := cli.Main(c, args, cli.Env{
		Stdout: &out, Stderr: &errb,
		Getenv: fixedEnv(map[string]string{
			"BERTH_ENDPOINT":        te.endpoint,
			"AWS_ACCESS_KEY_ID":     testKeyID,
			"AWS_SECRET_ACCESS_KEY": testSecret,
			"AWS_REGION":            testRegion,
		}),
		Getwd: func() (string, error) { return wd, nil },
	})
	return berthResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// mustBerth runs the command line and fails the test unless it exits 0.
func (te *taskEnv) mustBerth(args ...string) string {
	te.t.Helper()
	r := te.berth(ctx(te.t), args...)
	if r.code != 0 {
		te.t.Fatalf("berth %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// row returns the table line of out that contains id, or fails.
func row(t *testing.T, out, id string) []string {
	t.Helper()
	for line := range strings.Lines(out) {
		if strings.Contains(line, id) {
			return strings.Fields(line)
		}
	}
	t.Fatalf("no row for %s in:\n%s", id, out)
	return nil
}

// TestCLI_TaskVerbs drives the task verbs of the berth command line (register,
// run --wait, ps, logs, stop, instances, clusters, task-definitions, and
// --output json) on the process runtime, and checks what they print against
// the server's state as the SDK reads it.
func TestCLI_TaskVerbs(t *testing.T) {
	te := newTaskEnv(t, rtProcess, serverOptions{}, agentOptions{az: "us-east-1b"})
	cl := "--cluster=" + te.cluster

	// register from a JSON file, as a user would.
	td := map[string]any{
		"family": "cli-app",
		"containerDefinitions": []map[string]any{{
			"name": "app", "image": te.image, "memory": 32, "essential": true,
			"entryPoint": []string{te.bin}, "command": []string{"--listen", "127.0.0.1:0", "--print", "2"},
		}},
	}
	b, _ := json.Marshal(td)
	file := filepath.Join(t.TempDir(), "td.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := te.mustBerth("register", file)
	if !strings.Contains(out, "cli-app:1") {
		t.Fatalf("register printed %q, want cli-app:1 in it", out)
	}
	if out := te.mustBerth("task-definitions", "--family-prefix", "cli-"); !strings.Contains(out, "cli-app:1") {
		t.Fatalf("task-definitions printed:\n%s", out)
	}

	// run --wait returns once the tasks are RUNNING; -o json is the RunTask output.
	var ran shape.RunTaskResponse
	if err := json.Unmarshal([]byte(te.mustBerth("run", "cli-app", cl, "--count", "2", "--wait", "-o", "json")), &ran); err != nil {
		t.Fatalf("run -o json: %v", err)
	}
	if len(ran.Tasks) != 2 || len(ran.Failures) != 0 {
		t.Fatalf("run: %d tasks, failures %v; want 2 tasks", len(ran.Tasks), ran.Failures)
	}
	ids := []string{lastSegment(aws.ToString(ran.Tasks[0].TaskArn)), lastSegment(aws.ToString(ran.Tasks[1].TaskArn))}
	for _, task := range ran.Tasks {
		if aws.ToString(task.LastStatus) != "RUNNING" {
			t.Fatalf("run --wait returned %s in %s", lastSegment(aws.ToString(task.TaskArn)), aws.ToString(task.LastStatus))
		}
	}

	// ps: a table row per task, with its definition and status.
	ps := te.mustBerth("ps", cl)
	for _, id := range ids {
		r := row(t, ps, id)
		if r[1] != "cli-app:1" || r[2] != "RUNNING" || r[3] != "RUNNING" {
			t.Fatalf("ps row %v, want cli-app:1 RUNNING RUNNING", r)
		}
	}
	if !strings.HasPrefix(ps, "TASK") {
		t.Fatalf("ps has no header:\n%s", ps)
	}

	// logs: the container's stdout and stderr through the server.
	deadline := time.Now().Add(time.Minute)
	for {
		logs := te.berth(ctx(t), "logs", ids[0], cl, "--container", "app")
		if logs.code == 0 && strings.Contains(logs.stdout, "stdout line 2") && strings.Contains(logs.stdout+logs.stderr, "stderr line 2") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs never showed the task's output: exit %d\n%s\n%s", logs.code, logs.stdout, logs.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// instances: the agent's instance with its zone.
	inst := te.mustBerth("instances", cl)
	if !strings.Contains(inst, lastSegment(te.agents[0].arn())) || !strings.Contains(inst, "us-east-1b") {
		t.Fatalf("instances printed:\n%s", inst)
	}
	if out := te.mustBerth("clusters"); !strings.Contains(out, te.cluster) {
		t.Fatalf("clusters printed:\n%s", out)
	}

	// stop with a reason: the task stops with it.
	te.mustBerth("stop", ids[0], cl, "--reason", "cli says stop")
	te.waitStopped(aws.ToString(ran.Tasks[0].TaskArn))
	got := te.describe(aws.ToString(ran.Tasks[0].TaskArn))
	if aws.ToString(got.StoppedReason) != "cli says stop" || got.StopCode != types.TaskStopCodeUserInitiated {
		t.Fatalf("stopped task: code %s reason %q", got.StopCode, aws.ToString(got.StoppedReason))
	}
	if ps := te.mustBerth("ps", cl); strings.Contains(ps, ids[0]) || !strings.Contains(ps, ids[1]) {
		t.Fatalf("ps after stop (want only %s):\n%s", ids[1], ps)
	}
	var all shape.DescribeTasksResponse
	if err := json.Unmarshal([]byte(te.mustBerth("ps", cl, "-a", "-o", "json")), &all); err != nil {
		t.Fatalf("ps -a -o json: %v", err)
	}
	if len(all.Tasks) != 2 {
		t.Fatalf("ps -a listed %d tasks, want 2", len(all.Tasks))
	}

	// errors: ECS's error reaches the user and the exit code says so.
	if r := te.berth(ctx(t), "run", "no-such-family", cl); r.code != 1 || !strings.HasPrefix(r.stderr, "berth: ClientException: ") ||
		strings.Contains(r.stderr, "operation error") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("run of an unknown family: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := te.berth(ctx(t), "run", "cli-app", cl, "--env", "bad"); r.code != 2 {
		t.Fatalf("run --env bad: exit %d (want 2), stderr %q", r.code, r.stderr)
	}
	te.mustBerth("stop", ids[1], cl)
	te.waitStopped(aws.ToString(ran.Tasks[1].TaskArn))
}
