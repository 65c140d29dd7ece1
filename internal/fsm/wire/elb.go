package wire

import (
	"time"

	"berth.dev/berth/internal/elbdoc"
)

// ELBv2 commands. Their documents (actions, conditions, health checks,
// tags) are package elb's types, which carry ELBv2's own member names.

// ELB command types (30-49 are ELBv2's).
const (
	TypeCreateLoadBalancer Type = 30
	TypeDeleteLoadBalancer Type = 31
	TypeModifyLoadBalancer Type = 32
	TypeLoadBalancerActive Type = 33
	TypeCreateTargetGroup  Type = 34
	TypeModifyTargetGroup  Type = 35
	TypeDeleteTargetGroup  Type = 36
	TypeRegisterTargets    Type = 37
	TypeDeregisterTargets  Type = 38
	TypeCreateListener     Type = 39
	TypeModifyListener     Type = 40
	TypeDeleteListener     Type = 41
	TypeCreateRule         Type = 42
	TypeModifyRule         Type = 43
	TypeSetRulePriorities  Type = 44
	TypeDeleteRule         Type = 45
	TypeAddELBTags         Type = 46
	TypeRemoveELBTags      Type = 47
)

func init() {
	for t, n := range map[Type]string{
		TypeCreateLoadBalancer: "CreateLoadBalancer", TypeDeleteLoadBalancer: "DeleteLoadBalancer",
		TypeModifyLoadBalancer: "ModifyLoadBalancer", TypeLoadBalancerActive: "LoadBalancerActive",
		TypeCreateTargetGroup: "CreateTargetGroup", TypeModifyTargetGroup: "ModifyTargetGroup",
		TypeDeleteTargetGroup: "DeleteTargetGroup", TypeRegisterTargets: "RegisterTargets",
		TypeDeregisterTargets: "DeregisterTargets", TypeCreateListener: "CreateListener",
		TypeModifyListener: "ModifyListener", TypeDeleteListener: "DeleteListener",
		TypeCreateRule: "CreateRule", TypeModifyRule: "ModifyRule", TypeSetRulePriorities: "SetRulePriorities",
		TypeDeleteRule: "DeleteRule", TypeAddELBTags: "AddELBTags", TypeRemoveELBTags: "RemoveELBTags",
	} {
		typeNames[t] = n
	}
}

// CreateLoadBalancer creates a load balancer, or returns the one of that
// name when its settings are the same. Address is the lowest free address
// of the server's pool in the proposer's snapshot; the applier re-checks it.
type CreateLoadBalancer struct {
	Meta
	ID             string       `json:"id"`
	Name           string       `json:"name"`
	LBType         string       `json:"type"`
	Scheme         string       `json:"scheme"`
	IPAddressType  string       `json:"ipAddressType"`
	Subnets        []string     `json:"subnets"`
	SecurityGroups []string     `json:"securityGroups,omitempty"`
	Address        string       `json:"address"`
	Tags           []elbdoc.Tag `json:"tags,omitempty"`
}

func (CreateLoadBalancer) Type() Type     { return TypeCreateLoadBalancer }
func (CreateLoadBalancer) Version() uint8 { return 1 }

// DeleteLoadBalancer deletes a load balancer with its listeners and rules
// and frees its address; a missing one is no error.
type DeleteLoadBalancer struct {
	Meta
	ARN string `json:"arn"`
}

func (DeleteLoadBalancer) Type() Type     { return TypeDeleteLoadBalancer }
func (DeleteLoadBalancer) Version() uint8 { return 1 }

