package taskhttp

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
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

const (
	arnA = "arn:aws:ecs:us-east-1:123456789012:task/default/aaaa"
	arnB = "arn:aws:ecs:us-east-1:123456789012:task/default/bbbb"
)

type fakeSource struct {
	mu    sync.Mutex
	n     int
	now   func() time.Time
	fail  bool
	tasks []string
}

func (f *fakeSource) TaskCredentials(_ context.Context, taskArn string) (Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return Credentials{}, errors.New("server unreachable")
	}
	f.n++
	f.tasks = append(f.tasks, taskArn)
	return Credentials{RoleArn: "arn:aws:iam::123456789012:role/app", AccessKeyID: "ASIA" + strings.Repeat("X", f.n),
		SecretAccessKey: "secret-never-logged", Token: "token-" + taskArn[len(taskArn)-4:],
		Expiration: f.now().Add(time.Hour).Truncate(time.Second)}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T) (*Server, *fakeSource, *clock, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	src := &fakeSource{now: clk.now}
	logs := &bytes.Buffer{}
	s := New(Config{Key: []byte("k"), Credentials: src, Now: clk.now,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s.AddTask(arnA, []string{"app", "side"}, true)
	s.AddTask(arnB, []string{"app"}, false)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, src, clk, hs, logs
}

func TestCredentialsReadBySDKProvider(t *testing.T) {
	s, src, _, hs, logs := setup(t)
	p := endpointcreds.New(hs.URL + s.CredentialsPath(arnA))
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIAX" || c.SecretAccessKey != "secret-never-logged" || c.SessionToken != "token-aaaa" || !c.CanExpire || c.Expires.IsZero() {
		t.Fatalf("credentials %+v", c)
	}
	// The raw answer has ECS's member names and time format.
	resp, err := http.Get(hs.URL + s.CredentialsPath(arnA))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, k := range []string{"RoleArn", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"} {
		if raw[k] == "" {
			t.Errorf("no %s in %v", k, raw)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", raw["Expiration"]); err != nil {
		t.Errorf("Expiration %q: %v", raw["Expiration"], err)
	}
	if src.n != 1 {
		t.Fatalf("fetched %d times, want once (cached)", src.n)
	}
	if strings.Contains(logs.String(), "secret-never-logged") || strings.Contains(logs.String(), "token-aaaa") {
		t.Fatalf("logged the credentials:\n%s", logs)
	}
}

func TestCredentialsRefreshedBeforeExpiry(t *testing.T) {
	s, src, clk, hs, _ := setup(t)
	get := func() string {
		c, err := endpointcreds.New(hs.URL + s.CredentialsPath(arnA)).Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return c.AccessKeyID
	}
	first := get()
	clk.add(40 * time.Minute) // 20 min left: cached
	if got := get(); got != first || src.n != 1 {
		t.Fatalf("after 40m: %s (fetches %d), want the cached %s", got, src.n, first)
	}
	clk.add(6 * time.Minute) // 14 min left: refreshed
	if got := get(); got == first || src.n != 2 {
		t.Fatalf("after 46m: %s (fetches %d), want fresh credentials", got, src.n)
	}
	// A failed refresh serves the cached credentials while they are valid.
	clk.add(50 * time.Minute)
	src.mu.Lock()
	src.fail = true
	src.mu.Unlock()
	if got := get(); got == first {
		t.Fatal("served the first credentials")
	}
	clk.add(20 * time.Minute) // expired: an error
	if _, err := endpointcreds.New(hs.URL + s.CredentialsPath(arnA)).Retrieve(context.Background()); err == nil {
		t.Fatal("expired credentials served")
	}
}

func TestCredentialsUnknownID(t *testing.T) {
	s, src, _, hs, _ := setup(t)
	for _, path := range []string{
		"/v2/credentials/" + strings.Repeat("0", 32),
		s.CredentialsPath(arnB), // a task without a role
		"/v2/credentials/" + s.MetadataID(arnA, "app"),
		"/v2/credentials/",
		"/v1/credentials",
	} {
		if _, err := endpointcreds.New(hs.URL + path).Retrieve(context.Background()); err == nil {
			t.Errorf("%s: credentials served", path)
		}
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
	s.RemoveTask(arnA)
	if _, err := endpointcreds.New(hs.URL + s.CredentialsPath(arnA)).Retrieve(context.Background()); err == nil {
		t.Error("a removed task's credentials served")
	}
	if src.n != 0 {
		t.Fatalf("fetched %d times", src.n)
	}
}

func TestIDsAreKeyed(t *testing.T) {
	a := New(Config{Key: []byte("one")})
	b := New(Config{Key: []byte("two")})
	if a.CredentialsID(arnA) == b.CredentialsID(arnA) || a.CredentialsID(arnA) == a.CredentialsID(arnB) ||
		a.CredentialsID(arnA) != New(Config{Key: []byte("one")}).CredentialsID(arnA) || len(a.CredentialsID(arnA)) != 32 {
		t.Fatal("IDs are not keyed, distinct and stable")
	}
}

func TestMetadataShapes(t *testing.T) {
	s, _, _, hs, _ := setup(t)
	cpu, mem := 0.25, int64(512)
	ccpu := 128.0
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.SetMetadata(arnA, TaskMetadata{Cluster: "default", TaskARN: arnA, Family: "web", Revision: "3", DesiredStatus: "RUNNING", KnownStatus: "RUNNING",
		Limits: &Limits{CPU: &cpu, Memory: &mem}, LaunchType: "EC2", AvailabilityZone: "us-east-1a",
		Containers: []ContainerMetadata{
			{DockerID: "d1", Name: "app", DockerName: "ecs-web-3-app-aaaa", Image: "nginx", KnownStatus: "RUNNING", DesiredStatus: "RUNNING",
				Type: "NORMAL", Limits: Limits{CPU: &ccpu}, StartedAt: &started,
				Networks: []Network{{NetworkMode: "awsvpc", IPv4Addresses: []string{"10.0.0.5"}, SubnetGatewayIpv4Address: "10.0.0.1/24"}}},
			{DockerID: "d2", Name: "side", Image: "busybox", KnownStatus: "RUNNING", Type: "NORMAL"},
		}})
	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	id := s.MetadataID(arnA, "app")
	code, c := get("/v4/" + id)
	if code != 200 || c["DockerId"] != "d1" || c["Name"] != "app" || c["DockerName"] != "ecs-web-3-app-aaaa" || c["Type"] != "NORMAL" ||
		c["StartedAt"] != "2026-01-02T03:04:05Z" || c["Limits"].(map[string]any)["CPU"] != 128.0 {
		t.Fatalf("container: %d %v", code, c)
	}
	nw := c["Networks"].([]any)[0].(map[string]any)
	if nw["NetworkMode"] != "awsvpc" || nw["IPv4Addresses"].([]any)[0] != "10.0.0.5" {
		t.Fatalf("networks: %v", nw)
	}
	code, task := get("/v4/" + s.MetadataID(arnA, "side") + "/task")
	if code != 200 || task["TaskARN"] != arnA || task["Revision"] != "3" || task["Family"] != "web" || len(task["Containers"].([]any)) != 2 ||
		task["Limits"].(map[string]any)["CPU"] != 0.25 || task["LaunchType"] != "EC2" {
		t.Fatalf("task: %d %v", code, task)
	}
	if code, st := get("/v4/" + id + "/stats"); code != 200 || st == nil {
		t.Fatalf("stats: %d %v", code, st)
	}
	if code, st := get("/v4/" + id + "/task/stats"); code != 200 || len(st) != 2 {
		t.Fatalf("task stats: %d %v", code, st)
	}
	if code, _ := get("/v4/" + strings.Repeat("0", 32) + "/task"); code != 404 {
		t.Fatalf("unknown ID: %d", code)
	}
	if code, _ := get("/v4/" + s.CredentialsID(arnA)); code != 404 {
		t.Fatalf("a credentials ID answered metadata: %d", code)
	}
}
