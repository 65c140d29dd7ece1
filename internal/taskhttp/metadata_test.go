package taskhttp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeStats answers canned statistics by runtime ID.
type fakeStats struct {
	mu    sync.Mutex
	asked []string
	by    map[string]string
}

func (f *fakeStats) ContainerStats(_ context.Context, id string) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, id)
	if b, ok := f.by[id]; ok {
		return json.RawMessage(b), nil
	}
	return nil, errors.New("no such container")
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode
}

func TestMetadataStatsPassThrough(t *testing.T) {
	src := &fakeStats{by: map[string]string{
		"d1": `{"read":"2026-01-02T03:04:05Z","cpu_stats":{"cpu_usage":{"total_usage":123}},"memory_stats":{"usage":456},"id":"d1"}`,
		"d3": `not json`,
	}}
	s := New(Config{Key: []byte("k"), Stats: src})
	s.AddTask(arnA, []string{"app", "side", "bad", "new"}, false)
	s.SetMetadata(arnA, TaskMetadata{TaskARN: arnA, Containers: []ContainerMetadata{
		{DockerID: "d1", Name: "app"}, {DockerID: "d2", Name: "side"}, {DockerID: "d3", Name: "bad"}, {Name: "new"}}})
	hs := httptest.NewServer(s)
	defer hs.Close()
	var one map[string]any
	if code := getJSON(t, hs.URL+"/v4/"+s.MetadataID(arnA, "app")+"/stats", &one); code != 200 ||
		one["id"] != "d1" || one["memory_stats"].(map[string]any)["usage"] != 456.0 {
		t.Fatalf("container stats: %d %v", code, one)
	}
	for _, name := range []string{"side", "bad", "new"} { // failed, invalid, not created
		var m map[string]any
		if code := getJSON(t, hs.URL+"/v4/"+s.MetadataID(arnA, name)+"/stats", &m); code != 200 || len(m) != 0 {
			t.Fatalf("%s: %d %v, want {}", name, code, m)
		}
	}
	var all map[string]map[string]any
	if code := getJSON(t, hs.URL+"/v4/"+s.MetadataID(arnA, "new")+"/task/stats", &all); code != 200 || len(all) != 3 ||
		all["d1"]["cpu_stats"].(map[string]any)["cpu_usage"].(map[string]any)["total_usage"] != 123.0 || len(all["d2"]) != 0 || len(all["d3"]) != 0 {
		t.Fatalf("task stats: %d %v", code, all)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	for _, id := range src.asked {
		if id == "" {
			t.Fatal("asked for a container the runtime never created")
		}
	}
}

func TestMetadataTaskFields(t *testing.T) {
	ref := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New(Config{Key: []byte("k"), Clock: func() *ClockDrift {
		return &ClockDrift{ClockErrorBound: 0.25, ReferenceTimestamp: &ref, ClockSynchronizationStatus: "SYNCHRONIZED"}
	}})
	s.AddTask(arnA, []string{"app"}, false)
	created, since := ref.Add(-time.Minute), ref.Add(-time.Second)
	code := 0
	s.SetMetadata(arnA, TaskMetadata{TaskARN: arnA, LaunchType: "FARGATE", ServiceName: "web",
		TaskTags: map[string]string{"team": "blue"}, ContainerInstanceTags: map[string]string{"rack": "r1"},
		Containers: []ContainerMetadata{{DockerID: "d1", Name: "app", ImageID: "sha256:abc", CreatedAt: &created, ExitCode: &code,
			KnownStatus: "STOPPED", Health: &Health{Status: "HEALTHY", Since: &since}}}})
	hs := httptest.NewServer(s)
	defer hs.Close()
	id := s.MetadataID(arnA, "app")
	var task, tagged map[string]any
	getJSON(t, hs.URL+"/v4/"+id+"/task", &task)
	getJSON(t, hs.URL+"/v4/"+id+"/taskWithTags", &tagged)
	if task["LaunchType"] != "FARGATE" || task["ServiceName"] != "web" || task["TaskTags"] != nil || task["ContainerInstanceTags"] != nil {
		t.Fatalf("task: %v", task)
	}
	cd, _ := task["ClockDrift"].(map[string]any)
	if cd["ClockErrorBound"] != 0.25 || cd["ClockSynchronizationStatus"] != "SYNCHRONIZED" || cd["ReferenceTimestamp"] != "2026-01-02T03:04:05Z" {
		t.Fatalf("clock drift: %v", task["ClockDrift"])
	}
	if tagged["TaskTags"].(map[string]any)["team"] != "blue" || tagged["ContainerInstanceTags"].(map[string]any)["rack"] != "r1" {
		t.Fatalf("taskWithTags: %v", tagged)
	}
	// /task after /taskWithTags still has no tags: the stored metadata is
	// not changed by an answer.
	task = nil
	getJSON(t, hs.URL+"/v4/"+id+"/task", &task)
	if task["TaskTags"] != nil {
		t.Fatalf("task: %v", task)
	}
	var c map[string]any
	getJSON(t, hs.URL+"/v4/"+id, &c)
	h, _ := c["Health"].(map[string]any)
	if c["ImageID"] != "sha256:abc" || c["CreatedAt"] != "2026-01-02T03:03:05Z" || c["ExitCode"] != 0.0 ||
		h["status"] != "HEALTHY" || h["statusSince"] != "2026-01-02T03:04:04Z" {
		t.Fatalf("container: %v", c)
	}
}
