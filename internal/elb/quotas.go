package elb

// Quotas (C.11): DescribeAccountLimits answers them, the state machine
// enforces them.
const (
	MaxApplicationLoadBalancers  = 50
	MaxNetworkLoadBalancers      = 50
	MaxListenersPerLoadBalancer  = 50
	MaxCertificatesPerALB        = 25
	MaxTargetsPerALB             = 1000
	MaxTargetGroupsPerALB        = 100
	MaxTargetGroups              = 3000
	MaxTargetsPerTargetGroup     = 1000
	MaxRulesPerALB               = 100
	MaxLoadBalancersPerTG        = 1
	MaxTargetsPerRegisterRequest = 1000
)

// Limit is one account limit.
type Limit struct {
	Name string
	Max  int
}

// AccountLimits are the limits DescribeAccountLimits reports.
var AccountLimits = []Limit{
	{"application-load-balancers", MaxApplicationLoadBalancers},
	{"network-load-balancers", MaxNetworkLoadBalancers},
	{"listeners-per-application-load-balancer", MaxListenersPerLoadBalancer},
	{"listeners-per-network-load-balancer", MaxListenersPerLoadBalancer},
	{"certificates-per-application-load-balancer", MaxCertificatesPerALB},
	{"certificates-per-network-load-balancer", MaxCertificatesPerALB},
	{"target-groups", MaxTargetGroups},
	{"targets-per-application-load-balancer", MaxTargetsPerALB},
	{"targets-per-target-group", MaxTargetsPerTargetGroup},
	{"target-groups-per-application-load-balancer", MaxTargetGroupsPerALB},
	{"target-groups-per-action-on-application-load-balancer", MaxForwardTGs},
	{"rules-per-application-load-balancer", MaxRulesPerALB},
	{"condition-values-per-alb-rule", MaxConditionValues},
	{"condition-wildcards-per-alb-rule", MaxWildcards},
}
