package agentapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
	"berth.dev/berth/internal/stsapi"
)

const credSecret = "sk-never-logged-Qw9"

type fakeIssuer struct {
	mu    sync.Mutex
	calls []string // role|session|duration
}

func (f *fakeIssuer) IssueRoleCredentials(_ context.Context, role, session string, d time.Duration) (stsapi.Credentials, error) {
	f.mu.Lock()
	f.calls = append(f.calls, role+"|"+session+"|"+d.String())
	f.mu.Unlock()
	return stsapi.Credentials{AccessKeyID: "ASIAFAKE", SecretAccessKey: credSecret, SessionToken: "tok",
		Expiration: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}, nil
}

func newCredsHarness(t *testing.T) (*API, *fakeIssuer, *bytes.Buffer) {
	t.Helper()
	st := state.New()
	txn := st.Txn()
	put := func(table string, rec any) {
		if err := txn.Put(table, rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"i1", "i2"} {
		put(state.TableInstances, &state.ContainerInstance{ID: id, Cluster: "default",
			Shape: &shape.ContainerInstance{ContainerInstanceArn: ptr(instanceArn(id)), Status: ptr("ACTIVE")}})
	}
	put(state.TableTaskDefinitions, &state.TaskDefinition{Family: "role", Revision: 1, Def: &shape.TaskDefinition{Family: ptr("role"), Revision: 1,
		TaskRoleArn: ptr("arn:aws:iam::123456789012:role/app"), ExecutionRoleArn: ptr("arn:aws:iam::123456789012:role/exec"),
		ContainerDefinitions: []shape.ContainerDefinition{{Name: ptr("app"), Image: ptr("busybox")}}}})
	put(state.TableTaskDefinitions, &state.TaskDefinition{Family: "norole", Revision: 1, Def: &shape.TaskDefinition{Family: ptr("norole"), Revision: 1,
		ContainerDefinitions: []shape.ContainerDefinition{{Name: ptr("app"), Image: ptr("busybox")}}}})
	task := func(id, inst, family, last, desired string, o *shape.TaskOverride) {
		put(state.TableTasks, &state.Task{ID: id, Cluster: "default", InstanceID: inst, Family: family, Revision: 1,
			Shape: &shape.Task{TaskArn: ptr(taskArn(id)), LastStatus: ptr(last), DesiredStatus: ptr(desired), Overrides: o}})
	}
	task("t1", "i1", "role", "RUNNING", "RUNNING", nil)
	task("t2", "i2", "role", "RUNNING", "RUNNING", nil)
	task("t3", "i1", "role", "STOPPED", "STOPPED", nil)
	task("t4", "i1", "norole", "RUNNING", "RUNNING", nil)
	task("t5", "i1", "norole", "RUNNING", "RUNNING", &shape.TaskOverride{TaskRoleArn: ptr("arn:aws:iam::123456789012:role/over")})
	txn.Commit()
	logs := &bytes.Buffer{}
	iss := &fakeIssuer{}
	api := New(Config{Namer: tNamer, Auth: allow{}, State: storeReader{st}, Credentials: iss,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return api, iss, logs
}

func askCreds(api *API, instance, task, role string) (int, []byte) {
	body, _ := json.Marshal(agentproto.CredentialsRequest{Cluster: "default", ContainerInstanceArn: instanceArn(instance), TaskArn: taskArn(task), Role: role})
	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodPost, agentproto.PathCreds, bytes.NewReader(body)))
	return w.Code, w.Body.Bytes()
}

func TestCredentialsIssuedForTheTaskRole(t *testing.T) {
	api, iss, logs := newCredsHarness(t)
	code, body := askCreds(api, "i1", "t1", "")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var got agentproto.CredentialsResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.RoleArn != "arn:aws:iam::123456789012:role/app" || got.AccessKeyID != "ASIAFAKE" || got.SecretAccessKey != credSecret ||
		got.SessionToken != "tok" || !got.Expiration.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("answer %+v", got)
	}
	if code, body := askCreds(api, "i1", "t1", agentproto.CredentialsExecutionRole); code != http.StatusOK {
		t.Fatalf("execution role: %d %s", code, body)
	}
	if code, body := askCreds(api, "i1", "t5", ""); code != http.StatusOK {
		t.Fatalf("overridden task role: %d %s", code, body)
	}
	want := []string{"arn:aws:iam::123456789012:role/app|t1|1h0m0s", "arn:aws:iam::123456789012:role/exec|t1|1h0m0s", "arn:aws:iam::123456789012:role/over|t5|1h0m0s"}
	if strings.Join(iss.calls, ",") != strings.Join(want, ",") {
		t.Fatalf("issued %q, want %q", iss.calls, want)
	}
	if strings.Contains(logs.String(), credSecret) || strings.Contains(logs.String(), "tok\"") {
		t.Fatalf("the log holds the secret:\n%s", logs)
	}
}

func TestCredentialsRefused(t *testing.T) {
	api, iss, _ := newCredsHarness(t)
	for _, c := range []struct{ inst, task, role, want string }{
		{"i1", "t2", "", "is not assigned to container instance"}, // t2 runs on i2
		{"i2", "t1", "", "is not assigned to container instance"},
		{"i1", "nosuch", "", "is not assigned to container instance"},
		{"i1", "t3", "", "is stopped"},
		{"i1", "t4", "", "has no task role"},
		{"i1", "t4", agentproto.CredentialsExecutionRole, "has no execution role"},
		{"i1", "t1", "admin", "Unknown role"},
	} {
		code, body := askCreds(api, c.inst, c.task, c.role)
		if code != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s asking for %s (%q): %d %s", c.inst, c.task, c.role, code, body)
		}
	}
	if len(iss.calls) != 0 {
		t.Fatalf("credentials issued: %q", iss.calls)
	}
}
