package ecsapi

import (
	"slices"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/scheduler"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// fargatePlatform is the Fargate platform version berth reports: LATEST
// resolves to it, as ECS resolves LATEST for Linux tasks.
const fargatePlatform = "1.4.0"

// launch is how a RunTask or service runs its tasks: a launch type, or
// the capacity provider strategy that chose FARGATE.
type launch struct {
	Type     shape.LaunchType
	Strategy []scheduler.ProviderShare // FARGATE / FARGATE_SPOT, when a strategy applies
	Platform string                    // resolved platform version (FARGATE)
	// Requested is what the caller asked for (service shapes show it).
	RequestedPlatform string
}

// resolveLaunch applies ECS's rules to launchType, capacityProviderStrategy
// and platformVersion: not both; neither means the cluster's default
// strategy, or EC2 without one; a strategy names only providers
// associated with the cluster (berth has FARGATE and FARGATE_SPOT), with
// at most one base and a weight above 0; FARGATE needs a task definition
// compatible with it; a platform version only with FARGATE.
func resolveLaunch(cl *shape.Cluster, td *state.TaskDefinition, lt shape.LaunchType, cps []shape.CapacityProviderStrategyItem, platform *string) (*launch, error) {
	if lt != "" && len(cps) > 0 {
		return nil, apierr.InvalidParameterf("Specifying both a launchType and capacityProviderStrategy is not supported.")
	}
	if err := checkEnum("launchType", lt); err != nil {
		return nil, err
	}
	out := &launch{Type: lt}
	if lt == "" {
		if len(cps) == 0 {
			cps = cl.DefaultCapacityProviderStrategy
		}
		if len(cps) == 0 {
			out.Type = shape.LaunchTypeEc2
		}
	}
	if len(cps) > 0 {
		if err := validateRunStrategy(cl.CapacityProviders, cps); err != nil {
			return nil, err
		}
		out.Type = shape.LaunchTypeFargate
		for _, s := range cps {
			out.Strategy = append(out.Strategy, scheduler.ProviderShare{Provider: deref(s.CapacityProvider), Base: int(s.Base), Weight: int(s.Weight)})
		}
	}
	switch out.Type {
	case shape.LaunchTypeFargate:
		if !slices.Contains(td.Def.Compatibilities, shape.CompatibilityFargate) {
			return nil, apierr.InvalidParameterf("Task definition does not support launch_type FARGATE.")
		}
		out.RequestedPlatform = "LATEST"
		switch p := deref(platform); p {
		case "", "LATEST":
		case "1.4.0", "1.3.0":
			out.RequestedPlatform = p
		default:
			return nil, apierr.InvalidParameterf("The specified platform version %s does not exist; berth runs platform versions LATEST, 1.4.0 and 1.3.0.", echo(p))
		}
		out.Platform = fargatePlatform
		if out.RequestedPlatform != "LATEST" {
			out.Platform = out.RequestedPlatform
		}
		if out.Strategy == nil {
			out.Strategy = []scheduler.ProviderShare{{Provider: "FARGATE", Weight: 1}}
		}
	case shape.LaunchTypeManagedInstances:
		return nil, apierr.Newf(apierr.UnsupportedFeature, "berth runs tasks on container instances; launchType %s is not supported.", out.Type)
	default:
		if platform != nil {
			return nil, apierr.InvalidParameterf("The platform version must be null when specifying an %s launch type.", out.Type)
		}
	}
	return out, nil
}

// validateRunStrategy checks a RunTask or service capacity provider
// strategy against the cluster's providers.
func validateRunStrategy(providers []string, cps []shape.CapacityProviderStrategyItem) error {
	if len(cps) > 20 {
		return apierr.InvalidParameterf("capacityProviderStrategy can have at most 20 items.")
	}
	withBase, weighted := 0, false
	for _, s := range cps {
		p := deref(s.CapacityProvider)
		switch {
		case p == "":
			return apierr.InvalidParameterf("capacityProvider cannot be empty in a capacity provider strategy.")
		case !slices.Contains(providers, p):
			return apierr.InvalidParameterf("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		case s.Weight < 0 || s.Weight > 1000:
			return apierr.InvalidParameterf("The weight of capacity provider %s must be between 0 and 1000.", p)
		case s.Base < 0 || s.Base > 100000:
			return apierr.InvalidParameterf("The base of capacity provider %s must be between 0 and 100000.", p)
		}
		if s.Base > 0 {
			withBase++
		}
		weighted = weighted || s.Weight > 0
	}
	if withBase > 1 {
		return apierr.InvalidParameterf("Only one capacity provider in a capacity provider strategy can have a base defined.")
	}
	if !weighted {
		return apierr.InvalidParameterf("At least one capacity provider in a capacity provider strategy must have a weight greater than 0.")
	}
	return nil
}

// placementRule is berth's own placement constraint for a task (see
// fsm.PlacementRule), none when nothing limits it.
func placementRule(cl *shape.Cluster, network *wire.AwsVpc, how *launch) ([]scheduler.Constraint, error) {
	var subnets []string
	if network != nil {
		subnets = network.Subnets
	}
	c, err := fsm.PlacementRuleConstraint(cl, subnets, how != nil && how.Type == shape.LaunchTypeFargate)
	if err != nil {
		return nil, apierr.InvalidParameterf("%v", err)
	}
	if c == nil {
		return nil, nil
	}
	return []scheduler.Constraint{*c}, nil
}
