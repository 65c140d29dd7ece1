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

// Health is a container's health check status.
type Health struct {
	Status string `json:"status"`
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
	var c *ContainerMetadata
	for i := range m.Containers {
		if m.Containers[i].Name == ref.name {
			c = &m.Containers[i]
		}
	}
	switch strings.TrimSuffix(sub, "/") {
	case "":
		if c == nil {
			c = &ContainerMetadata{Name: ref.name, KnownStatus: "PENDING", Type: "NORMAL"}
		}
		writeJSON(w, c)
	case "task", "taskWithTags":
		writeJSON(w, m)
	case "stats":
		if c == nil || c.DockerID == "" {
			writeJSON(w, struct{}{})
			return
		}
		writeJSON(w, s.stats(r, c.DockerID))
	case "task/stats":
		out := map[string]json.RawMessage{}
		for _, c := range m.Containers {
			if c.DockerID != "" {
				out[c.DockerID] = s.stats(r, c.DockerID)
			}
		}
		writeJSON(w, out)
	default:
		writeError(w, http.StatusNotFound, "NotFound", "V4 metadata: no such path")
	}
}

// stats is a container's runtime statistics, {} when unknown.
func (s *Server) stats(r *http.Request, runtimeID string) json.RawMessage {
	if s.cfg.Stats != nil {
		if b, err := s.cfg.Stats.ContainerStats(r.Context(), runtimeID); err == nil && len(b) > 0 {
			return b
		}
	}
	return json.RawMessage("{}")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
