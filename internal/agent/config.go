package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/driver"
)

// Config configures an agent.
type Config struct {
	Server  string // berth endpoint URL
	Cluster string // default "default"
	DataDir string
	Region  string

	AccessKeyID, SecretAccessKey string

	// Driver runs the containers.
	Driver driver.Driver

	// Attributes are custom attributes applied at registration.
	Attributes       map[string]string
	AvailabilityZone string // ecs.availability-zone; default REGION + "a"
	InstanceType     string // ecs.instance-type; default "berth"
	// InstanceID names the host (ec2InstanceId); default derived from the
	// machine ID or hostname.
	InstanceID string

	StopTimeout       time.Duration // ECS_CONTAINER_STOP_TIMEOUT; default 30s
	StartTimeout      time.Duration // dependency resolution default; default 3m
	PullPolicy        driver.PullPolicy
	ReservedMemoryMiB int64
	ReservedPorts     []int // default ECS's [22 2375 2376 51678 51679]
	DisablePrivileged bool
	// TaskCleanupWait is how long stopped tasks' containers are kept
	// (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION); default 3h.
	TaskCleanupWait time.Duration

	// TaskNetwork runs awsvpc tasks (with a driver that implements
	// driver.Sandboxer); nil: the instance does not declare
	// ecs.capability.task-eni and runs none.
	TaskNetwork TaskNetwork
	// HostAddress is the address other hosts reach this one at: their
	// routes to this host's task subnet go via it (berth.host-address).
	HostAddress string
	// Subnets are the subnet IDs this instance serves: awsvpc tasks that
	// name subnets are placed only on instances serving one of them (an
	// instance that names none serves all).
	Subnets []string

	// TaskDNS is the nameserver of every task whose task definition sets
	// no dnsServers (the agent's DNS server, on the task endpoint
	// 169.254.170.2, see internal/hostaddr): containers in bridge and host
	// mode, awsvpc tasks' sandboxes. The task definition's dnsSearchDomains
	// still apply. "": tasks keep the runtime's resolver configuration.
	// Where the runtime cannot set a container's resolvers (the process
	// runtime without root) tasks keep theirs, and the agent logs it once.
	TaskDNS string

	// TaskEndpoint says the agent's task endpoint server
	// (Agent.TaskEndpointHandler) is served at 169.254.170.2:80, where
	// every task reaches it: containers then get the environment that
	// points them at it (ECS_CONTAINER_METADATA_URI_V4, and
	// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI for tasks with a task role).
	TaskEndpoint bool

	// TaskAWSEndpoint, with TaskEndpoint, makes the task endpoint pass the
	// AWS API calls tasks send to it (requests for /) on to the server, and
	// gives containers AWS_ENDPOINT_URL=http://169.254.170.2 unless their
	// definition sets it, so that the AWS SDKs and CLI in a task call berth
	// with no configuration, from every network mode.
	TaskAWSEndpoint bool

	Log *slog.Logger
}

var attrName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9\-_./\\@:]{1,128}$`) })

func (c *Config) defaults() error {
	if c.Server == "" {
		return errors.New("agent: a server URL is required")
	}
	if c.DataDir == "" {
		return errors.New("agent: a data dir is required")
	}
	if c.Driver == nil {
		return errors.New("agent: a runtime driver is required")
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return errors.New("agent: credentials are required (BERTH_ROOT_ACCESS_KEY_ID/BERTH_ROOT_SECRET_ACCESS_KEY or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
	}
	if c.Cluster == "" {
		c.Cluster = "default"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.AvailabilityZone == "" {
		c.AvailabilityZone = c.Region + "a"
	}
	if c.InstanceType == "" {
		c.InstanceType = "berth"
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 30 * time.Second
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 3 * time.Minute
	}
	if c.PullPolicy == "" {
		c.PullPolicy = driver.PullDefault
	}
	switch c.PullPolicy {
	case driver.PullDefault, driver.PullAlways, driver.PullOnce, driver.PullPreferCached:
	default:
		return fmt.Errorf("agent: image pull behavior %q: use default, always, once or prefer-cached", c.PullPolicy)
	}
	if c.ReservedPorts == nil {
		c.ReservedPorts = []int{22, 2375, 2376, 51678, 51679}
	}
	if c.TaskCleanupWait == 0 {
		c.TaskCleanupWait = 3 * time.Hour
	}
	for k := range c.Attributes {
		if !attrName().MatchString(k) {
			return fmt.Errorf("agent: attribute name %q is not valid", k)
		}
	}
	for _, s := range c.Subnets {
		if s == "" || !attrName().MatchString("berth.subnet."+s) || strings.ContainsAny(s, `/\`) {
			return fmt.Errorf("agent: subnet ID %q is not valid: use up to 115 letters, numbers, hyphens, underscores and periods", s)
		}
	}
	if c.TaskDNS != "" {
		ip, err := netip.ParseAddr(c.TaskDNS)
		if err != nil || !ip.Is4() {
			return fmt.Errorf("agent: task DNS server %q is not an IPv4 address", c.TaskDNS)
		}
		c.TaskDNS = ip.String()
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}
