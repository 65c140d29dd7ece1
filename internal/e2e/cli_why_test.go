package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"berth.dev/berth/internal/shape"
)

// writeJSONFile writes v as JSON to a new file and returns its path.
func writeJSONFile(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCLI_SaysWhy drives the command line where things go wrong and where
// it shows what a task got: a task definition file with a wrong member
// type exits 2 naming the member as written; run --wait of a task that
// cannot start says why (stop code, reason, the container's exit and
// reason); logs of that task say it never started and exit 1; ps shows a
// task's host ports; -o json of a task is what the AWS CLI prints.
func TestCLI_SaysWhy(t *testing.T) {
	te := newTaskEnv(t, rtProcess, serverOptions{}, agentOptions{})
	cl := "--cluster=" + te.cluster

	// A wrong type in the file: exit 2, the member named as in the file.
	badFile := writeJSONFile(t, "bad.json", map[string]any{
		"family":               "cli-bad",
		"containerDefinitions": []map[string]any{{"name": "app", "image": te.image, "memory": "lots"}},
	})
	if r := te.berth(ctx(t), "register", badFile); r.code != 2 || !strings.Contains(r.stderr, `containerDefinitions[0].memory: must be a whole number, not the string "lots"`) {
		t.Fatalf("register of a bad file: exit %d, stderr %q", r.code, r.stderr)
	}

	// A task whose container cannot start.
	te.mustBerth("register", writeJSONFile(t, "nostart.json", map[string]any{
		"family":               "cli-nostart",
		"containerDefinitions": []map[string]any{{"name": "app", "image": te.image, "memory": 32, "entryPoint": []string{"/no/such/program"}}},
	}))
	r := te.berth(ctx(t), "run", "cli-nostart", cl, "--wait")
	if r.code != 1 || !strings.Contains(r.stderr, "(never started): TaskFailedToStart: ") ||
		!strings.Contains(r.stderr, "container app: stopped") || !strings.Contains(r.stderr, "CannotStartContainerError") ||
		strings.Contains(r.stderr, "waiter state") {
		t.Fatalf("run --wait of a task that cannot start: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	id := row(t, r.stdout, "cli-nostart:1")[0]
	if l := te.berth(ctx(t), "logs", id, cl); l.code != 1 || !strings.Contains(l.stderr, "no logs: task "+id+" stopped (never started)") ||
		!strings.Contains(l.stderr, "CannotStartContainerError") {
		t.Fatalf("logs of a task that never started: exit %d\nstdout:\n%s\nstderr:\n%s", l.code, l.stdout, l.stderr)
	}

	// A static host port: ps shows it.
	p := freePort(t)
	te.mustBerth("register", writeJSONFile(t, "port.json", map[string]any{
		"family": "cli-port",
		"containerDefinitions": []map[string]any{{
			"name": "app", "image": te.image, "memory": 32, "entryPoint": []string{te.bin},
			"command":      []string{"--listen", fmt.Sprintf(":%d", p)},
			"portMappings": []map[string]any{{"containerPort": p, "hostPort": p}},
		}},
	}))
	var ran shape.RunTaskResponse
	if err := json.Unmarshal([]byte(te.mustBerth("run", "cli-port", cl, "--wait", "-o", "json")), &ran); err != nil || len(ran.Tasks) != 1 {
		t.Fatalf("run -o json: %v %+v", err, ran)
	}
	arn := *ran.Tasks[0].TaskArn
	ps := te.mustBerth("ps", cl)
	if r := row(t, ps, lastSegment(arn)); !slicesContains(r, fmt.Sprintf("%d->%d/tcp", p, p)) {
		t.Fatalf("ps row %v, want the host port %d->%d/tcp; ps:\n%s", r, p, p, ps)
	}

	// -o json of a task is ECS's wire shape: camelCase members, no nulls.
	out := te.mustBerth("ps", cl, "-o", "json")
	if strings.Contains(out, "null") || strings.Contains(out, `"TaskArn"`) || !strings.Contains(out, `"taskArn": "`+arn+`"`) ||
		!strings.Contains(out, `"failures": []`) {
		t.Fatalf("ps -o json:\n%s", out)
	}
	// ... the same as the AWS CLI prints, when it is installed.
	if haveAWSCLI(t) {
		cmd := exec.CommandContext(ctx(t), awsCLI, "ecs", "describe-tasks", "--endpoint-url", te.endpoint, "--cluster", te.cluster, "--tasks", arn, "--output", "json")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_DEFAULT_REGION="+testRegion,
			"AWS_REGION="+testRegion, "AWS_PAGER=", "AWS_CONFIG_FILE="+wireTimestampsConfig(t), "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		awsOut, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws ecs describe-tasks: %v", err)
		}
		var want, got map[string]any
		if err := json.Unmarshal(awsOut, &want); err != nil {
			t.Fatalf("aws output: %v\n%s", err, awsOut)
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if where := jsonSubset("tasks", want["tasks"], got["tasks"]); where != "" {
			t.Errorf("berth ps -o json differs from aws ecs describe-tasks at %s:\nberth:\n%s\naws:\n%s", where, out, awsOut)
		}
	} else {
		t.Log("no aws CLI: not compared with aws ecs describe-tasks")
	}
	te.mustBerth("stop", arn, cl)
	te.waitStopped(arn)
}

func slicesContains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// compareWithAWSCLI checks that `berth services -o json` prints the
// service as `aws ecs describe-services` does (when the AWS CLI is
// installed), events aside.
func (te *taskEnv) compareWithAWSCLI(service string) {
	t := te.t
	t.Helper()
	if !haveAWSCLI(t) {
		t.Log("no aws CLI: not compared with aws ecs describe-services")
		return
	}
	out := te.mustBerth("services", "--cluster", te.cluster, "-o", "json")
	if strings.Contains(out, "null") || !strings.Contains(out, `"serviceName": "`+service+`"`) {
		t.Fatalf("services -o json:\n%s", out)
	}
	cmd := exec.CommandContext(ctx(t), awsCLI, "ecs", "describe-services", "--endpoint-url", te.endpoint, "--cluster", te.cluster, "--services", service, "--output", "json")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_DEFAULT_REGION="+testRegion,
		"AWS_REGION="+testRegion, "AWS_PAGER=", "AWS_CONFIG_FILE="+wireTimestampsConfig(t), "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	awsOut, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws ecs describe-services: %v", err)
	}
	var want, got struct{ Services []map[string]any }
	if err := json.Unmarshal(awsOut, &want); err != nil {
		t.Fatalf("aws output: %v\n%s", err, awsOut)
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(want.Services, got.Services...) {
		delete(s, "events")
	}
	var mine map[string]any
	for _, s := range got.Services {
		if s["serviceName"] == service {
			mine = s
		}
	}
	if len(want.Services) != 1 {
		t.Fatalf("aws ecs describe-services printed %d services", len(want.Services))
	}
	if where := jsonSubset("services[0]", want.Services[0], mine); where != "" {
		t.Errorf("berth services -o json differs from aws ecs describe-services at %s:\nberth:\n%s\naws:\n%s", where, out, awsOut)
	}
}

// jsonSubset returns where got differs from what the AWS CLI printed
// (want), or "" when every member want has is in got with the same value.
// got may have more members: the Debian AWS CLI's ECS model is older than
// the SDK's, and it leaves out the members it does not know.
func jsonSubset(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path
		}
		for k, v := range w {
			if where := jsonSubset(path+"."+k, v, g[k]); where != "" {
				return where
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path
		}
		for i := range w {
			if where := jsonSubset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); where != "" {
				return where
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return path
	}
	return ""
}

// wireTimestampsConfig writes an AWS CLI config that prints timestamps as
// on the wire (epoch seconds), as berth's -o json does: CLI v2 prints
// ISO 8601 by default, v1 the wire form.
func wireTimestampsConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aws-config")
	if err := os.WriteFile(path, []byte("[default]\ncli_timestamp_format = wire\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
