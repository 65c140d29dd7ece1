package ecsapi

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// This file refuses request members berth does not honour yet, at the call
// that sets them, so that nothing is accepted and then silently ignored.
// A member is refused only when it asks for something (a non-empty list,
// true, a non-default value): the defaults that tools such as Terraform
// send, and the empty lists DescribeTaskDefinition returns, are accepted.
// Every member of every request berth serves is classified in
// testdata/fields.txt; fields_test.go keeps that list complete and sends
// each refused member through the handler.

// errUnsupportedMember is the refusal of member, written as its path on the
// wire within the request ("containerDefinitions[].links").
func errUnsupportedMember(member string) error {
	return apierr.Newf(apierr.UnsupportedFeature, "berth does not support %s yet.", member)
}

// refuse turns the path of an unsupported member ("" for none) into its
// refusal.
func refuse(member string) error {
	if member == "" {
		return nil
	}
	return errUnsupportedMember(member)
}

func isTrue(b *bool) bool { return b != nil && *b }

// unsupportedTaskDefinitionMember names the first member of a
// RegisterTaskDefinition request berth would not honour.
func unsupportedTaskDefinitionMember(in *shape.RegisterTaskDefinitionRequest) string {
	for i := range in.ContainerDefinitions {
		if m := unsupportedContainerMember(&in.ContainerDefinitions[i]); m != "" {
			return "containerDefinitions[]." + m
		}
	}
	for i := range in.Volumes {
		if m := unsupportedVolumeMember(&in.Volumes[i]); m != "" {
			return "volumes[]." + m
		}
	}
	switch {
	case isTrue(in.EnableFaultInjection):
		return "enableFaultInjection"
	case len(in.InferenceAccelerators) > 0:
		return "inferenceAccelerators"
	case in.IpcMode != "":
		return "ipcMode"
	case in.PidMode != "":
		return "pidMode"
	case in.ProxyConfiguration != nil:
		return "proxyConfiguration"
	}
	return ""
}

// unsupportedContainerMember names the first member of a container
// definition berth would not honour.
func unsupportedContainerMember(cd *shape.ContainerDefinition) string {
	for _, pm := range cd.PortMappings {
		if pm.ContainerPortRange != nil {
			return "portMappings[].containerPortRange"
		}
	}
	if lp := cd.LinuxParameters; lp != nil {
		switch {
		case lp.MaxSwap != nil:
			return "linuxParameters.maxSwap"
		case lp.Swappiness != nil:
			return "linuxParameters.swappiness"
		}
	}
	switch {
	case len(cd.CredentialSpecs) > 0:
		return "credentialSpecs"
	case isTrue(cd.DisableNetworking):
		return "disableNetworking"
	case len(cd.EnvironmentFiles) > 0:
		return "environmentFiles"
	case cd.FirelensConfiguration != nil:
		return "firelensConfiguration"
	case isTrue(cd.Interactive):
		return "interactive"
	case len(cd.Links) > 0:
		return "links"
	case isTrue(cd.PseudoTerminal):
		return "pseudoTerminal"
	case cd.RepositoryCredentials != nil:
		return "repositoryCredentials"
	case len(cd.ResourceRequirements) > 0:
		return "resourceRequirements"
	case cd.RestartPolicy != nil && isTrue(cd.RestartPolicy.Enabled):
		return "restartPolicy.enabled"
	}
	return ""
}

// unsupportedVolumeMember names the first member of a task definition
// volume berth would not honour: berth binds host paths and directories it
// keeps itself (see the agent's mounts), nothing else.
func unsupportedVolumeMember(v *shape.Volume) string {
	switch {
	case isTrue(v.ConfiguredAtLaunch):
		return "configuredAtLaunch"
	case v.EfsVolumeConfiguration != nil:
		return "efsVolumeConfiguration"
	case v.FsxWindowsFileServerVolumeConfiguration != nil:
		return "fsxWindowsFileServerVolumeConfiguration"
	case v.S3filesVolumeConfiguration != nil:
		return "s3filesVolumeConfiguration"
	}
	if dv := v.DockerVolumeConfiguration; dv != nil {
		switch {
		case dv.Driver != nil && *dv.Driver != "local":
			return "dockerVolumeConfiguration.driver"
		case len(dv.DriverOpts) > 0:
			return "dockerVolumeConfiguration.driverOpts"
		case len(dv.Labels) > 0:
			return "dockerVolumeConfiguration.labels"
		}
	}
	return ""
}

