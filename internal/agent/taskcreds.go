package agent

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskendpoint"
	"berth.dev/berth/internal/taskhttp"
	"berth.dev/berth/internal/taskplan"
)

// credentialSource fetches the temporary credentials of a task's role from
// the server (agentproto.PathCreds).
type credentialSource interface {
	FetchCredentials(ctx context.Context, req agentproto.CredentialsRequest) (*agentproto.CredentialsResponse, error)
}

// FetchCredentials asks the server for a task role's credentials. The
// answer is never logged.
func (c *serverClient) FetchCredentials(ctx context.Context, req agentproto.CredentialsRequest) (*agentproto.CredentialsResponse, error) {
	hreq, err := c.signedRequest(ctx, http.MethodPost, agentproto.PathCreds, req)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("fetch credentials: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp)
	}
	var out agentproto.CredentialsResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("fetch credentials: the answer is not valid JSON")
	}
	return &out, nil
}

// TaskEndpointHandler serves the tasks' credentials and metadata (package
// taskhttp); the CLI serves it at taskendpoint.IP:80 and sets
// Config.TaskEndpoint.
func (a *Agent) TaskEndpointHandler() http.Handler { return a.endpoint }

// endpointKey keys the tasks' credentials and metadata IDs: only this
// agent (its secret key) can compute them, and they stay the same across
// its restarts.
func endpointKey(secret, instanceID string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("berth task endpoint\x00" + instanceID))
	return h.Sum(nil)
}

// taskCredentials fetches task role credentials through the agent's
// server connection.
type taskCredentials struct{ a *Agent }

