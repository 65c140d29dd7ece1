// Package agentproto defines what berth's agent and server exchange beyond
// the ECS API: the push stream that carries an instance's desired tasks, the
// health reports, and the log relay. Both sides import it; neither imports
// the other.
//
// Endpoints (all SigV4-signed with service "ecs", like the ECS API):
//
//	POST /agent/v1/stream   body StreamRequest → NDJSON stream of Message
//	POST /agent/v1/health   body HealthReport  → 204
//	POST /agent/v1/logs?request=ID  body: NDJSON LogLine until the end
//	POST /agent/v1/secrets  body SecretsRequest → SecretsResponse
//	POST /agent/v1/credentials  body CredentialsRequest → CredentialsResponse
//	GET  /berth/v1/logs?cluster=C&task=T[&container=N][&follow=true]
//	                        → NDJSON LogLine (for `berth logs`)
//
// Stream semantics: the first Tasks message of a stream is Full: the
// complete set of tasks the instance must run or stop, each with its
// definition. Later Tasks messages are deltas on the same ordered
// connection: tasks new to the stream (in full), tasks whose desired state
// changed (TaskArn and the desired fields only), and Removed, the tasks that
// left the set. A new stream always starts with a Full message, so nothing
// can be lost across reconnects. The server also sends a Heartbeat every
// HeartbeatInterval and control messages (logs requests, deregistration).
// The agent reconnects when the stream ends or stays silent for
// 3 × HeartbeatInterval. While a stream is open the instance shows
// agentConnected=true.
//
// The package is a leaf: standard library and package shape only.
package agentproto

import (
	"time"

	"berth.dev/berth/internal/shape"
)

// Paths of the agent endpoints.
const (
	PathStream = "/agent/v1/stream"
	PathHealth = "/agent/v1/health"
	PathLogs   = "/agent/v1/logs"
	PathCLILog = "/berth/v1/logs"
	PathSecret = "/agent/v1/secrets"
	PathCreds  = "/agent/v1/credentials"
	// PathAWSLogs takes the log events of containers whose log driver is
	// awslogs (AWSLogsRequest).
	PathAWSLogs = "/agent/v1/awslogs"
)

// HeartbeatInterval is how often the server writes on an idle stream.
const HeartbeatInterval = 5 * time.Second

// StreamRequest opens an instance's stream.
type StreamRequest struct {
	Cluster              string `json:"cluster"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
}

// Message types.
const (
	TypeTasks        = "tasks"
	TypeHeartbeat    = "heartbeat"
	TypeLogs         = "logs"
	TypeDeregistered = "deregistered"
	// TypeNetwork carries the host's task network (Network): sent first
	// on every stream and again whenever it changes.
	TypeNetwork = "network"
)

// Message is one line of the stream.
type Message struct {
	Type string `json:"type"`
	// Full marks a Tasks message that carries the complete set.
	Full    bool         `json:"full,omitempty"`
	Tasks   []Task       `json:"tasks,omitempty"`
	Removed []string     `json:"removed,omitempty"`
	Logs    *LogRequest  `json:"logs,omitempty"`
	Network *HostNetwork `json:"network,omitempty"`
}

// HostNetwork is what an agent needs to route awsvpc tasks: its own task
// subnet (empty when it has none) and every other host's, with the address
// that host is reached at (attribute berth.host-address).
type HostNetwork struct {
	// Range is the cluster's task range: traffic to it is routed, not
	// masqueraded.
	Range  string `json:"range,omitempty"`
	Subnet string `json:"subnet,omitempty"`
	Peers  []Peer `json:"peers"`
}

// Peer is another host's task subnet and the host's address.
type Peer struct {
	Subnet string `json:"subnet"`
	Via    string `json:"via"`
}

// TaskNetwork is an awsvpc task's network interface, as the server chose
// it: the agent gives the task's namespace this address and MAC.
type TaskNetwork struct {
	AttachmentID   string `json:"attachmentId"`
	ENIID          string `json:"eniId"`
	MAC            string `json:"mac"`
	Address        string `json:"address"` // CIDR form: the address with its subnet's prefix length
	Gateway        string `json:"gateway"`
	SubnetID       string `json:"subnetId"`
	PrivateDNSName string `json:"privateDnsName"`
}

// Task is one task as the agent needs it. In a delta, a task the stream
// already carried has only TaskArn and the desired fields (Definition nil).
type Task struct {
	TaskArn       string                `json:"taskArn"`
	ClusterArn    string                `json:"clusterArn"`
	DesiredStatus string                `json:"desiredStatus"`
	LastStatus    string                `json:"lastStatus"`
	StopCode      string                `json:"stopCode,omitempty"`
	StoppedReason string                `json:"stoppedReason,omitempty"`
	Definition    *shape.TaskDefinition `json:"definition"`
	Overrides     *shape.TaskOverride   `json:"overrides,omitempty"`
	Containers    []Container           `json:"containers"`
	CreatedAt     time.Time             `json:"createdAt"`
	Version       int64                 `json:"version"`
	// Network is set for awsvpc tasks.
	Network *TaskNetwork `json:"network,omitempty"`
	// LaunchType, Group and Tags are the task's, as DescribeTasks shows
	// them; InstanceTags are the tags of the container instance it runs
	// on, as the server had them when it sent the task. The agent serves
	// them at the task metadata endpoint. Deltas and older servers leave
	// them out.
	LaunchType   string            `json:"launchType,omitempty"`
	Group        string            `json:"group,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	InstanceTags map[string]string `json:"instanceTags,omitempty"`
}

