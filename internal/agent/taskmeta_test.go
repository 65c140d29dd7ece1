package agent

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"berth.dev/berth/internal/shape"
)

// TestTaskEndpoint_MetadataFieldsAndStats: the task's launch type,
// service, tags and the containers' runtime facts reach the metadata
// endpoint, and /stats is the runtime's (the fake runtime reads
// statistics).
func TestTaskEndpoint_MetadataFieldsAndStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskEndpoint = true
		ta := h.start()
		task := app(1, "img")
		task.LaunchType, task.Group = "FARGATE", "service:web"
		task.Tags, task.InstanceTags = map[string]string{"team": "blue"}, map[string]string{"rack": "r1"}
		task.Definition.ContainerDefinitions[0].HealthCheck = &shape.HealthCheck{Command: []string{"CMD", "true"}, Interval: ptr(int32(5))}
		h.srv.run(task)
		ta.settle()
		time.Sleep(6 * time.Second) // the first health check (a fake clock)
		ta.settle()

		get := func(path string, v any) {
			t.Helper()
			w := httptest.NewRecorder()
			ta.a.TaskEndpointHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			if w.Code != 200 {
				t.Fatalf("%s: %d %s", path, w.Code, w.Body)
			}
			if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		base := "/v4/" + ta.a.endpoint.MetadataID(task.TaskArn, "c0")
		var m map[string]any
		get(base+"/task", &m)
		if m["LaunchType"] != "FARGATE" || m["ServiceName"] != "web" || m["TaskTags"] != nil {
			t.Fatalf("task: %v", m)
		}
		if cd, _ := m["ClockDrift"].(map[string]any); cd == nil || cd["ClockSynchronizationStatus"] == nil {
			t.Errorf("no ClockDrift: %v", m["ClockDrift"])
		}
		var tagged map[string]any
		get(base+"/taskWithTags", &tagged)
		if tagged["TaskTags"].(map[string]any)["team"] != "blue" || tagged["ContainerInstanceTags"].(map[string]any)["rack"] != "r1" {
			t.Fatalf("taskWithTags: %v", tagged)
		}
		var c map[string]any
		get(base, &c)
		health, _ := c["Health"].(map[string]any)
		if !strings.HasPrefix(c["ImageID"].(string), "sha256:") || c["CreatedAt"] == nil || c["StartedAt"] == nil ||
			health["status"] != "HEALTHY" || health["statusSince"] == nil {
			t.Fatalf("container: %v", c)
		}
		var st map[string]any
		get(base+"/stats", &st)
		if st["id"] != c["DockerId"] || st["memory_stats"].(map[string]any)["usage"] != float64(1<<20) {
			t.Fatalf("stats: %v", st)
		}
		var all map[string]map[string]any
		get(base+"/task/stats", &all)
		if len(all) != 1 || all[c["DockerId"].(string)]["id"] != c["DockerId"] {
			t.Fatalf("task stats: %v", all)
		}

		// Tags changed on the server show once it sends the task whole
		// again: when the agent reconnects.
		h.srv.mu.Lock()
		h.srv.tasks[task.TaskArn].task.Tags = map[string]string{"team": "green"}
		h.srv.mu.Unlock()
		h.srv.setDown(true)
		h.srv.setDown(false)
		time.Sleep(10 * time.Second) // the reconnection's backoff (a fake clock)
		ta.settle()
		tagged = nil
		get(base+"/taskWithTags", &tagged)
		if tagged["TaskTags"].(map[string]any)["team"] != "green" {
			t.Fatalf("tags after a reconnection: %v", tagged["TaskTags"])
		}

		h.srv.stopTask(task.TaskArn)
		ta.settle()
	})
}

// A task from an older server says nothing of its launch type: EC2.
func TestTaskEndpoint_LaunchTypeDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskEndpoint = true
		ta := h.start()
		task := app(1, "img")
		task.Group = "family:app"
		h.srv.run(task)
		ta.settle()
		w := httptest.NewRecorder()
		ta.a.TaskEndpointHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v4/"+ta.a.endpoint.MetadataID(task.TaskArn, "c0")+"/task", nil))
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		if m["LaunchType"] != "EC2" || m["ServiceName"] != nil {
			t.Fatalf("task: %v", m)
		}
		h.srv.stopTask(task.TaskArn)
		ta.settle()
	})
}
