package agent

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/fakedriver"
	"berth.dev/berth/internal/shape"
)

const (
	secretValue = "s3cr3t-Qv93-value"
	tokenValue  = "t0ken-Wp44-value"
)

// secretTask is app(n, images...) whose first container has secrets
// DB_PASSWORD (Secrets Manager) and TOKEN (SSM), and environment entries
// PLAIN and TOKEN (the secret wins).
func secretTask(n int, images ...string) agentproto.Task {
	t := app(n, images...)
	cd := &t.Definition.ContainerDefinitions[0]
	cd.Environment = []shape.KeyValuePair{{Name: ptr("PLAIN"), Value: ptr("plain")}, {Name: ptr("TOKEN"), Value: ptr("from-environment")}}
	cd.Secrets = []shape.Secret{
		{Name: ptr("DB_PASSWORD"), ValueFrom: ptr("arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf:password::")},
		{Name: ptr("TOKEN"), ValueFrom: ptr("/app/token")},
	}
	return t
}

// noSecretOnDisk fails if a file under dir holds a secret value.
func noSecretOnDisk(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range []string{secretValue, tokenValue} {
			if strings.Contains(string(b), v) {
				t.Errorf("%s holds a secret value", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (l *logRecorder) noSecretLogged(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		for _, v := range []string{secretValue, tokenValue} {
			if strings.Contains(line.text, v) {
				t.Errorf("a log record holds a secret value: %s", line.text)
			}
		}
	}
}

func TestSecrets_Injected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		ta := h.start()
		task := secretTask(1, "img", "img")
		h.srv.mu.Lock()
		h.srv.secretVals = map[string]map[string]map[string]string{task.TaskArn: {"c0": {"DB_PASSWORD": secretValue, "TOKEN": tokenValue}}}
		h.srv.mu.Unlock()
		h.srv.run(task)
		ta.settle()

		if got := h.srv.last(task.TaskArn); got != "RUNNING" {
			t.Fatalf("last status %s", got)
		}
		cs := h.containersOf(task.TaskArn)
		if len(cs) != 2 {
			t.Fatalf("containers %+v", cs)
		}
		slices.SortFunc(cs, func(a, b fakedriver.Container) int {
			return strings.Compare(a.Handle.Labels[driver.LabelContainerName], b.Handle.Labels[driver.LabelContainerName])
		})
		env := cs[0].Env
		for _, want := range []string{"PLAIN=plain", "DB_PASSWORD=" + secretValue, "TOKEN=" + tokenValue} {
			if !slices.Contains(env, want) {
				t.Errorf("c0's environment %q lacks %q", env, want)
			}
		}
		if slices.Contains(env, "TOKEN=from-environment") {
			t.Errorf("the environment entry won over the secret: %q", env)
		}
		for _, kv := range cs[1].Env {
			if strings.Contains(kv, secretValue) || strings.Contains(kv, tokenValue) {
				t.Errorf("c1 got another container's secret: %q", cs[1].Env)
			}
		}
		if h.srv.secretFetches != 1 {
			t.Errorf("%d fetches, want 1", h.srv.secretFetches)
		}
		h.srv.stopTask(task.TaskArn)
		ta.settle()
		noSecretOnDisk(t, h.dir)
		h.logs.noSecretLogged(t)
	})
}

func TestSecrets_RefusedStopsTheTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		ta := h.start()
		const reason = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:x from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret."
		h.srv.mu.Lock()
		h.srv.secretsReason = reason
		h.srv.mu.Unlock()
		task := secretTask(2, "img", "img")
		h.srv.run(task)
		ta.settle()

		rep := h.srv.lastReport(task.TaskArn)
		if h.srv.last(task.TaskArn) != "STOPPED" || aws.ToString(rep.Reason) != reason {
			t.Fatalf("last report %s %q", aws.ToString(rep.Status), aws.ToString(rep.Reason))
		}
		if n := len(h.containersOf(task.TaskArn)); n != 0 {
			t.Fatalf("%d containers were created", n)
		}
		if h.srv.secretFetches != 1 {
			t.Errorf("%d fetches of a refused secret, want 1", h.srv.secretFetches)
		}
		// Never started: the server records TaskFailedToStart.
		if rep.ExecutionStoppedAt == nil {
			t.Errorf("no executionStoppedAt in %+v", rep)
		}
	})
}

func TestSecrets_ServerUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		ta := h.start()
		task := secretTask(3, "img")
		// The stream works; the secrets call fails as if the server
		// could not be reached.
		h.srv.mu.Lock()
		h.srv.secretsDown = true
		h.srv.mu.Unlock()
		h.srv.run(task)
		ta.settle()

		rep := h.srv.lastReport(task.TaskArn)
		want := "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 2 time(s): connection refused"
		if h.srv.last(task.TaskArn) != "STOPPED" || aws.ToString(rep.Reason) != want {
			t.Fatalf("last report %s %q", aws.ToString(rep.Status), aws.ToString(rep.Reason))
		}
		if h.srv.secretFetches != secretsAttempts {
			t.Errorf("%d fetches, want %d", h.srv.secretFetches, secretsAttempts)
		}
		if n := len(h.containersOf(task.TaskArn)); n != 0 {
			t.Fatalf("%d containers were created", n)
		}
	})
}