func (t taskCredentials) TaskCredentials(ctx context.Context, taskArn string) (taskhttp.Credentials, error) {
	srv := t.a.srv
	if srv == nil {
		return taskhttp.Credentials{}, fmt.Errorf("not connected to the server")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := srv.FetchCredentials(ctx, agentproto.CredentialsRequest{Cluster: t.a.cfg.Cluster,
		ContainerInstanceArn: t.a.InstanceArn(), TaskArn: taskArn, Role: agentproto.CredentialsTaskRole})
	if err != nil {
		return taskhttp.Credentials{}, err
	}
	return taskhttp.Credentials{RoleArn: resp.RoleArn, AccessKeyID: resp.AccessKeyID, SecretAccessKey: resp.SecretAccessKey,
		Token: resp.SessionToken, Expiration: resp.Expiration}, nil
}

// hasTaskRole reports whether t has a task role (its definition's, or
// RunTask's override).
func hasTaskRole(t agentproto.Task) bool {
	if t.Overrides != nil && deref(t.Overrides.TaskRoleArn) != "" {
		return true
	}
	return t.Definition != nil && deref(t.Definition.TaskRoleArn) != ""
}

func containerNames(t agentproto.Task) []string {
	if t.Definition == nil {
		return nil
	}
	out := make([]string, 0, len(t.Definition.ContainerDefinitions))
	for _, cd := range t.Definition.ContainerDefinitions {
		out = append(out, deref(cd.Name))
	}
	return out
}

// endpointEnv is the environment that points container name of t at the
// task endpoint, as ECS's agent sets it (the task definition's own
// values win): the metadata URIs, the credentials' relative URI when the
// task has a task role, the region (ECS sets AWS_REGION and
// AWS_DEFAULT_REGION on Fargate; berth always does), and with
// TaskAWSEndpoint the AWS endpoint URL (a berth addition: the task
// endpoint passes AWS API calls to the server).
func (a *Agent) endpointEnv(t *agentproto.Task, name string) [][2]string {
	var out [][2]string
	if a.cfg.Region != "" {
		out = append(out, [2]string{"AWS_REGION", a.cfg.Region}, [2]string{"AWS_DEFAULT_REGION", a.cfg.Region})
	}
	if !a.cfg.TaskEndpoint {
		return out
	}
	base := "http://" + taskendpoint.IP
	id := a.endpoint.MetadataID(t.TaskArn, name)
	out = append(out, [2]string{"ECS_CONTAINER_METADATA_URI_V4", base + "/v4/" + id},
		[2]string{"ECS_CONTAINER_METADATA_URI", base + "/v3/" + id})
	if hasTaskRole(*t) {
		out = append(out, [2]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", a.endpoint.CredentialsPath(t.TaskArn)})
	}
	if a.cfg.TaskAWSEndpoint {
		out = append(out, [2]string{"AWS_ENDPOINT_URL", base})
	}
	return out
}

// publishMetadata hands the task's metadata, as the runner knows it, to
// the task endpoint.
func (r *runner) publishMetadata(d taskplan.Decision) {
	t, def := &r.task, r.task.Definition
	if def == nil {
		return
	}
	m := taskhttp.TaskMetadata{Cluster: r.task.ClusterArn, TaskARN: t.TaskArn, Family: deref(def.Family),
		Revision: strconv.Itoa(int(def.Revision)), DesiredStatus: t.DesiredStatus, KnownStatus: d.Status,
		PullStartedAt: r.pullStart, PullStoppedAt: r.pullStop, AvailabilityZone: r.a.cfg.AvailabilityZone,
		LaunchType: cmp.Or(t.LaunchType, "EC2"), TaskTags: t.Tags, ContainerInstanceTags: t.InstanceTags}
	if svc, ok := strings.CutPrefix(t.Group, "service:"); ok {
		m.ServiceName = svc
	}
	if lim := taskLimits(t); lim != nil {
		m.Limits = &taskhttp.Limits{}
		if lim.CPUUnits > 0 {
			v := float64(lim.CPUUnits) / 1024
			m.Limits.CPU = &v
		}
		if lim.MemoryMiB > 0 {
			v := lim.MemoryMiB
			m.Limits.Memory = &v
		}
	}
	if !d.ExecutionStoppedAt.IsZero() {
		v := d.ExecutionStoppedAt
		m.ExecutionStoppedAt = &v
	}
	for i, c := range d.Containers {
		if i >= len(def.ContainerDefinitions) {
			break
		}
		cd := def.ContainerDefinitions[i]
		h := r.handles[i]
		cm := taskhttp.ContainerMetadata{DockerID: h.ID, Name: deref(cd.Name), DockerName: h.Name, Image: deref(cd.Image),
			Labels: h.Labels, DesiredStatus: t.DesiredStatus, KnownStatus: c.Status, ExitCode: c.ExitCode, Type: "NORMAL"}
		cpu := float64(cd.Cpu)
		cm.Limits.CPU = &cpu
		if cd.Memory != nil {
			v := int64(*cd.Memory)
			cm.Limits.Memory = &v
		}
		if i < len(t.Containers) {
			cm.ContainerARN = t.Containers[i].ContainerArn
		}
		if lc := cd.LogConfiguration; lc != nil {
			cm.LogDriver, cm.LogOptions = string(lc.LogDriver), lc.Options
		}
		info := r.info[i]
		cm.ImageID = info.imageID
		if !info.created.IsZero() {
			v := info.created
			cm.CreatedAt = &v
		}
		if c.Health != "" && cd.HealthCheck != nil {
			cm.Health = &taskhttp.Health{Status: string(c.Health)}
			if !info.healthSince.IsZero() {
				v := info.healthSince
				cm.Health.Since = &v
			}
		}
		if i < len(r.plan.States) {
			st := r.plan.States[i]
			if !st.StartedAt.IsZero() {
				v := st.StartedAt
				cm.StartedAt = &v
			}
			if !st.FinishedAt.IsZero() && c.Status == taskplan.StatusStopped {
				v := st.FinishedAt
				cm.FinishedAt = &v
			}
		}
		if i < len(r.bindings) {
			for _, b := range r.bindings[i] {
				cm.Ports = append(cm.Ports, taskhttp.Port{ContainerPort: b.ContainerPort, Protocol: b.Protocol, HostPort: b.HostPort, HostIP: b.HostIP})
			}
		}
		cm.Networks = r.metadataNetworks()
		m.Containers = append(m.Containers, cm)
	}
	r.a.endpoint.SetMetadata(t.TaskArn, m)
}

// containerInfo is what the runtime said of a container that the task
// metadata endpoint serves, and when its health last changed.
type containerInfo struct {
	created     time.Time
	imageID     string
	healthSince time.Time
}

// learn keeps what a runtime status says.
func (c *containerInfo) learn(st driver.Status) {
	if !st.CreatedAt.IsZero() {
		c.created = st.CreatedAt
	}
	if st.ImageID != "" {
		c.imageID = st.ImageID
	}
}

// metadataNetworks is a container's Networks: for awsvpc tasks the
// task's address, subnet, gateway and MAC; else the network mode alone.
func (r *runner) metadataNetworks() []taskhttp.Network {
	mode := string(r.task.Definition.NetworkMode)
	if mode == "" {
		mode = "bridge"
	}
	n := taskhttp.Network{NetworkMode: mode}
	if tn := r.task.Network; tn != nil && mode == "awsvpc" {
		if p, err := netip.ParsePrefix(tn.Address); err == nil {
			n.IPv4Addresses = []string{p.Addr().String()}
			n.IPv4SubnetCIDRBlock = p.Masked().String()
			if tn.Gateway != "" {
				n.SubnetGatewayIpv4Address = tn.Gateway + "/" + strconv.Itoa(p.Bits())
			}
		}
		zero := 0
		n.AttachmentIndex = &zero
		n.MACAddress, n.PrivateDNSName = tn.MAC, tn.PrivateDNSName
		if r.a.cfg.TaskDNS != "" {
			n.DomainNameServers = []string{r.a.cfg.TaskDNS}
		}
	}
	return []taskhttp.Network{n}
}
