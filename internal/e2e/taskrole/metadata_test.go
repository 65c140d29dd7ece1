package taskrole

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// serviceTask creates service name of def (one task, tags propagated from
// the service) and returns its task once RUNNING.
func (e *env) serviceTask(name, def string) ecstypes.Task {
	t := e.t
	t.Helper()
	_, err := e.ecs.CreateService(ctx(t), &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(def), DesiredCount: aws.Int32(1), PropagateTags: ecstypes.PropagateTagsService,
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("metadata")}}})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lt, err := e.ecs.ListTasks(ctx(t), &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(name)})
		if err == nil && len(lt.TaskArns) > 0 {
			dt, err := e.ecs.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: lt.TaskArns[:1]})
			if err == nil && len(dt.Tasks) == 1 && aws.ToString(dt.Tasks[0].LastStatus) == "RUNNING" {
				return dt.Tasks[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("service %s has no RUNNING task within 2m", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// statsSample is what the test reads of a container's /stats.
type statsSample struct {
	ID       string    `json:"id"`
	Read     time.Time `json:"read"`
	PreRead  time.Time `json:"preread"`
	CPUStats struct {
		CPUUsage struct {
			TotalUsage uint64 `json:"total_usage"`
		} `json:"cpu_usage"`
		SystemUsage uint64 `json:"system_cpu_usage"`
	} `json:"cpu_stats"`
	MemoryStats struct {
		Usage uint64 `json:"usage"`
		Limit uint64 `json:"limit"`
	} `json:"memory_stats"`
	Networks map[string]struct {
		RxBytes uint64 `json:"rx_bytes"`
	} `json:"networks"`
}

// TestTaskMetadataDocker: a service's task reads, from inside its
// container, its metadata (image ID, times, health, service name, launch
// type, tags at /taskWithTags) and its runtime statistics (real CPU and
// memory usage, its bridge interface) at the task metadata endpoint v4.
func TestTaskMetadataDocker(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	out, err := e.ecs.RegisterTaskDefinition(c, &ecs.RegisterTaskDefinitionInput{Family: aws.String("meta"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64),
			EntryPoint: []string{e.binary}, Command: []string{"--listen", ":8080"},
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: ecstypes.TransportProtocolTcp}},
			HealthCheck: &ecstypes.HealthCheck{Command: []string{"CMD", e.binary, "health", "http://127.0.0.1:8080/health"},
				Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(3)},
		}}})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	task := e.serviceTask("web", aws.ToString(out.TaskDefinition.TaskDefinitionArn))
	port := hostPort(t, task)
	var echo struct {
		Env map[string]string `json:"env"`
	}
	_, body := get(t, port, "/")
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatalf("GET /: %v: %s", err, body)
	}
	base := echo.Env["ECS_CONTAINER_METADATA_URI_V4"]
	if !strings.HasPrefix(base, "http://169.254.170.2/v4/") {
		t.Fatalf("no metadata URI: %v", echo.Env)
	}
	read := func(path string, v any) {
		t.Helper()
		code, body := fetch(t, port, base+path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
	}

	// The container: the engine's image ID and times, and its health once
	// the engine's check passed.
	type health struct {
		Status string `json:"status"`
		Since  string `json:"statusSince"`
	}
	var cm struct {
		DockerId, ImageID, CreatedAt, StartedAt string
		Health                                  *health
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		read("", &cm)
		if cm.Health != nil && cm.Health.Status == "HEALTHY" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container never HEALTHY in its metadata: %+v", cm)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.HasPrefix(cm.ImageID, "sha256:") || cm.CreatedAt == "" || cm.StartedAt == "" || cm.Health.Since == "" || cm.DockerId == "" {
		t.Fatalf("container metadata: %+v", cm)
	}

	// The task: its service, launch type and tags (at /taskWithTags only).
	var tm struct {
		TaskARN, ServiceName, LaunchType string
		TaskTags                         map[string]string
		ClockDrift                       *struct{ ClockSynchronizationStatus string }
	}
	read("/task", &tm)
	if tm.TaskARN != aws.ToString(task.TaskArn) || tm.ServiceName != "web" || tm.LaunchType != "EC2" || tm.TaskTags != nil ||
		tm.ClockDrift == nil || tm.ClockDrift.ClockSynchronizationStatus == "" {
		t.Fatalf("task metadata: %+v", tm)
	}
	read("/taskWithTags", &tm)
	if tm.TaskTags["team"] != "metadata" {
		t.Fatalf("task tags: %v", tm.TaskTags)
	}

	// Statistics: real usage, the bridge interface, and from the second
	// read on the previous sample.
	var first statsSample
	deadline = time.Now().Add(time.Minute)
	for {
		read("/stats", &first)
		if first.MemoryStats.Usage > 0 && first.CPUStats.CPUUsage.TotalUsage > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usage in /stats: %+v", first)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if first.ID != cm.DockerId || first.MemoryStats.Limit != 64<<20 || first.CPUStats.SystemUsage == 0 {
		t.Fatalf("stats: %+v", first)
	}
	if n, ok := first.Networks["eth0"]; !ok || n.RxBytes == 0 {
		t.Fatalf("networks: %+v", first.Networks)
	}
	var all map[string]statsSample
	read("/task/stats", &all)
	s, ok := all[cm.DockerId]
	if len(all) != 1 || !ok || s.MemoryStats.Usage == 0 || s.PreRead.IsZero() || s.CPUStats.CPUUsage.TotalUsage == 0 {
		t.Fatalf("task stats: %+v", all)
	}
}
