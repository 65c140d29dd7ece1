package agentapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/secretsapi"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/ssmapi"
	"berth.dev/berth/internal/state"
)

const (
	tAccount = "123456789012"
	asmArn   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
	ssmArn   = "arn:aws:ssm:us-east-1:123456789012:parameter/app/token"
	// The values, which must never be in a log.
	dbPassword = "pw-Zq81-never-logged"
	appToken   = "tok-Yx27-never-logged"
)

type allow struct{}

func (allow) Authenticate(*http.Request, []byte) (string, error) {
	return "arn:aws:iam::123456789012:root", nil
}

type storeReader struct{ s *state.Store }

func (r storeReader) Snapshot() *state.Snapshot { return r.s.Snapshot() }

type fakeASM struct {
	mu    sync.Mutex
	roles []string
	vals  map[string]string // by the reference without json-key...
}

func (f *fakeASM) ResolveSecretValue(ctx context.Context, ref string) (string, error) {
	f.mu.Lock()
	f.roles = append(f.roles, ExecutionRole(ctx))
	f.mu.Unlock()
	r, err := secretsapi.ParseReference(ref)
	if err != nil {
		return "", err
	}
	v, ok := f.vals[r.SecretID]
	if !ok {
		return "", &secretsapi.ReferenceError{Ref: ref, Kind: secretsapi.ErrSecretNotFound}
	}
	if r.JSONKey != "" {
		var m map[string]string
		if json.Unmarshal([]byte(v), &m) != nil {
			return "", &secretsapi.ReferenceError{Ref: ref, Kind: secretsapi.ErrNotJSON}
		}
		kv, ok := m[r.JSONKey]
		if !ok {
			return "", &secretsapi.ReferenceError{Ref: ref, Kind: secretsapi.ErrKeyNotFound}
		}
		return kv, nil
	}
	return v, nil
}

type fakeSSM map[string]string

func (f fakeSSM) ResolveParameter(_ context.Context, ref string) (string, error) {
	if v, ok := f[ref]; ok {
		return v, nil
	}
	return "", &ssmapi.NotFoundError{Ref: ref}
}

type harness struct {
	api  *API
	st   *state.Store
	asm  *fakeASM
	logs *bytes.Buffer
}

var tNamer = arn.Namer{Partition: "aws", Region: "us-east-1", Account: tAccount}

func instanceArn(id string) string {
	return "arn:aws:ecs:us-east-1:123456789012:container-instance/default/" + id
}

func taskArn(id string) string { return "arn:aws:ecs:us-east-1:123456789012:task/default/" + id }

func ptr[T any](v T) *T { return &v }

func newHarness(t *testing.T) *harness {
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
	def := func(family, role string, secrets ...shape.Secret) *shape.TaskDefinition {
		td := &shape.TaskDefinition{Family: ptr(family), Revision: 1,
			ContainerDefinitions: []shape.ContainerDefinition{
				{Name: ptr("app"), Image: ptr("busybox"), Secrets: secrets},
				{Name: ptr("side"), Image: ptr("busybox"), Secrets: []shape.Secret{{Name: ptr("TOKEN"), ValueFrom: ptr("/app/token")}}},
			}}
		if role != "" {
			td.ExecutionRoleArn = ptr(role)
		}
		return td
	}
	put(state.TableTaskDefinitions, &state.TaskDefinition{Family: "good", Revision: 1, Def: def("good", "arn:aws:iam::123456789012:role/exec",
		shape.Secret{Name: ptr("DB_PASSWORD"), ValueFrom: ptr(asmArn + ":password::")},
		shape.Secret{Name: ptr("DB"), ValueFrom: ptr(asmArn)},
		shape.Secret{Name: ptr("TOKEN_ARN"), ValueFrom: ptr(ssmArn)})})
	put(state.TableTaskDefinitions, &state.TaskDefinition{Family: "missing", Revision: 1, Def: def("missing", "",
		shape.Secret{Name: ptr("X"), ValueFrom: ptr("arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf")})})
	put(state.TableTaskDefinitions, &state.TaskDefinition{Family: "badkey", Revision: 1, Def: def("badkey", "",
		shape.Secret{Name: ptr("X"), ValueFrom: ptr(asmArn + ":nokey::")})})
	put(state.TableTaskDefinitions, &state.TaskDefinition{Family: "badparam", Revision: 1, Def: def("badparam", "",
		shape.Secret{Name: ptr("X"), ValueFrom: ptr("/app/none")})})
	task := func(id, inst, family, last, desired string) {
		put(state.TableTasks, &state.Task{ID: id, Cluster: "default", InstanceID: inst, Family: family, Revision: 1,
			Shape: &shape.Task{TaskArn: ptr(taskArn(id)), LastStatus: ptr(last), DesiredStatus: ptr(desired)}})
	}
	task("t1", "i1", "good", "PENDING", "RUNNING")
	task("t2", "i2", "good", "PENDING", "RUNNING")
	task("t3", "i1", "good", "STOPPED", "STOPPED")
	task("t4", "i1", "missing", "PENDING", "RUNNING")
	task("t5", "i1", "badkey", "PENDING", "RUNNING")
	task("t6", "i1", "badparam", "PENDING", "RUNNING")
	txn.Commit()
	h := &harness{st: st, logs: &bytes.Buffer{},
		asm: &fakeASM{vals: map[string]string{asmArn: `{"username":"admin","password":"` + dbPassword + `"}`}}}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.api = New(Config{Namer: tNamer, Auth: allow{}, State: storeReader{st}, Log: log,
		Secrets: h.asm, Parameters: fakeSSM{"/app/token": appToken, ssmArn: appToken}})
	return h
}

