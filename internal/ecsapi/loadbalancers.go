package ecsapi

import (
	"fmt"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// MaxServiceLoadBalancers is ECS's quota of target groups per service.
const MaxServiceLoadBalancers = 5

// serviceLoadBalancers validates a service's loadBalancers against the
// ELBv2 state and the task definition the service runs, with ECS's
// messages (traffic.md E.3), and returns them as the service stores them.
func serviceLoadBalancers(snap *state.Snapshot, td *state.TaskDefinition, lbs []shape.LoadBalancer) ([]shape.LoadBalancer, error) {
	if len(lbs) > MaxServiceLoadBalancers {
		return nil, apierr.InvalidParameterf("A service can have at most %d load balancers (target groups); %d were given.", MaxServiceLoadBalancers, len(lbs))
	}
	out := make([]shape.LoadBalancer, 0, len(lbs))
	seen := map[string]bool{}
	for _, lb := range lbs {
		if lb.LoadBalancerName != nil && *lb.LoadBalancerName != "" {
			return nil, apierr.Newf(apierr.UnsupportedFeature, "berth has no Classic Load Balancers (loadBalancerName %s); name a targetGroupArn of an Application or Network Load Balancer.", *lb.LoadBalancerName)
		}
		if lb.AdvancedConfiguration != nil {
			return nil, apierr.Newf(apierr.UnsupportedFeature, "berth does not support blue/green deployments: loadBalancers advancedConfiguration is not supported.")
		}
		arn := deref(lb.TargetGroupArn)
		if arn == "" {
			return nil, apierr.InvalidParameterf("targetGroupArn is required for each load balancer of a service.")
		}
		name := deref(lb.ContainerName)
		if name == "" {
			return nil, apierr.InvalidParameterf("Container Name can not be blank.")
		}
		if lb.ContainerPort == nil {
			return nil, apierr.InvalidParameterf("containerPort is required for load balancer %s.", arn)
		}
		port := *lb.ContainerPort
		key := fmt.Sprintf("%s|%s|%d", arn, name, port)
		if seen[key] {
			return nil, apierr.InvalidParameterf("The load balancer with targetGroupArn %s, container %s and port %d is given twice.", arn, name, port)
		}
		seen[key] = true
		if !strings.HasPrefix(arn, "arn:aws:elasticloadbalancing:") || !strings.Contains(arn, ":targetgroup/") {
			// What ECS answers for a target group name or a malformed ARN.
			return nil, apierr.InvalidParameterf("Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.")
		}
		tg := snap.TargetGroup(arn)
		if tg == nil {
			return nil, apierr.InvalidParameterf("The target group with targetGroupArn %s does not exist.", arn)
		}
		if err := loadBalancerContainer(td, name, port); err != nil {
			return nil, err
		}
		mode := td.Def.NetworkMode
		if mode == "" {
			mode = shape.NetworkModeBridge
		}
		switch {
		case mode == shape.NetworkModeAwsvpc && tg.TargetType != "ip":
			return nil, apierr.InvalidParameterf("The provided target group %s has target type %s, which is incompatible with the awsvpc network mode specified in the task definition.", arn, tg.TargetType)
		case mode != shape.NetworkModeAwsvpc && tg.TargetType != "instance":
			return nil, apierr.InvalidParameterf("The provided target group %s has target type %s, which is incompatible with the %s network mode specified in the task definition.", arn, tg.TargetType, mode)
		}
		if len(snap.TargetGroupLoadBalancers(arn)) == 0 {
			return nil, apierr.InvalidParameterf("The target group with targetGroupArn %s does not have an associated load balancer.", arn)
		}
		out = append(out, shape.LoadBalancer{TargetGroupArn: ptr(arn), ContainerName: ptr(name), ContainerPort: ptr(port)})
	}
	return out, nil
}

// loadBalancerContainer checks that the task definition has the container
// and that it maps the port.
func loadBalancerContainer(td *state.TaskDefinition, name string, port int32) error {
	for _, c := range td.Def.ContainerDefinitions {
		if deref(c.Name) != name {
			continue
		}
		for _, pm := range c.PortMappings {
			if pm.ContainerPort != nil && *pm.ContainerPort == port {
				return nil
			}
		}
		return apierr.InvalidParameterf("The container %s did not have a container port %d defined.", name, port)
	}
	return apierr.InvalidParameterf("The container %s does not exist in the task definition.", name)
}
