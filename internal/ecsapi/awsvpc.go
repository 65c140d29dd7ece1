package ecsapi

import (
	"slices"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// ECS's limits of an awsvpcConfiguration.
const (
	maxSubnets        = 16
	maxSecurityGroups = 5
)

// awsvpcNetwork validates a networkConfiguration against the task
// definition's network mode, with ECS's messages: required exactly for
// awsvpc, subnets required (at most 16), at most 5 security groups,
// assignPublicIp ENABLED only on Fargate. It returns nil for a task
// definition in another network mode.
func awsvpcNetwork(mode shape.NetworkMode, nc *shape.NetworkConfiguration, launch shape.LaunchType) (*wire.AwsVpc, error) {
	if mode != shape.NetworkModeAwsvpc {
		if nc != nil {
			return nil, apierr.InvalidParameterf("Network Configuration is not valid for the given networkMode of this task definition.")
		}
		return nil, nil
	}
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return nil, apierr.InvalidParameterf("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	vpc := nc.AwsvpcConfiguration
	switch {
	case len(vpc.Subnets) == 0:
		return nil, apierr.InvalidParameterf("subnets can not be empty.")
	case len(vpc.Subnets) > maxSubnets:
		return nil, apierr.InvalidParameterf("subnets can have at most %d items.", maxSubnets)
	case len(vpc.SecurityGroups) > maxSecurityGroups:
		return nil, apierr.InvalidParameterf("securityGroups can have at most %d items.", maxSecurityGroups)
	}
	// Subnet and security group IDs are taken as given (berth has no VPC
	// to look them up in); an empty one is refused.
	for _, s := range vpc.Subnets {
		if s == "" {
			return nil, apierr.InvalidParameterf("subnets can not contain an empty subnet ID.")
		}
	}
	for _, g := range vpc.SecurityGroups {
		if g == "" {
			return nil, apierr.InvalidParameterf("securityGroups can not contain an empty security group ID.")
		}
	}
	if err := checkEnum("networkConfiguration.awsvpcConfiguration.assignPublicIp", vpc.AssignPublicIp); err != nil {
		return nil, err
	}
	if vpc.AssignPublicIp == shape.AssignPublicIpEnabled && launch != shape.LaunchTypeFargate {
		return nil, apierr.InvalidParameterf("Assign public IP is not supported for this launch type.")
	}
	out := &wire.AwsVpc{Subnets: append([]string{}, vpc.Subnets...), AssignPublicIP: string(vpc.AssignPublicIp)}
	if len(vpc.SecurityGroups) > 0 {
		out.SecurityGroups = append([]string{}, vpc.SecurityGroups...)
	}
	return out, nil
}

// taskView is a task as the API shows it: a copy whose network interface
// attachment has the status that follows the task's lastStatus.
func taskView(t *state.Task) shape.Task {
	ts := *t.Shape
	if len(ts.Attachments) > 0 {
		ts.Attachments = slices.Clone(ts.Attachments)
		for i := range ts.Attachments {
			if deref(ts.Attachments[i].Type) == fsm.AttachmentENI {
				ts.Attachments[i].Status = ptr(fsm.AttachmentStatus(deref(ts.LastStatus)))
			}
		}
	}
	return ts
}

// serviceNetwork validates a service's networkConfiguration against its
// task definition (awsvpcNetwork).
func (a *API) serviceNetwork(mode shape.NetworkMode, nc *shape.NetworkConfiguration, launch shape.LaunchType) (*wire.AwsVpc, error) {
	return awsvpcNetwork(mode, nc, launch)
}

// updateServiceNetwork sets the network change of an UpdateService: a new
// networkConfiguration is validated against the task definition the
// service will run (td); without one, the service's current configuration
// must suit td, and is dropped when td leaves the awsvpc network mode.
func (a *API) updateServiceNetwork(cmd *wire.UpdateService, svc *state.Service, td *state.TaskDefinition, nc *shape.NetworkConfiguration) error {
	if nc != nil {
		network, err := a.serviceNetwork(td.Def.NetworkMode, nc, svc.Shape.LaunchType)
		if err != nil {
			return err
		}
		cmd.Network = network
		return nil
	}
	current := svc.Shape.NetworkConfiguration
	switch {
	case td.Def.NetworkMode == shape.NetworkModeAwsvpc && current == nil:
		_, err := a.serviceNetwork(td.Def.NetworkMode, nil, svc.Shape.LaunchType)
		return err
	case td.Def.NetworkMode != shape.NetworkModeAwsvpc && current != nil:
		cmd.RemoveNetwork = true
	}
	return nil
}
