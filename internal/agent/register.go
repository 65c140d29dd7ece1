package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/version"
)

// registrar registers container instances (the ECS API).
type registrar interface {
	RegisterContainerInstance(ctx context.Context, in *ecs.RegisterContainerInstanceInput, opts ...func(*ecs.Options)) (*ecs.RegisterContainerInstanceOutput, error)
	CreateCluster(ctx context.Context, in *ecs.CreateClusterInput, opts ...func(*ecs.Options)) (*ecs.CreateClusterOutput, error)
}

// capabilities are the ECS capability attributes this agent honours. Task
// definitions whose requiresAttributes name others (awsvpc task ENIs
// without a task network, logConfiguration.secretOptions — the
// secrets.*.bootstrap.log-driver attributes —, EFS, FireLens, App Mesh,
// ...) are not placed here.
func (a *Agent) capabilities() []string {
	caps := []string{
		"ecs.capability.container-health-check",
		"ecs.capability.container-ordering",
		"ecs.capability.execution-role-awslogs",
		"ecs.capability.execution-role-ecr-pull",
		// containerDefinitions[].secrets, fetched from the server as the
		// task starts (secrets.go).
		"ecs.capability.secrets.asm.environment-variables",
		"ecs.capability.secrets.ssm.environment-variables",
		"com.amazonaws.ecs.capability.ecr-auth",
		"com.amazonaws.ecs.capability.task-iam-role",
		"com.amazonaws.ecs.capability.task-iam-role-network-host",
		// Logs are kept by the runtime whatever the driver (docs/runtimes.md);
		// awslogs output is also shipped to the server's log store (awslogs.go).
		"com.amazonaws.ecs.capability.logging-driver.json-file",
		"com.amazonaws.ecs.capability.logging-driver.awslogs",
		"com.amazonaws.ecs.capability.logging-driver.none",
	}
	for minor := 17; minor <= 44; minor++ {
		caps = append(caps, "com.amazonaws.ecs.capability.docker-remote-api.1."+strconv.Itoa(minor))
	}
	if !a.cfg.DisablePrivileged {
		caps = append(caps, "com.amazonaws.ecs.capability.privileged-container")
	}
	if a.awsvpc() {
		caps = append(caps, "ecs.capability.task-eni")
	}
	if a.taskLimitsEnforced() {
		caps = append(caps, capTaskLimits)
	}
	return caps
}

// registration builds the RegisterContainerInstance input: the host's real
// resources, ECS's built-in attributes, the capabilities and the custom
// attributes.
func (a *Agent) registration(previous string) (*ecs.RegisterContainerInstanceInput, error) {
	mem, err := hostMemoryMiB()
	if err != nil {
		return nil, err
	}
	mem -= a.cfg.ReservedMemoryMiB
	if mem <= 0 {
		return nil, fmt.Errorf("reserved memory %d MiB leaves nothing of the host's memory", a.cfg.ReservedMemoryMiB)
	}
	ports := make([]string, 0, len(a.cfg.ReservedPorts))
	for _, p := range a.cfg.ReservedPorts {
		ports = append(ports, strconv.Itoa(p))
	}
	doc, _ := json.Marshal(map[string]string{
		"instanceId":       a.instanceID,
		"availabilityZone": a.cfg.AvailabilityZone,
		"instanceType":     a.cfg.InstanceType,
		"region":           a.cfg.Region,
	})
	attrs := []types.Attribute{
		{Name: aws.String("ecs.os-type"), Value: aws.String("linux")},
		{Name: aws.String("ecs.os-family"), Value: aws.String("LINUX")},
		{Name: aws.String("ecs.cpu-architecture"), Value: aws.String(cpuArchitecture())},
		{Name: aws.String("ecs.availability-zone"), Value: aws.String(a.cfg.AvailabilityZone)},
		{Name: aws.String("ecs.instance-type"), Value: aws.String(a.cfg.InstanceType)},
		{Name: aws.String("berth.runtime"), Value: aws.String(a.cfg.Driver.Name())},
	}
	for _, c := range a.capabilities() {
		attrs = append(attrs, types.Attribute{Name: aws.String(c)})
	}
	if a.cfg.HostAddress != "" {
		attrs = append(attrs, types.Attribute{Name: aws.String("berth.host-address"), Value: aws.String(a.cfg.HostAddress)})
	}
	if a.awsvpc() && len(a.cfg.Subnets) > 0 {
		attrs = append(attrs, types.Attribute{Name: aws.String("berth.subnets"), Value: aws.String(strconv.Itoa(len(a.cfg.Subnets)))})
		for _, s := range a.cfg.Subnets {
			attrs = append(attrs, types.Attribute{Name: aws.String("berth.subnet." + s)})
		}
	}
	names := make([]string, 0, len(a.cfg.Attributes))
	for k := range a.cfg.Attributes {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		attrs = append(attrs, types.Attribute{Name: aws.String(k), Value: aws.String(a.cfg.Attributes[k])})
	}
	in := &ecs.RegisterContainerInstanceInput{
		Cluster:                  aws.String(a.cfg.Cluster),
		InstanceIdentityDocument: aws.String(string(doc)),
		TotalResources: []types.Resource{
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: int32(runtime.NumCPU() * 1024)},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: int32(mem)},
			{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: ports},
			{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: []string{}},
		},
		VersionInfo: &types.VersionInfo{
			AgentVersion:  aws.String(version.String()),
			AgentHash:     aws.String("berth-" + a.cfg.Driver.Name()),
			DockerVersion: aws.String(a.runtimeVersion),
		},
		Attributes: attrs,
	}
	if previous != "" {
		in.ContainerInstanceArn = aws.String(previous)
	}
	return in, nil
}

// register registers this host, creating the default cluster when it is
// missing (as the ECS agent does), and re-registering as a new instance
// when the previous registration is gone.
func (a *Agent) register(ctx context.Context) error {
	saved := a.store.instance()
	previous := saved.ContainerInstanceArn
	if saved.Cluster != "" && saved.Cluster != a.cfg.Cluster {
		previous = "" // moved to another cluster: a new instance there
	}
	for attempt := 0; ; attempt++ {
		in, err := a.registration(previous)
		if err != nil {
			return err
		}
		out, err := a.srv.RegisterContainerInstance(ctx, in)
		var api smithy.APIError
		switch {
		case err == nil:
			arn := aws.ToString(out.ContainerInstance.ContainerInstanceArn)
			a.mu.Lock()
			a.instanceArn = arn
			a.mu.Unlock()
			if previous != "" && arn != previous {
				a.log.Warn("registered as a new container instance", "previous", previous, "arn", arn)
			}
			return a.store.setInstance(func(s *instanceState) {
				s.Cluster = a.cfg.Cluster
				s.ContainerInstanceArn = arn
			})
		case attempt < 3 && errors.As(err, &api) && api.ErrorCode() == "ClientException" && strings.Contains(api.ErrorMessage(), "Cluster not found") && a.cfg.Cluster == "default":
			if _, err := a.srv.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("default")}); err != nil {
				return fmt.Errorf("create the default cluster: %w", err)
			}
		case attempt < 3 && previous != "" && errors.As(err, &api) && (api.ErrorCode() == "ClientException" || api.ErrorCode() == "InvalidParameterException"):
			a.log.Warn("previous registration is gone; registering as a new container instance", "previous", previous, "err", api.ErrorMessage())
			previous = ""
		default:
			return fmt.Errorf("register container instance in cluster %s: %w", a.cfg.Cluster, err)
		}
	}
}