func (h *harness) fetch(t *testing.T, instance, task string) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(agentproto.SecretsRequest{Cluster: "default", ContainerInstanceArn: instanceArn(instance), TaskArn: taskArn(task)})
	req := httptest.NewRequest(http.MethodPost, agentproto.PathSecret, bytes.NewReader(body))
	w := httptest.NewRecorder()
	h.api.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

func (h *harness) noValuesLogged(t *testing.T) {
	t.Helper()
	for _, v := range []string{dbPassword, appToken, "admin"} {
		if strings.Contains(h.logs.String(), v) {
			t.Fatalf("the log holds a secret value %q:\n%s", v, h.logs.String())
		}
	}
}

func TestSecretsResolved(t *testing.T) {
	h := newHarness(t)
	code, body := h.fetch(t, "i1", "t1")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var got agentproto.SecretsResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	app, side := got.Containers["app"], got.Containers["side"]
	if app["DB_PASSWORD"] != dbPassword || app["TOKEN_ARN"] != appToken || !strings.Contains(app["DB"], dbPassword) || side["TOKEN"] != appToken {
		t.Fatalf("values: %v", got.Containers)
	}
	if len(h.asm.roles) == 0 || h.asm.roles[0] != "arn:aws:iam::123456789012:role/exec" {
		t.Fatalf("the resolvers saw execution roles %q", h.asm.roles)
	}
	h.noValuesLogged(t)
}

func TestSecretsRefusedForAnotherInstancesTask(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ inst, task, want string }{
		{"i1", "t2", "is not assigned to container instance"}, // t2 runs on i2
		{"i2", "t1", "is not assigned to container instance"},
		{"i1", "nosuch", "is not assigned to container instance"},
		{"i1", "t3", "is stopped"},
	} {
		code, body := h.fetch(t, c.inst, c.task)
		if code != http.StatusBadRequest || !strings.Contains(string(body), "AccessDeniedException") || !strings.Contains(string(body), c.want) {
			t.Errorf("%s asking for %s: %d %s", c.inst, c.task, code, body)
		}
		if strings.Contains(string(body), dbPassword) || strings.Contains(string(body), appToken) {
			t.Fatalf("a refusal holds a value: %s", body)
		}
	}
	// An unknown instance.
	code, _ := h.fetch(t, "i9", "t1")
	if code == http.StatusOK {
		t.Fatal("an unknown instance got secrets")
	}
	h.noValuesLogged(t)
}

func TestSecretsFailureReasons(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ task, want string }{
		{"t4", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret."},
		{"t5", "did not contain json key nokey"},
		{"t6", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): InvalidParameters: [/app/none]"},
	} {
		code, body := h.fetch(t, "i1", c.task)
		var e struct{ Type, Message string }
		_ = json.Unmarshal(body, &struct {
			Type    *string `json:"__type"`
			Message *string `json:"message"`
		}{&e.Type, &e.Message})
		if code != http.StatusBadRequest || e.Type != agentproto.SecretsFailureType || !strings.Contains(e.Message, c.want) {
			t.Errorf("%s: %d %s, want a message with %q", c.task, code, body, c.want)
		}
		if strings.Contains(string(body), dbPassword) || strings.Contains(string(body), "admin") {
			t.Fatalf("a failure holds a value: %s", body)
		}
	}
	h.noValuesLogged(t)
}

func TestSecretsAuthorizerHook(t *testing.T) {
	h := newHarness(t)
	var seen SecretsRequest
	h.api.cfg.AuthorizeSecrets = func(_ context.Context, req SecretsRequest) error {
		seen = req
		return nil
	}
	if code, body := h.fetch(t, "i1", "t1"); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if seen.ExecutionRole != "arn:aws:iam::123456789012:role/exec" || len(seen.ValueFrom) != 4 || seen.TaskArn != taskArn("t1") {
		t.Fatalf("the authorizer saw %+v", seen)
	}
}

// fakeRoles lets ECS tasks assume the roles it lists.
type fakeRoles map[string]bool

func (f fakeRoles) CheckTaskRole(role string) error {
	if !f[role] {
		return errors.New("AccessDenied: Not authorized to perform sts:AssumeRole")
	}
	return nil
}

// TestSecretsNeedAnAssumableExecutionRole checks that, with role checks
// on, a task gets its secrets only when ECS tasks can assume its execution
// role, and otherwise fails with a ResourceInitializationError reason.
func TestSecretsNeedAnAssumableExecutionRole(t *testing.T) {
	for _, c := range []struct {
		name  string
		roles fakeRoles
		task  string
		code  int
		want  string
	}{
		{"assumable", fakeRoles{"arn:aws:iam::123456789012:role/exec": true}, "t1", http.StatusOK, ""},
		{"not assumable", fakeRoles{}, "t1", http.StatusBadRequest,
			"ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to get the credentials of the execution role: ECS was unable to assume the role 'arn:aws:iam::123456789012:role/exec' that was provided for this task."},
		{"no execution role", fakeRoles{}, "t4", http.StatusBadRequest,
			"execution resource retrieval failed: the task definition has no executionRoleArn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.api.cfg.ExecutionRoles = c.roles
			code, body := h.fetch(t, "i1", c.task)
			if code != c.code || !strings.Contains(string(body), c.want) {
				t.Fatalf("status %d %s, want %d with %q", code, body, c.code, c.want)
			}
			if c.code != http.StatusOK && !strings.Contains(string(body), agentproto.SecretsFailureType) {
				t.Fatalf("error type: %s", body)
			}
			h.noValuesLogged(t)
		})
	}
}
