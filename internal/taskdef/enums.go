package taskdef

import (
	"slices"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

type enum[E any] interface {
	~string
	Values() []E
}

// optional checks an enum member that may be omitted.
func optional[E enum[E]](what string, v E) *apierr.Error {
	if v == "" || slices.Contains(v.Values(), v) {
		return nil
	}
	return invalidEnum(what, v, v.Values())
}

// required checks an enum member that must be set; member names it in the
// message for a missing value.
func required[E enum[E]](member, what string, v E) *apierr.Error {
	if v == "" {
		return clientf("%s should not be null or empty.", member)
	}
	return optional(what, v)
}

// checkEnums verifies that every enum-typed member holds one of its values.
func (b *builder) checkEnums() *apierr.Error {
	td := b.td
	errs := []*apierr.Error{
		optional("network mode", td.NetworkMode),
		optional("ipc mode", td.IpcMode),
		optional("pid mode", td.PidMode),
	}
	for _, c := range td.RequiresCompatibilities {
		errs = append(errs, required("requiresCompatibilities", "compatibility", c))
	}
	if p := td.ProxyConfiguration; p != nil {
		errs = append(errs, optional("proxy configuration type", p.Type))
	}
	if r := td.RuntimePlatform; r != nil {
		errs = append(errs,
			optional("cpu architecture", r.CpuArchitecture),
			optional("operating system family", r.OperatingSystemFamily))
	}
	for _, p := range td.PlacementConstraints {
		errs = append(errs, required("placementConstraints.type", "placement constraint type", p.Type))
	}
	for _, v := range td.Volumes {
		if d := v.DockerVolumeConfiguration; d != nil {
			errs = append(errs, optional("docker volume scope", d.Scope))
		}
		if e := v.EfsVolumeConfiguration; e != nil {
			errs = append(errs, optional("transit encryption setting", e.TransitEncryption))
			if a := e.AuthorizationConfig; a != nil {
				errs = append(errs, optional("IAM authorization setting", a.Iam))
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for i := range td.ContainerDefinitions {
		if err := containerEnums(&td.ContainerDefinitions[i]); err != nil {
			return err
		}
	}
	return nil
}

func containerEnums(c *shape.ContainerDefinition) *apierr.Error {
	errs := []*apierr.Error{optional("version consistency setting", c.VersionConsistency)}
	if l := c.LogConfiguration; l != nil {
		errs = append(errs, required("logConfiguration.logDriver", "log driver", l.LogDriver))
	}
	if f := c.FirelensConfiguration; f != nil {
		errs = append(errs, required("firelensConfiguration.type", "firelens configuration type", f.Type))
	}
	for _, p := range c.PortMappings {
		errs = append(errs,
			optional("port mapping protocol", p.Protocol),
			optional("application protocol", p.AppProtocol))
	}
	for _, d := range c.DependsOn {
		errs = append(errs, required("dependsOn.condition", "container dependency condition", d.Condition))
	}
	for _, u := range c.Ulimits {
		errs = append(errs, required("ulimits.name", "ulimit name", u.Name))
	}
	for _, r := range c.ResourceRequirements {
		errs = append(errs, required("resourceRequirements.type", "resource requirement type", r.Type))
	}
	for _, f := range c.EnvironmentFiles {
		errs = append(errs, required("environmentFiles.type", "environment file type", f.Type))
	}
	if lp := c.LinuxParameters; lp != nil {
		for _, d := range lp.Devices {
			for _, p := range d.Permissions {
				errs = append(errs, required("devices.permissions", "device permission", p))
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
