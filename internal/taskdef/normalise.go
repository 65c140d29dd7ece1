package taskdef

import "berth.dev/berth/internal/shape"

// Health check defaults ECS fills in (startPeriod is left unset, as ECS does).
const (
	defaultHealthInterval = 30
	defaultHealthTimeout  = 5
	defaultHealthRetries  = 3
)

// normalise fills the defaults real ECS returns from DescribeTaskDefinition.
// It runs after validation and never changes a member the request set.
func (b *builder) normalise() {
	td := b.td
	if td.Volumes == nil {
		td.Volumes = []shape.Volume{}
	}
	if td.PlacementConstraints == nil {
		td.PlacementConstraints = []shape.TaskDefinitionPlacementConstraint{}
	}
	if td.EnableFaultInjection == nil {
		td.EnableFaultInjection = ptr(false)
	}
	mode := b.networkMode()
	for i := range td.ContainerDefinitions {
		normaliseContainer(&td.ContainerDefinitions[i], mode)
	}
}

func normaliseContainer(c *shape.ContainerDefinition, mode shape.NetworkMode) {
	if c.Essential == nil {
		c.Essential = ptr(true)
	}
	if c.PortMappings == nil {
		c.PortMappings = []shape.PortMapping{}
	}
	if c.Environment == nil {
		c.Environment = []shape.KeyValuePair{}
	}
	if c.MountPoints == nil {
		c.MountPoints = []shape.MountPoint{}
	}
	if c.VolumesFrom == nil {
		c.VolumesFrom = []shape.VolumeFrom{}
	}
	if c.SystemControls == nil {
		c.SystemControls = []shape.SystemControl{}
	}
	for i := range c.PortMappings {
		pm := &c.PortMappings[i]
		if pm.Protocol == "" {
			pm.Protocol = shape.TransportProtocolTcp
		}
		if pm.ContainerPort != nil {
			switch {
			case mode == shape.NetworkModeAwsvpc || mode == shape.NetworkModeHost:
				// Omitted or 0: ECS stores the container port.
				if pm.HostPort == nil || *pm.HostPort == 0 {
					pm.HostPort = ptr(*pm.ContainerPort)
				}
			case pm.HostPort == nil:
				pm.HostPort = ptr(int32(0))
			}
		}
	}
	if h := c.HealthCheck; h != nil {
		if h.Interval == nil {
			h.Interval = ptr(int32(defaultHealthInterval))
		}
		if h.Timeout == nil {
			h.Timeout = ptr(int32(defaultHealthTimeout))
		}
		if h.Retries == nil {
			h.Retries = ptr(int32(defaultHealthRetries))
		}
	}
	if lp := c.LinuxParameters; lp != nil && lp.Capabilities != nil {
		if lp.Capabilities.Add == nil {
			lp.Capabilities.Add = []string{}
		}
		if lp.Capabilities.Drop == nil {
			lp.Capabilities.Drop = []string{}
		}
	}
}
