package taskdef

import (
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// Container limits.
const (
	maxEnvironmentFiles = 10
	maxIgnoredExitCodes = 50
	maxCredentialSpecs  = 1
)

// checkContainers validates each container's own settings and the task-wide
// resource sums.
func (b *builder) checkContainers() *apierr.Error {
	var cpuSum, reservationSum int64
	for i := range b.td.ContainerDefinitions {
		c := &b.td.ContainerDefinitions[i]
		if err := b.checkResources(c); err != nil {
			return err
		}
		cpuSum += int64(c.Cpu)
		reservationSum += int64(deref(c.MemoryReservation))
		for _, check := range []func(*shape.ContainerDefinition) *apierr.Error{
			checkHealthCheck,
			checkEnvironment,
			checkSecrets,
			checkEnvironmentFiles,
			checkRestartPolicy,
			checkTimeouts,
			checkLogConfiguration,
			checkLinuxParameters,
			checkContainerMisc,
		} {
			if err := check(c); err != nil {
				return err
			}
		}
	}
	if b.td.Cpu != nil && cpuSum > b.cpu {
		return clientf("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.")
	}
	if b.td.Memory != nil && reservationSum > b.mem {
		return clientf("The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.")
	}
	return nil
}

// checkResources applies the cpu and memory rules of one container.
func (b *builder) checkResources(c *shape.ContainerDefinition) *apierr.Error {
	name := *c.Name
	switch {
	case c.Cpu < 0:
		return clientf("Invalid 'cpu' setting for container '%s'.", name)
	case c.Memory != nil && *c.Memory <= 0:
		return clientf("Invalid 'memory' setting for container '%s'.", name)
	case c.MemoryReservation != nil && *c.MemoryReservation <= 0:
		return clientf("Invalid 'memoryReservation' setting for container '%s'.", name)
	case b.td.Memory == nil && c.Memory == nil && c.MemoryReservation == nil:
		return inContainer(name, "At least one of 'memory' or 'memoryReservation' must be specified.")
	case c.Memory != nil && c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory:
		return inContainer(name, "'memoryReservation' must be less than or equal to 'memory'.")
	case b.td.Memory != nil && c.Memory != nil && int64(*c.Memory) > b.mem:
		return clientf("The 'memory' setting for container '%s' is greater than for the task.", name)
	}
	return nil
}

// healthRanges are the documented bounds of the health check timings.
var healthRanges = []struct {
	member string
	get    func(*shape.HealthCheck) *int32
	lo, hi int32
}{
	{"interval", func(h *shape.HealthCheck) *int32 { return h.Interval }, 5, 300},
	{"timeout", func(h *shape.HealthCheck) *int32 { return h.Timeout }, 2, 60},
	{"retries", func(h *shape.HealthCheck) *int32 { return h.Retries }, 1, 10},
	{"startPeriod", func(h *shape.HealthCheck) *int32 { return h.StartPeriod }, 0, 300},
}

func checkHealthCheck(c *shape.ContainerDefinition) *apierr.Error {
	h := c.HealthCheck
	if h == nil {
		return nil
	}
	if len(h.Command) == 0 {
		return inContainer(*c.Name, "healthCheck.command should not be null or empty.")
	}
	switch h.Command[0] {
	case "CMD", "CMD-SHELL", "NONE":
	default:
		return inContainer(*c.Name, "healthCheck.command must start with CMD, CMD-SHELL or NONE.")
	}
	for _, r := range healthRanges {
		if v := r.get(h); v != nil && (*v < r.lo || *v > r.hi) {
			return inContainer(*c.Name, "healthCheck.%s must be between %d and %d.", r.member, r.lo, r.hi)
		}
	}
	return nil
}

func checkEnvironment(c *shape.ContainerDefinition) *apierr.Error {
	for _, kv := range c.Environment {
		if deref(kv.Name) == "" {
			return inContainer(*c.Name, "Environment variable names should not be null or empty.")
		}
	}
	return nil
}

func checkSecrets(c *shape.ContainerDefinition) *apierr.Error {
	secrets := c.Secrets
	if c.LogConfiguration != nil {
		secrets = append(secrets[:len(secrets):len(secrets)], c.LogConfiguration.SecretOptions...)
	}
	for _, s := range secrets {
		if deref(s.Name) == "" {
			return inContainer(*c.Name, "Secret names should not be null or empty.")
		}
		if deref(s.ValueFrom) == "" {
			return inContainer(*c.Name, "Secret '%s' should have a non-empty valueFrom.", *s.Name)
		}
	}
	return nil
}

func checkEnvironmentFiles(c *shape.ContainerDefinition) *apierr.Error {
	if len(c.EnvironmentFiles) > maxEnvironmentFiles {
		return inContainer(*c.Name, "A container can have at most %d environment files.", maxEnvironmentFiles)
	}
	for _, f := range c.EnvironmentFiles {
		if deref(f.Value) == "" {
			return inContainer(*c.Name, "environmentFiles.value should not be null or empty.")
		}
	}
	return nil
}

func checkRestartPolicy(c *shape.ContainerDefinition) *apierr.Error {
	p := c.RestartPolicy
	switch {
	case p == nil:
		return nil
	case p.Enabled == nil:
		return inContainer(*c.Name, "restartPolicy.enabled should not be null.")
	case len(p.IgnoredExitCodes) > maxIgnoredExitCodes:
		return inContainer(*c.Name, "restartPolicy.ignoredExitCodes can contain at most %d exit codes.", maxIgnoredExitCodes)
	case p.RestartAttemptPeriod != nil && (*p.RestartAttemptPeriod < 60 || *p.RestartAttemptPeriod > 1800):
		return inContainer(*c.Name, "restartPolicy.restartAttemptPeriod must be between 60 and 1800 seconds.")
	}
	return nil
}

func checkTimeouts(c *shape.ContainerDefinition) *apierr.Error {
	if c.StartTimeout != nil && *c.StartTimeout < 0 {
		return inContainer(*c.Name, "'startTimeout' must not be negative.")
	}
	if c.StopTimeout != nil && *c.StopTimeout < 0 {
		return inContainer(*c.Name, "'stopTimeout' must not be negative.")
	}
	return nil
}

// awslogsRequired are the options the awslogs driver cannot do without, in the
// order ECS lists them.
var awslogsRequired = []string{"awslogs-region", "awslogs-group"}

func checkLogConfiguration(c *shape.ContainerDefinition) *apierr.Error {
	l := c.LogConfiguration
	if l == nil || l.LogDriver != shape.LogDriverAwslogs {
		return nil
	}
	var missing []string
	for _, o := range awslogsRequired {
		if l.Options[o] == "" {
			missing = append(missing, o)
		}
	}
	if len(missing) > 0 {
		return clientf("Log driver awslogs requires options: %s", strings.Join(missing, ", "))
	}
	return nil
}

func checkLinuxParameters(c *shape.ContainerDefinition) *apierr.Error {
	lp := c.LinuxParameters
	if lp == nil {
		return nil
	}
	name := *c.Name
	switch {
	case lp.Swappiness != nil && (*lp.Swappiness < 0 || *lp.Swappiness > 100):
		return inContainer(name, "linuxParameters.swappiness must be between 0 and 100.")
	case lp.MaxSwap != nil && *lp.MaxSwap < 0:
		return inContainer(name, "linuxParameters.maxSwap must not be negative.")
	case lp.SharedMemorySize != nil && *lp.SharedMemorySize <= 0:
		return inContainer(name, "linuxParameters.sharedMemorySize must be greater than 0.")
	}
	for _, d := range lp.Devices {
		if deref(d.HostPath) == "" {
			return inContainer(name, "linuxParameters.devices.hostPath should not be null or empty.")
		}
	}
	for _, t := range lp.Tmpfs {
		if deref(t.ContainerPath) == "" {
			return inContainer(name, "linuxParameters.tmpfs.containerPath should not be null or empty.")
		}
		if t.Size <= 0 {
			return inContainer(name, "linuxParameters.tmpfs.size must be greater than 0.")
		}
	}
	return nil
}

// checkContainerMisc covers the remaining per-container members.
func checkContainerMisc(c *shape.ContainerDefinition) *apierr.Error {
	name := *c.Name
	if len(c.CredentialSpecs) > maxCredentialSpecs {
		return inContainer(name, "credentialSpecs can contain at most %d entry.", maxCredentialSpecs)
	}
	for _, r := range c.ResourceRequirements {
		if deref(r.Value) == "" {
			return inContainer(name, "resourceRequirements.value should not be null or empty.")
		}
	}
	if rc := c.RepositoryCredentials; rc != nil && deref(rc.CredentialsParameter) == "" {
		return inContainer(name, "repositoryCredentials.credentialsParameter should not be null or empty.")
	}
	return nil
}