// unsupportedOverrideMember names the first member of a RunTask or
// StartTask overrides berth would not honour.
func unsupportedOverrideMember(ov *shape.TaskOverride) string {
	if ov == nil {
		return ""
	}
	for _, co := range ov.ContainerOverrides {
		switch {
		case len(co.EnvironmentFiles) > 0:
			return "overrides.containerOverrides[].environmentFiles"
		case len(co.ResourceRequirements) > 0:
			return "overrides.containerOverrides[].resourceRequirements"
		}
	}
	switch {
	case ov.EphemeralStorage != nil:
		return "overrides.ephemeralStorage"
	case len(ov.InferenceAcceleratorOverrides) > 0:
		return "overrides.inferenceAcceleratorOverrides"
	}
	return ""
}

// unsupportedRunMember names the first member RunTask and StartTask share
// that berth would not honour.
func unsupportedRunMember(overrides *shape.TaskOverride, volumes []shape.TaskVolumeConfiguration, referenceID *string) string {
	switch {
	case len(volumes) > 0:
		return "volumeConfigurations"
	case referenceID != nil:
		return "referenceId"
	}
	return unsupportedOverrideMember(overrides)
}

// unsupportedDeploymentMember names the first member of a service's
// deploymentConfiguration berth would not honour (alarms and strategy are
// checked by deploymentConfig).
func unsupportedDeploymentMember(dc *shape.DeploymentConfiguration) string {
	if dc == nil {
		return ""
	}
	if cb := dc.DeploymentCircuitBreaker; cb != nil {
		switch {
		case cb.ResetOnHealthyTask != nil && !*cb.ResetOnHealthyTask:
			return "deploymentConfiguration.deploymentCircuitBreaker.resetOnHealthyTask"
		case cb.ThresholdConfiguration != nil:
			return "deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration"
		}
	}
	switch {
	case dc.BakeTimeInMinutes != nil && *dc.BakeTimeInMinutes != 0:
		return "deploymentConfiguration.bakeTimeInMinutes"
	case dc.CanaryConfiguration != nil && (dc.CanaryConfiguration.CanaryPercent != nil || dc.CanaryConfiguration.CanaryBakeTimeInMinutes != nil):
		return "deploymentConfiguration.canaryConfiguration"
	case dc.LinearConfiguration != nil && (dc.LinearConfiguration.StepPercent != nil || dc.LinearConfiguration.StepBakeTimeInMinutes != nil):
		return "deploymentConfiguration.linearConfiguration"
	case len(dc.LifecycleHooks) > 0:
		return "deploymentConfiguration.lifecycleHooks"
	case dc.EarlySuccessCriteria != nil && dc.EarlySuccessCriteria.Enable:
		return "deploymentConfiguration.earlySuccessCriteria.enable"
	}
	return ""
}

// unsupportedServiceMember names the first member CreateService and
// UpdateService share that berth would not honour, beyond those
// unsupportedServiceMembers refuses.
func unsupportedServiceMember(dc *shape.DeploymentConfiguration, rebalancing shape.AvailabilityZoneRebalancing,
	monitoring *shape.MonitoringConfiguration) string {
	switch {
	case rebalancing == shape.AvailabilityZoneRebalancingEnabled:
		return "availabilityZoneRebalancing"
	case monitoring != nil && len(monitoring.MetricConfigurations) > 0:
		return "monitoring"
	}
	return unsupportedDeploymentMember(dc)
}