// ModifyLoadBalancer changes a load balancer's attributes (merged), subnets,
// security groups or IP address type (nil: unchanged).
type ModifyLoadBalancer struct {
	Meta
	ARN            string            `json:"arn"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Subnets        []string          `json:"subnets,omitempty"`
	SecurityGroups *[]string         `json:"securityGroups,omitempty"`
	IPAddressType  string            `json:"ipAddressType,omitempty"`
}

func (ModifyLoadBalancer) Type() Type     { return TypeModifyLoadBalancer }
func (ModifyLoadBalancer) Version() uint8 { return 1 }

// LoadBalancerActive marks a load balancer active: a data-plane node serves
// it. Proposed by the data-plane stream.
type LoadBalancerActive struct {
	Meta
	ARN string `json:"arn"`
}

func (LoadBalancerActive) Type() Type     { return TypeLoadBalancerActive }
func (LoadBalancerActive) Version() uint8 { return 1 }

// CreateTargetGroup creates a target group, or returns the one of that
// name when its settings are the same.
type CreateTargetGroup struct {
	Meta
	ID              string             `json:"id"`
	Name            string             `json:"name"`
	Protocol        string             `json:"protocol"`
	ProtocolVersion string             `json:"protocolVersion,omitempty"`
	Port            int                `json:"port"`
	VpcID           string             `json:"vpcId"`
	TargetType      string             `json:"targetType"`
	IPAddressType   string             `json:"ipAddressType"`
	HealthCheck     elbdoc.HealthCheck `json:"healthCheck"`
	Tags            []elbdoc.Tag       `json:"tags,omitempty"`
}

func (CreateTargetGroup) Type() Type     { return TypeCreateTargetGroup }
func (CreateTargetGroup) Version() uint8 { return 1 }

// ModifyTargetGroup replaces a target group's health check and/or merges
// attributes into it.
type ModifyTargetGroup struct {
	Meta
	ARN         string              `json:"arn"`
	HealthCheck *elbdoc.HealthCheck `json:"healthCheck,omitempty"`
	Attributes  map[string]string   `json:"attributes,omitempty"`
}

func (ModifyTargetGroup) Type() Type     { return TypeModifyTargetGroup }
func (ModifyTargetGroup) Version() uint8 { return 1 }

// DeleteTargetGroup deletes a target group no rule uses.
type DeleteTargetGroup struct {
	Meta
	ARN string `json:"arn"`
}

func (DeleteTargetGroup) Type() Type     { return TypeDeleteTargetGroup }
func (DeleteTargetGroup) Version() uint8 { return 1 }

// RegisterTargets registers targets (Port always set); a draining one is
// registered again.
type RegisterTargets struct {
	Meta
	ARN     string          `json:"arn"`
	Targets []elbdoc.Target `json:"targets"`
}

func (RegisterTargets) Type() Type     { return TypeRegisterTargets }
func (RegisterTargets) Version() uint8 { return 1 }

// DeregisterTargets starts draining targets until Now + the target group's
// deregistration delay; a target given without a port drains every
// registration of its ID; unknown targets are no error.
type DeregisterTargets struct {
	Meta
	ARN     string          `json:"arn"`
	Targets []elbdoc.Target `json:"targets"`
}

func (DeregisterTargets) Type() Type     { return TypeDeregisterTargets }
func (DeregisterTargets) Version() uint8 { return 1 }

// CreateListener creates a listener with its default rule (RuleID), or
// returns the one on that port when its settings are the same.
type CreateListener struct {
	Meta
	ID              string          `json:"id"`
	RuleID          string          `json:"ruleId"`
	LoadBalancerARN string          `json:"loadBalancerArn"`
	Port            int             `json:"port"`
	Protocol        string          `json:"protocol"`
	SSLPolicy       string          `json:"sslPolicy,omitempty"`
	Certificates    []string        `json:"certificates,omitempty"`
	ALPNPolicy      []string        `json:"alpnPolicy,omitempty"`
	DefaultActions  []elbdoc.Action `json:"defaultActions"`
	Tags            []elbdoc.Tag    `json:"tags,omitempty"`
}

func (CreateListener) Type() Type     { return TypeCreateListener }
func (CreateListener) Version() uint8 { return 1 }

// ModifyListener changes a listener (nil or empty members: unchanged).
// AddCertificates and RemoveCertificates change its SNI certificates.
type ModifyListener struct {
	Meta
	ARN                string            `json:"arn"`
	Port               int               `json:"port,omitempty"`
	Protocol           string            `json:"protocol,omitempty"`
	SSLPolicy          string            `json:"sslPolicy,omitempty"`
	Certificates       []string          `json:"certificates,omitempty"`
	ALPNPolicy         []string          `json:"alpnPolicy,omitempty"`
	DefaultActions     []elbdoc.Action   `json:"defaultActions,omitempty"`
	Attributes         map[string]string `json:"attributes,omitempty"`
	AddCertificates    []string          `json:"addCertificates,omitempty"`
	RemoveCertificates []string          `json:"removeCertificates,omitempty"`
}

func (ModifyListener) Type() Type     { return TypeModifyListener }
func (ModifyListener) Version() uint8 { return 1 }

// DeleteListener deletes a listener and its rules.
type DeleteListener struct {
	Meta
	ARN string `json:"arn"`
}

func (DeleteListener) Type() Type     { return TypeDeleteListener }
func (DeleteListener) Version() uint8 { return 1 }

// CreateRule creates a listener rule.
type CreateRule struct {
	Meta
	ID          string                 `json:"id"`
	ListenerARN string                 `json:"listenerArn"`
	Priority    int                    `json:"priority"`
	Conditions  []elbdoc.RuleCondition `json:"conditions"`
	Actions     []elbdoc.Action        `json:"actions"`
	Tags        []elbdoc.Tag           `json:"tags,omitempty"`
}

func (CreateRule) Type() Type     { return TypeCreateRule }
func (CreateRule) Version() uint8 { return 1 }

// ModifyRule replaces a rule's conditions and/or actions (nil: unchanged).
type ModifyRule struct {
	Meta
	ARN        string                 `json:"arn"`
	Conditions []elbdoc.RuleCondition `json:"conditions,omitempty"`
	Actions    []elbdoc.Action        `json:"actions,omitempty"`
}

func (ModifyRule) Type() Type     { return TypeModifyRule }
func (ModifyRule) Version() uint8 { return 1 }

// RulePriority is one rule's new priority.
type RulePriority struct {
	ARN      string `json:"arn"`
	Priority int    `json:"priority"`
}

// SetRulePriorities changes rules' priorities all at once, or none.
type SetRulePriorities struct {
	Meta
	Priorities []RulePriority `json:"priorities"`
}

func (SetRulePriorities) Type() Type     { return TypeSetRulePriorities }
func (SetRulePriorities) Version() uint8 { return 1 }

// DeleteRule deletes a non-default rule.
type DeleteRule struct {
	Meta
	ARN string `json:"arn"`
}

func (DeleteRule) Type() Type     { return TypeDeleteRule }
func (DeleteRule) Version() uint8 { return 1 }

// AddELBTags adds or replaces tags on ELB resources, all or none.
type AddELBTags struct {
	Meta
	ARNs []string     `json:"arns"`
	Tags []elbdoc.Tag `json:"tags"`
}

func (AddELBTags) Type() Type     { return TypeAddELBTags }
func (AddELBTags) Version() uint8 { return 1 }

// RemoveELBTags removes tag keys from ELB resources, all or none.
type RemoveELBTags struct {
	Meta
	ARNs []string `json:"arns"`
	Keys []string `json:"keys"`
}

func (RemoveELBTags) Type() Type     { return TypeRemoveELBTags }
func (RemoveELBTags) Version() uint8 { return 1 }

// Snapshot records of the ELB tables (since snapshot version 4).

// LoadBalancer is an ELBv2 load balancer.
type LoadBalancer struct {
	ARN            string            `json:"arn"`
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Scheme         string            `json:"scheme"`
	IPAddressType  string            `json:"ipAddressType"`
	Subnets        []string          `json:"subnets"`
	SecurityGroups []string          `json:"securityGroups,omitempty"`
	Address        string            `json:"address"`
	DNSName        string            `json:"dnsName"`
	CreatedAt      time.Time         `json:"createdAt"`
	State          string            `json:"state"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Tags           []elbdoc.Tag      `json:"tags,omitempty"`
}