// Container names one container of a task.
type Container struct {
	Name         string `json:"name"`
	ContainerArn string `json:"containerArn"`
}

// LogRequest asks the agent to upload a container's log to PathLogs.
type LogRequest struct {
	ID        string `json:"id"`
	TaskArn   string `json:"taskArn"`
	Container string `json:"container,omitempty"` // "" = every container
	Follow    bool   `json:"follow,omitempty"`
}

// HealthReport carries the health of a task's containers.
type HealthReport struct {
	Cluster string            `json:"cluster"`
	TaskArn string            `json:"taskArn"`
	Health  map[string]string `json:"health"` // container → HEALTHY | UNHEALTHY | UNKNOWN
}

// LogLine is one line of a container's output.
type LogLine struct {
	Time      time.Time `json:"time"`
	Container string    `json:"container"`
	Stream    string    `json:"stream"` // stdout | stderr
	Text      string    `json:"text"`
}

// SecretsRequest asks for the values of a task's secrets
// (containerDefinitions[].secrets) as the task starts. The server answers
// only for a task assigned to the named container instance that is not
// stopped.
type SecretsRequest struct {
	Cluster              string `json:"cluster"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
	TaskArn              string `json:"taskArn"`
}

// SecretsResponse carries the values: by container name, then by
// environment variable name (the secret's name). It is never logged or
// written to disk by either side.
type SecretsResponse struct {
	Containers map[string]map[string]string `json:"containers"`
}

// SecretsFailureType is the error type (__type) of a SecretsRequest
// refused because a secret cannot be resolved; its message is the task's
// stoppedReason (ResourceInitializationError: ...), without any value.
const SecretsFailureType = "ResourceInitializationError"

// CredentialsRequest asks for temporary credentials of a task's role (the
// task definition's taskRoleArn, or its executionRoleArn when Role is
// CredentialsExecutionRole), for the task's credentials endpoint. The
// server answers only for a task assigned to the named container instance
// that is not stopped.
type CredentialsRequest struct {
	Cluster              string `json:"cluster"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
	TaskArn              string `json:"taskArn"`
	Role                 string `json:"role,omitempty"` // CredentialsTaskRole ("") or CredentialsExecutionRole
}

// The roles a CredentialsRequest may name.
const (
	CredentialsTaskRole      = "task"
	CredentialsExecutionRole = "execution"
)

// CredentialsResponse carries STS temporary credentials of the role. It is
// never logged or written to disk by either side.
type CredentialsResponse struct {
	RoleArn         string    `json:"roleArn"`
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken"`
	Expiration      time.Time `json:"expiration"`
}

// AWSLogsRequest appends a batch of a container's log events to the
// server's CloudWatch Logs store (PathAWSLogs). The stream is created as
// needed; the group too when CreateGroup (awslogs-create-group "true").
// A missing group otherwise answers ResourceNotFoundException.
type AWSLogsRequest struct {
	Cluster              string         `json:"cluster"`
	ContainerInstanceArn string         `json:"containerInstanceArn"`
	TaskArn              string         `json:"taskArn"`
	Group                string         `json:"logGroupName"`
	Stream               string         `json:"logStreamName"`
	CreateGroup          bool           `json:"createGroup,omitempty"`
	Events               []AWSLogsEvent `json:"logEvents"`
}

// AWSLogsEvent is one event: epoch milliseconds and the message.
type AWSLogsEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// MaxAWSLogsBody bounds an AWSLogsRequest's body (a batch of at most
// 1 MiB of messages, JSON-escaped).
const MaxAWSLogsBody = 8 << 20
