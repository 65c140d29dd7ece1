package taskdef

import (
	"slices"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// Fargate limits.
const (
	fargateMinTimeout = 2
	fargateMaxTimeout = 120
	minWindowsCPU     = 1024
)

// fargateLogDrivers are the log drivers Fargate supports.
var fargateLogDrivers = []shape.LogDriver{shape.LogDriverAwslogs, shape.LogDriverSplunk, shape.LogDriverAwsfirelens}

// compatibilities lists the launch types the definition is valid for, in the
// order ECS returns them (EXTERNAL before EC2, EC2 before FARGATE and
// MANAGED_INSTANCES). EC2 is always present: a definition that passed
// validation satisfies the EC2 rules.
func (b *builder) compatibilities() []shape.Compatibility {
	var out []shape.Compatibility
	if b.externalProblem() == nil {
		out = append(out, shape.CompatibilityExternal)
	}
	out = append(out, shape.CompatibilityEc2)
	if b.fargateProblem() == nil {
		out = append(out, shape.CompatibilityFargate)
	}
	if b.managedInstancesProblem() == nil {
		out = append(out, shape.CompatibilityManagedInstances)
	}
	return out
}

func (b *builder) windows() bool {
	rp := b.td.RuntimePlatform
	return rp != nil && strings.HasPrefix(string(rp.OperatingSystemFamily), "WINDOWS")
}

// fargateProblem returns the first reason the definition cannot run on
// Fargate, or nil.
func (b *builder) fargateProblem() *apierr.Error {
	td := b.td
	switch {
	case td.NetworkMode != shape.NetworkModeAwsvpc:
		return clientf("Fargate only supports network mode \u2018awsvpc\u2019.")
	case td.Cpu == nil:
		return clientf("Fargate requires that 'cpu' be defined at the task level.")
	case td.Memory == nil:
		return clientf("Fargate requires that 'memory' be defined at the task level.")
	case !validFargateSize(b.cpu, b.mem) || (b.windows() && b.cpu < minWindowsCPU):
		return clientf("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", b.cpu, b.mem)
	case td.IpcMode != "":
		return clientf("Tasks using the Fargate launch type do not support ipcMode.")
	case td.PidMode == shape.PidModeHost:
		return clientf("Tasks using the Fargate launch type do not support pidMode 'host'.")
	case len(td.PlacementConstraints) > 0:
		return clientf("Tasks using the Fargate launch type do not support placement constraints.")
	case len(td.InferenceAccelerators) > 0:
		return fargateUnsupported("inferenceAccelerators")
	}
	for _, v := range td.Volumes {
		if v.Host != nil && deref(v.Host.SourcePath) != "" {
			return fargateUnsupported("sourcePath")
		}
		if v.DockerVolumeConfiguration != nil {
			return fargateUnsupported("dockerVolumeConfiguration")
		}
	}
	for i := range td.ContainerDefinitions {
		if err := b.fargateContainerProblem(&td.ContainerDefinitions[i]); err != nil {
			return err
		}
	}
	return nil
}

// fargateUnsupported is ECS's message for a member Fargate does not support,
// verified for sourcePath.
func fargateUnsupported(member string) *apierr.Error {
	return clientf("Fargate compatible task definitions do not support %s", member)
}

func (b *builder) fargateContainerProblem(c *shape.ContainerDefinition) *apierr.Error {
	if ecrImageRE().MatchString(deref(c.Image)) && deref(b.td.ExecutionRoleArn) == "" {
		return clientf("Fargate requires task definition to have execution role ARN to support ECR images.")
	}
	if deref(c.Privileged) {
		return fargateUnsupported("privileged")
	}
	if len(c.DockerSecurityOptions) > 0 {
		return fargateUnsupported("dockerSecurityOptions")
	}
	if lp := c.LinuxParameters; lp != nil {
		switch {
		case len(lp.Devices) > 0:
			return fargateUnsupported("devices")
		case lp.SharedMemorySize != nil:
			return fargateUnsupported("sharedMemorySize")
		case len(lp.Tmpfs) > 0:
			return fargateUnsupported("tmpfs")
		case lp.MaxSwap != nil:
			return fargateUnsupported("maxSwap")
		case lp.Swappiness != nil:
			return fargateUnsupported("swappiness")
		}
		if caps := lp.Capabilities; caps != nil {
			for _, a := range caps.Add {
				if a != "SYS_PTRACE" {
					return clientf("Fargate compatible task definitions only support adding the SYS_PTRACE capability. Container '%s' adds %s.", *c.Name, a)
				}
			}
		}
	}
	if l := c.LogConfiguration; l != nil {
		if !slices.Contains(fargateLogDrivers, l.LogDriver) {
			return invalidEnum("log driver", l.LogDriver, fargateLogDrivers)
		}
		if l.LogDriver == shape.LogDriverAwslogs && deref(b.td.ExecutionRoleArn) == "" {
			return clientf("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
		}
		if l.LogDriver == shape.LogDriverAwslogs && l.Options["awslogs-stream-prefix"] == "" {
			// On Fargate there is no container ID to name the stream after.
			return clientf("Fargate requires log configuration options to include awslogs-stream-prefix to support log driver awslogs.")
		}
	}
	for _, r := range c.ResourceRequirements {
		if r.Type == shape.ResourceTypeGpu {
			return fargateUnsupported("GPU resource requirements")
		}
	}
	for _, t := range []struct {
		member string
		v      *int32
	}{{"startTimeout", c.StartTimeout}, {"stopTimeout", c.StopTimeout}} {
		if t.v != nil && (*t.v < fargateMinTimeout || *t.v > fargateMaxTimeout) {
			return clientf("Tasks using the Fargate launch type must have a container %s between %d and %d seconds.", t.member, fargateMinTimeout, fargateMaxTimeout)
		}
	}
	return nil
}

// externalProblem returns the first reason the definition cannot run on
// external (ECS Anywhere) instances, or nil.
func (b *builder) externalProblem() *apierr.Error {
	if b.td.NetworkMode == shape.NetworkModeAwsvpc {
		return clientf("Tasks using the EXTERNAL launch type do not support network mode 'awsvpc'.")
	}
	if len(b.td.InferenceAccelerators) > 0 {
		return clientf("Tasks using the EXTERNAL launch type do not support inferenceAccelerators.")
	}
	for _, v := range b.td.Volumes {
		switch {
		case v.EfsVolumeConfiguration != nil:
			return clientf("Tasks using the EXTERNAL launch type do not support efsVolumeConfiguration.")
		case v.FsxWindowsFileServerVolumeConfiguration != nil:
			return clientf("Tasks using the EXTERNAL launch type do not support fsxWindowsFileServerVolumeConfiguration.")
		case deref(v.ConfiguredAtLaunch):
			return clientf("Tasks using the EXTERNAL launch type do not support volumes configured at launch.")
		}
	}
	return nil
}

// managedInstancesProblem returns the first reason the definition cannot run
// on ECS Managed Instances, or nil. They need an explicit awsvpc or host
// network mode and run Linux.
func (b *builder) managedInstancesProblem() *apierr.Error {
	switch {
	case b.td.NetworkMode != shape.NetworkModeAwsvpc && b.td.NetworkMode != shape.NetworkModeHost:
		return clientf("Tasks using the MANAGED_INSTANCES launch type must use network mode 'awsvpc' or 'host'.")
	case b.windows():
		return clientf("Tasks using the MANAGED_INSTANCES launch type do not support Windows.")
	}
	return nil
}
