package taskdef

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"berth.dev/berth/internal/shape"
)

// Attribute names. The com.amazonaws.ecs.capability.* and ecs.capability.*
// names are the ones the container agent registers (see doc.go).
const (
	capPrefix      = "com.amazonaws.ecs.capability."
	ecsCapPrefix   = "ecs.capability."
	dockerAPI      = capPrefix + "docker-remote-api."
	attrECRAuth    = capPrefix + "ecr-auth"
	attrTaskRole   = capPrefix + "task-iam-role"
	attrTaskRoleHN = capPrefix + "task-iam-role-network-host"
	attrPrivileged = capPrefix + "privileged-container"
	attrLogging    = capPrefix + "logging-driver."
	attrTaskENI    = ecsCapPrefix + "task-eni"
	attrECRPull    = ecsCapPrefix + "execution-role-ecr-pull"
	attrAwslogsER  = ecsCapPrefix + "execution-role-awslogs"
	attrHealth     = ecsCapPrefix + "container-health-check"
	attrOrdering   = ecsCapPrefix + "container-ordering"
	attrEFS        = ecsCapPrefix + "efs"
	attrEFSAuth    = ecsCapPrefix + "efsAuth"
	attrEnvFiles   = ecsCapPrefix + "env-files.s3"
	attrSecretsASM = ecsCapPrefix + "secrets.asm.environment-variables"
	attrSecretsSSM = ecsCapPrefix + "secrets.ssm.environment-variables"
	attrLogASM     = ecsCapPrefix + "secrets.asm.bootstrap.log-driver"
	attrLogSSM     = ecsCapPrefix + "secrets.ssm.bootstrap.log-driver"
	attrPrivReg    = ecsCapPrefix + "private-registry-authentication.secretsmanager"
	attrDockerPlug = ecsCapPrefix + "docker-plugin."
	attrFSx        = ecsCapPrefix + "fsxWindowsFileServer"
	attrPidIpc     = ecsCapPrefix + "pid-ipc-namespace-sharing"
	attrAppMesh    = ecsCapPrefix + "aws-appmesh"
	attrEIA        = ecsCapPrefix + "task-eia"
	attrFirelens   = ecsCapPrefix + "firelens."
	attrFirelensCf = ecsCapPrefix + "firelens.options.config."
)

// ecrImageRE matches an image hosted in a private Amazon ECR registry.
var ecrImageRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/`)
})

// requiredAttributes derives requiresAttributes from the features the
// definition uses; the mapping is documented in doc.go. The result is sorted by
// name (ECS's own order is not meaningful) and nil when nothing is required, as
// ECS then omits the member.
func requiredAttributes(td *shape.TaskDefinition) []shape.Attribute {
	set := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			set[n] = true
		}
	}
	execRole := deref(td.ExecutionRoleArn) != ""
	if td.NetworkMode == shape.NetworkModeAwsvpc {
		add(attrTaskENI, dockerAPI+"1.18")
	}
	if deref(td.TaskRoleArn) != "" {
		add(attrTaskRole)
		if td.NetworkMode == shape.NetworkModeHost {
			add(attrTaskRoleHN)
		}
	}
	if td.PidMode != "" || td.IpcMode != "" {
		add(attrPidIpc)
	}
	if td.ProxyConfiguration != nil {
		add(attrAppMesh)
	}
	if len(td.InferenceAccelerators) > 0 {
		add(attrEIA)
	}
	for _, v := range td.Volumes {
		if v.EfsVolumeConfiguration != nil {
			add(attrEFS, attrEFSAuth, dockerAPI+"1.25")
		}
		if d := v.DockerVolumeConfiguration; d != nil {
			add(dockerAPI + "1.25")
			if deref(d.Driver) != "" {
				add(attrDockerPlug + *d.Driver)
			}
		}
		if v.FsxWindowsFileServerVolumeConfiguration != nil {
			add(attrFSx)
		}
	}
	for i := range td.ContainerDefinitions {
		containerAttributes(&td.ContainerDefinitions[i], execRole, add)
	}
	if len(set) == 0 {
		return nil
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]shape.Attribute, len(names))
	for i, n := range names {
		out[i] = shape.Attribute{Name: ptr(n)}
	}
	return out
}

func containerAttributes(c *shape.ContainerDefinition, execRole bool, add func(...string)) {
	if ecrImageRE().MatchString(deref(c.Image)) {
		add(attrECRAuth)
		if execRole {
			add(attrECRPull)
		}
	}
	if c.Links != nil {
		add(dockerAPI + "1.17")
	}
	if len(c.DockerLabels) > 0 || len(c.Ulimits) > 0 {
		add(dockerAPI + "1.18")
	}
	if deref(c.Privileged) {
		add(attrPrivileged)
	}
	if h := c.HealthCheck; h != nil {
		add(attrHealth)
		if h.StartPeriod != nil {
			add(dockerAPI + "1.29")
		}
	}
	if len(c.DependsOn) > 0 || c.StartTimeout != nil || c.StopTimeout != nil {
		add(attrOrdering)
	}
	if len(c.EnvironmentFiles) > 0 {
		add(attrEnvFiles)
	}
	for _, s := range c.Secrets {
		add(dockerAPI+"1.21", secretAttribute(s, attrSecretsASM, attrSecretsSSM))
	}
	if c.RepositoryCredentials != nil {
		add(attrPrivReg)
	}
	if lp := c.LinuxParameters; lp != nil && deref(lp.InitProcessEnabled) {
		add(dockerAPI + "1.25")
	}
	if f := c.FirelensConfiguration; f != nil {
		add(attrFirelens + string(f.Type))
		if t := f.Options["config-file-type"]; t != "" {
			add(attrFirelensCf + t)
		}
	}
	l := c.LogConfiguration
	if l == nil {
		return
	}
	add(attrLogging+string(l.LogDriver), dockerAPI+"1.19")
	if l.LogDriver == shape.LogDriverAwslogs && execRole {
		add(attrAwslogsER)
	}
	if _, ok := l.Options["awslogs-create-group"]; ok {
		add(dockerAPI + "1.29")
	}
	if _, ok := l.Options["mode"]; ok {
		add(dockerAPI + "1.28")
	}
	for _, s := range l.SecretOptions {
		add(secretAttribute(s, attrLogASM, attrLogSSM))
	}
}

// secretAttribute picks the Secrets Manager or the Parameter Store attribute
// for a secret reference.
func secretAttribute(s shape.Secret, asm, ssm string) string {
	if strings.Contains(deref(s.ValueFrom), ":secretsmanager:") {
		return asm
	}
	return ssm
}
