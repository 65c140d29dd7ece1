package taskdef

import (
	"regexp"
	"strconv"
	"sync"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// Port limits.
const (
	maxPort                   = 65535
	maxPortRangesPerContainer = 100
	maxPortNameLen            = 64
)

// portNameRE is the alphabet of a port mapping name (Service Connect).
var portNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_][a-z0-9_-]*$`) })

// checkNetwork applies the network mode rules to every container: port
// mappings, links, hostname and extraHosts.
func (b *builder) checkNetwork() *apierr.Error {
	mode := b.networkMode()
	portNames := map[string]bool{}
	// shared holds the ports bound in the task's shared network namespace
	// (awsvpc and host), keyed by protocol/port.
	shared := map[string]bool{}
	for i := range b.td.ContainerDefinitions {
		c := &b.td.ContainerDefinitions[i]
		name := *c.Name
		if len(c.Links) > 0 && mode != shape.NetworkModeBridge {
			return clientf("links are not supported on container when networkMode=%s.", mode)
		}
		if mode == shape.NetworkModeAwsvpc {
			if c.Hostname != nil {
				return clientf("hostname is not supported on container when networkMode=awsvpc.")
			}
			if len(c.ExtraHosts) > 0 {
				return clientf("extraHosts is not supported on container when networkMode=awsvpc.")
			}
		}
		if len(c.PortMappings) > 0 && mode == shape.NetworkModeNone {
			return clientf("Port mappings are not supported on container when networkMode=none.")
		}
		if err := checkPortMappings(name, mode, c.PortMappings, portNames, shared); err != nil {
			return err
		}
	}
	return nil
}

// portSpan is an inclusive range of container ports for one protocol.
type portSpan struct {
	proto    shape.TransportProtocol
	lo, hi   int32
	isRanged bool
}

func checkPortMappings(name string, mode shape.NetworkMode, pms []shape.PortMapping, portNames, shared map[string]bool) *apierr.Error {
	var spans []portSpan
	ranges := 0
	for _, pm := range pms {
		proto := pm.Protocol
		if proto == "" {
			proto = shape.TransportProtocolTcp
		}
		if pm.Name != nil {
			n := *pm.Name
			if len(n) > maxPortNameLen || !portNameRE().MatchString(n) {
				return inContainer(name, "Port mapping name '%s' is invalid. It can have up to %d lowercase letters, numbers, underscores and hyphens, and cannot start with a hyphen.", n, maxPortNameLen)
			}
			if portNames[n] {
				return clientf("Port mapping names must be unique within a task definition. '%s' is used more than once.", n)
			}
			portNames[n] = true
		}
		if pm.HostPort != nil && (*pm.HostPort < 0 || *pm.HostPort > maxPort) {
			return inContainer(name, "hostPort must be between 0 and %d.", maxPort)
		}
		var s portSpan
		switch {
		case pm.ContainerPort == nil && pm.ContainerPortRange == nil:
			return inContainer(name, "A port mapping must specify a containerPort or a containerPortRange.")
		case pm.ContainerPort != nil && pm.ContainerPortRange != nil:
			return inContainer(name, "A port mapping cannot specify both a containerPort and a containerPortRange.")
		case pm.ContainerPort != nil:
			cp := *pm.ContainerPort
			if cp < 1 || cp > maxPort {
				return inContainer(name, "containerPort must be between 1 and %d.", maxPort)
			}
			// hostPort 0 in these modes means "the container port", as when omitted.
			if (mode == shape.NetworkModeAwsvpc || mode == shape.NetworkModeHost) && pm.HostPort != nil && *pm.HostPort != 0 && *pm.HostPort != cp {
				return clientf("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
			}
			s = portSpan{proto: proto, lo: cp, hi: cp}
		default:
			lo, hi, ok := parsePortRange(*pm.ContainerPortRange)
			if !ok {
				return inContainer(name, "containerPortRange '%s' is invalid. It must be two ports between 1 and %d written as start-end, with start less than end.", *pm.ContainerPortRange, maxPort)
			}
			if mode != shape.NetworkModeBridge && mode != shape.NetworkModeAwsvpc {
				return clientf("containerPortRange is not supported on container when networkMode=%s.", mode)
			}
			if pm.HostPort != nil {
				return inContainer(name, "A port mapping with a containerPortRange cannot specify a hostPort.")
			}
			if ranges++; ranges > maxPortRangesPerContainer {
				return inContainer(name, "A container can have at most %d port ranges.", maxPortRangesPerContainer)
			}
			s = portSpan{proto: proto, lo: lo, hi: hi, isRanged: true}
		}
		for _, o := range spans {
			if o.proto == s.proto && s.lo <= o.hi && o.lo <= s.hi {
				if o.isRanged || s.isRanged {
					return inContainer(name, "Port ranges cannot overlap; a port can only be included in one port mapping.")
				}
				return inContainer(name, "Container port %d is exposed more than once for protocol %s.", s.lo, s.proto)
			}
		}
		spans = append(spans, s)
		if (mode == shape.NetworkModeAwsvpc || mode == shape.NetworkModeHost) && !s.isRanged {
			key := string(s.proto) + "/" + strconv.Itoa(int(s.lo))
			if shared[key] {
				return clientf("Port %d/%s is exposed by more than one container. When networkMode=%s, containers share the task's ports.", s.lo, s.proto, mode)
			}
			shared[key] = true
		}
	}
	return nil
}

var portRangeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]{1,5})-([0-9]{1,5})$`) })

// parsePortRange parses "start-end" with 1 <= start < end <= 65535.
func parsePortRange(s string) (lo, hi int32, ok bool) {
	m := portRangeRE().FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	l, err1 := strconv.ParseInt(m[1], 10, 32)
	h, err2 := strconv.ParseInt(m[2], 10, 32)
	if err1 != nil || err2 != nil || l < 1 || h > maxPort || l >= h {
		return 0, 0, false
	}
	return int32(l), int32(h), true
}