// Listener is a listener.
type Listener struct {
	ARN             string            `json:"arn"`
	ID              string            `json:"id"`
	LoadBalancerARN string            `json:"loadBalancerArn"`
	Port            int               `json:"port"`
	Protocol        string            `json:"protocol"`
	SSLPolicy       string            `json:"sslPolicy,omitempty"`
	Certificates    []string          `json:"certificates,omitempty"`
	ALPNPolicy      []string          `json:"alpnPolicy,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	Tags            []elbdoc.Tag      `json:"tags,omitempty"`
}

// Rule is a listener rule.
type Rule struct {
	ARN         string                 `json:"arn"`
	ID          string                 `json:"id"`
	ListenerARN string                 `json:"listenerArn"`
	Priority    int                    `json:"priority"`
	IsDefault   bool                   `json:"isDefault,omitempty"`
	Conditions  []elbdoc.RuleCondition `json:"conditions,omitempty"`
	Actions     []elbdoc.Action        `json:"actions"`
	Tags        []elbdoc.Tag           `json:"tags,omitempty"`
}

// TargetGroup is a target group.
type TargetGroup struct {
	ARN             string             `json:"arn"`
	ID              string             `json:"id"`
	Name            string             `json:"name"`
	Protocol        string             `json:"protocol"`
	ProtocolVersion string             `json:"protocolVersion,omitempty"`
	Port            int                `json:"port"`
	VpcID           string             `json:"vpcId"`
	TargetType      string             `json:"targetType"`
	IPAddressType   string             `json:"ipAddressType"`
	HealthCheck     elbdoc.HealthCheck `json:"healthCheck"`
	Attributes      map[string]string  `json:"attributes,omitempty"`
	Tags            []elbdoc.Tag       `json:"tags,omitempty"`
	CreatedAt       time.Time          `json:"createdAt"`
}

// Target is a target registration.
type Target struct {
	TargetGroupARN   string    `json:"targetGroupArn"`
	ID               string    `json:"id"`
	Port             int       `json:"port"`
	AvailabilityZone string    `json:"availabilityZone,omitempty"`
	RegisteredAt     time.Time `json:"registeredAt"`
	DrainUntil       time.Time `json:"drainUntil,omitzero"`
}
