package taskhttp

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// TaskMetadata is the task metadata v4 answer of /task (ECS's
// TaskResponse), as far as the agent knows it.
type TaskMetadata struct {
	Cluster            string              `json:"Cluster"`
	TaskARN            string              `json:"TaskARN"`
	Family             string              `json:"Family"`
	Revision           string              `json:"Revision"`
	DesiredStatus      string              `json:"DesiredStatus,omitempty"`
	KnownStatus        string              `json:"KnownStatus"`
	Containers         []ContainerMetadata `json:"Containers,omitempty"`
	Limits             *Limits             `json:"Limits,omitempty"`
	PullStartedAt      *time.Time          `json:"PullStartedAt,omitempty"`
	PullStoppedAt      *time.Time          `json:"PullStoppedAt,omitempty"`
	ExecutionStoppedAt *time.Time          `json:"ExecutionStoppedAt,omitempty"`
	AvailabilityZone   string              `json:"AvailabilityZone,omitempty"`
	LaunchType         string              `json:"LaunchType,omitempty"`
	ServiceName        string              `json:"ServiceName,omitempty"`
	// ClockDrift is set by the server at each answer (Config.Clock).
	ClockDrift *ClockDrift `json:"ClockDrift,omitempty"`
	// TaskTags and ContainerInstanceTags are served at /taskWithTags
	// only.
	TaskTags              map[string]string `json:"TaskTags,omitempty"`
	ContainerInstanceTags map[string]string `json:"ContainerInstanceTags,omitempty"`
}

// ClockDrift is the host clock's state (Linux: adjtimex(2)).
type ClockDrift struct {
	// ClockErrorBound is the clock's error bound in milliseconds.
	ClockErrorBound            float64    `json:"ClockErrorBound,omitempty"`
	ReferenceTimestamp         *time.Time `json:"ReferenceTimestamp,omitempty"`
	ClockSynchronizationStatus string     `json:"ClockSynchronizationStatus,omitempty"` // SYNCHRONIZED or NOT_SYNCHRONIZED
}

// ContainerMetadata is one container's answer (ECS's ContainerResponse).
type ContainerMetadata struct {
	DockerID      string            `json:"DockerId"`
	Name          string            `json:"Name"`
	DockerName    string            `json:"DockerName"`
	Image         string            `json:"Image"`
	ImageID       string            `json:"ImageID"`
	Ports         []Port            `json:"Ports,omitempty"`
	Labels        map[string]string `json:"Labels,omitempty"`
	DesiredStatus string            `json:"DesiredStatus"`
	KnownStatus   string            `json:"KnownStatus"`
	ExitCode      *int              `json:"ExitCode,omitempty"`
	Limits        Limits            `json:"Limits"`
	CreatedAt     *time.Time        `json:"CreatedAt,omitempty"`
	StartedAt     *time.Time        `json:"StartedAt,omitempty"`
	FinishedAt    *time.Time        `json:"FinishedAt,omitempty"`
	Type          string            `json:"Type"`
	ContainerARN  string            `json:"ContainerARN,omitempty"`
	LogDriver     string            `json:"LogDriver,omitempty"`
	LogOptions    map[string]string `json:"LogOptions,omitempty"`
	Health        *Health           `json:"Health,omitempty"`
	Networks      []Network         `json:"Networks,omitempty"`
}

// Limits are CPU (container: CPU units; task: vCPUs) and memory (MiB).
type Limits struct {
	CPU    *float64 `json:"CPU,omitempty"`
	Memory *int64   `json:"Memory,omitempty"`
}

// Port is a published port.
type Port struct {
	ContainerPort int    `json:"ContainerPort,omitempty"`
	Protocol      string `json:"Protocol,omitempty"`
	HostPort      int    `json:"HostPort,omitempty"`
	HostIP        string `json:"HostIp,omitempty"`
}

// Health is a container's health check status (HEALTHY, UNHEALTHY or
// UNKNOWN) and when it last changed.
type Health struct {
	Status string     `json:"status,omitempty"`
	Since  *time.Time `json:"statusSince,omitempty"`
}

// Network is one network of a container.
type Network struct {
	NetworkMode              string   `json:"NetworkMode"`
	IPv4Addresses            []string `json:"IPv4Addresses,omitempty"`
	AttachmentIndex          *int     `json:"AttachmentIndex,omitempty"`
	MACAddress               string   `json:"MACAddress,omitempty"`
	IPv4SubnetCIDRBlock      string   `json:"IPv4SubnetCIDRBlock,omitempty"`
	DomainNameServers        []string `json:"DomainNameServers,omitempty"`
	DomainNameSearchList     []string `json:"DomainNameSearchList,omitempty"`
	PrivateDNSName           string   `json:"PrivateDNSName,omitempty"`
	SubnetGatewayIpv4Address string   `json:"SubnetGatewayIpv4Address,omitempty"`
}

// metadata serves /v4/ID[/task][/stats] and /task/stats.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request, rest string) {
	id, sub, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	ref, ok := s.meta[id]
	var m *TaskMetadata
	if ok {
		m = ref.task.meta
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "V4 metadata: unknown ID")
		return
	}
	if m == nil {
		m = &TaskMetadata{TaskARN: ref.task.arn, KnownStatus: "PENDING"}
	}
	sub = strings.TrimSuffix(sub, "/")
	var c *ContainerMetadata
	for i := range m.Containers {
		if m.Containers[i].Name == ref.name {
			c = &m.Containers[i]
		}
	}
	switch sub {
	case "":
		if c == nil {
			c = &ContainerMetadata{Name: ref.name, KnownStatus: "PENDING", Type: "NORMAL"}
		}
		writeJSON(w, c)
	case "task", "taskWithTags":
		out := *m // m is never changed, only replaced (SetMetadata)
		if sub == "task" {
			out.TaskTags, out.ContainerInstanceTags = nil, nil
		}
		if s.cfg.Clock != nil {
			out.ClockDrift = s.cfg.Clock()
		}
		writeJSON(w, &out)
	case "stats":
		if c == nil || c.DockerID == "" {
			writeJSON(w, struct{}{})
			return
		}
		writeJSON(w, s.stats(r.Context(), c.DockerID))
	case "task/stats":
		writeJSON(w, s.taskStats(r.Context(), m.Containers))
	default:
		writeError(w, http.StatusNotFound, "NotFound", "V4 metadata: no such path")
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
