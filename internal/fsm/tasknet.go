package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/cql"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/ipam"
	"berth.dev/berth/internal/scheduler"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// Attributes of the task network (the awsvpc network mode).
const (
	// AttrTaskENI is the capability an agent declares when it can run
	// awsvpc tasks (ECS's attribute; awsvpc task definitions require it).
	AttrTaskENI = "ecs.capability.task-eni"
	// AttrTaskSubnet is the task subnet berth gave the instance at
	// registration (CIDR); its tasks' addresses come from it.
	AttrTaskSubnet = "berth.task-subnet"
)

// AttachmentENI is the attachment type of an awsvpc task's network
// interface.
const AttachmentENI = "ElasticNetworkInterface"

// InstanceTaskSubnet returns the task subnet of a container instance.
func InstanceTaskSubnet(ci *state.ContainerInstance) (netip.Prefix, bool) {
	return attrSubnet(ci.Shape.Attributes)
}

func attrSubnet(attrs []shape.Attribute) (netip.Prefix, bool) {
	for _, a := range attrs {
		if deref(a.Name) == AttrTaskSubnet {
			p, err := netip.ParsePrefix(deref(a.Value))
			return p, err == nil
		}
	}
	return netip.Prefix{}, false
}

// TaskENIs is the number of task addresses a task of def needs.
func TaskENIs(def *shape.TaskDefinition) int {
	if def.NetworkMode == shape.NetworkModeAwsvpc {
		return 1
	}
	return 0
}

// TaskAddress returns the private IPv4 address of an awsvpc task.
func TaskAddress(t *state.Task) (netip.Addr, bool) {
	for _, at := range t.Shape.Attachments {
		if deref(at.Type) != AttachmentENI {
			continue
		}
		for _, d := range at.Details {
			if deref(d.Name) == "privateIPv4Address" {
				a, err := netip.ParseAddr(deref(d.Value))
				return a, err == nil
			}
		}
	}
	return netip.Addr{}, false
}

// holdsAddress reports whether t keeps its task address: from placement
// until the agent reports it STOPPED (its namespace is gone by then).
func holdsAddress(t *state.Task) bool {
	if deref(t.Shape.LastStatus) == "STOPPED" {
		return false
	}
	_, ok := TaskAddress(t)
	return ok
}

// allocateTaskSubnet gives a registering instance a task subnet unless it
// has one; used are the subnets of every other registered instance.
func allocateTaskSubnet(tx *state.Txn, c *wire.RegisterContainerInstance, id string, ci *shape.ContainerInstance) error {
	if c.TaskRange == "" {
		return nil
	}
	if _, ok := attrSubnet(ci.Attributes); ok {
		return nil
	}
	r, err := netip.ParsePrefix(c.TaskRange)
	if err == nil {
		err = ipam.CheckRange(r, c.TaskSubnetBits)
	}
	if err != nil {
		return apierr.Clientf("The server's task range is not usable: %v.", err)
	}
	var used []netip.Prefix
	tx.AllInstances(func(other *state.ContainerInstance) bool {
		if other.ID != id && deref(other.Shape.Status) != "INACTIVE" {
			if p, ok := InstanceTaskSubnet(other); ok {
				used = append(used, p)
			}
		}
		return true
	})
	p, ok := ipam.Subnet(r, c.TaskSubnetBits, used)
	if !ok {
		return apierr.Clientf("The task range %s has no free /%d subnet for another container instance: deregister an instance or widen the task range.", r.Masked(), c.TaskSubnetBits)
	}
	ci.Attributes = append(ci.Attributes, shape.Attribute{Name: ptr(AttrTaskSubnet), Value: ptr(p.String())})
	return nil
}

// taskAddress picks the address of a new awsvpc task on ci, or returns the
// placement failure reason.
func taskAddress(s *state.Snapshot, ci *state.ContainerInstance) (netip.Addr, netip.Prefix, string) {
	subnet, ok := InstanceTaskSubnet(ci)
	if !ok {
		return netip.Addr{}, netip.Prefix{}, scheduler.ReasonENI
	}
	var used []netip.Addr
	s.InstanceTasks(ci.ID, func(t *state.Task) bool {
		if holdsAddress(t) {
			a, _ := TaskAddress(t)
			used = append(used, a)
		}
		return true
	})
	a, ok := ipam.Address(subnet, used)
	if !ok {
		return netip.Addr{}, subnet, scheduler.ReasonENI
	}
	return a, subnet, ""
}

// derivedID is a stable identifier derived from a task ID.
func derivedID(kind, taskID string) []byte {
	h := sha256.Sum256([]byte(kind + "/" + taskID))
	return h[:]
}

// ENIIdentity is what identifies an awsvpc task's network interface,
// derived from the task ID so that every server computes the same.
type ENIIdentity struct {
	AttachmentID string // UUID form
	ENIID        string // eni-<17 hex digits>
}

// TaskENIIdentity returns the network interface identity of a task.
func TaskENIIdentity(taskID string) ENIIdentity {
	u := hex.EncodeToString(derivedID("attachment", taskID)[:16])
	return ENIIdentity{
		AttachmentID: u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:32],
		ENIID:        "eni-" + hex.EncodeToString(derivedID("eni", taskID))[:17],
	}
}

// TaskMAC is the MAC address of a task's interface: locally administered,
// 02:be and the IPv4 address, as the agent's task network sets it (an
// address that moves to another task keeps its MAC, so no neighbour cache
// holds a stale one).
func TaskMAC(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("02:be:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}

// PrivateDNSName is EC2's private DNS name of an address in region.
func PrivateDNSName(a netip.Addr, region string) string {
	host := "ip-" + strings.ReplaceAll(a.String(), ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// eniAttachment is the network interface attachment of a new awsvpc task,
// with ECS's details in ECS's order.
func eniAttachment(taskID, subnetID string, a netip.Addr, region string) shape.Attachment {
	id := TaskENIIdentity(taskID)
	kv := func(k, v string) shape.KeyValuePair { return shape.KeyValuePair{Name: ptr(k), Value: ptr(v)} }
	return shape.Attachment{
		Id:     ptr(id.AttachmentID),
		Type:   ptr(AttachmentENI),
		Status: ptr("PRECREATED"),
		Details: []shape.KeyValuePair{
			kv("subnetId", subnetID),
			kv("networkInterfaceId", id.ENIID),
			kv("macAddress", TaskMAC(a)),
			kv("privateDnsName", PrivateDNSName(a, region)),
			kv("privateIPv4Address", a.String()),
		},
	}
}

// AttachmentStatus is the status ECS shows for an awsvpc task's network
// interface attachment, which follows the task's lastStatus.
func AttachmentStatus(lastStatus string) string {
	switch lastStatus {
	case "PROVISIONING":
		return "PRECREATED"
	case "DEPROVISIONING":
		return "DETACHED"
	case "STOPPED":
		return "DELETED"
	}
	return "ATTACHED"
}

// ServiceNetwork is the networkConfiguration a service shows for v, with
// ECS's default assignPublicIp (DISABLED).
func ServiceNetwork(v *wire.AwsVpc) *shape.NetworkConfiguration {
	if v == nil {
		return nil
	}
	out := &shape.AwsVpcConfiguration{Subnets: append([]string{}, v.Subnets...), AssignPublicIp: shape.AssignPublicIp(v.AssignPublicIP)}
	if len(v.SecurityGroups) > 0 {
		out.SecurityGroups = append([]string{}, v.SecurityGroups...)
	}
	if out.AssignPublicIp == "" {
		out.AssignPublicIp = shape.AssignPublicIpDisabled
	}
	return &shape.NetworkConfiguration{AwsvpcConfiguration: out}
}

// AwsVpcOf is the awsvpc configuration of a service's networkConfiguration,
// or nil.
func AwsVpcOf(nc *shape.NetworkConfiguration) *wire.AwsVpc {
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return nil
	}
	v := nc.AwsvpcConfiguration
	out := &wire.AwsVpc{Subnets: append([]string{}, v.Subnets...), AssignPublicIP: string(v.AssignPublicIp)}
	if len(v.SecurityGroups) > 0 {
		out.SecurityGroups = append([]string{}, v.SecurityGroups...)
	}
	return out
}

// FargatePlatform is the platform version berth runs for a requested one:
// LATEST (or none) is 1.4.0.
func FargatePlatform(requested string) string {
	if requested == "" || requested == "LATEST" {
		return "1.4.0"
	}
	return requested
}

// ServiceProviders is the capacity provider strategy a service's tasks are
// spread by: its strategy, or FARGATE alone for the FARGATE launch type;
// nil for other launch types.
func ServiceProviders(sh *shape.Service) []scheduler.ProviderShare {
	if len(sh.CapacityProviderStrategy) > 0 {
		out := make([]scheduler.ProviderShare, 0, len(sh.CapacityProviderStrategy))
		for _, s := range sh.CapacityProviderStrategy {
			out = append(out, scheduler.ProviderShare{Provider: deref(s.CapacityProvider), Base: int(s.Base), Weight: int(s.Weight)})
		}
		return out
	}
	if sh.LaunchType == shape.LaunchTypeFargate {
		return []scheduler.ProviderShare{{Provider: "FARGATE", Weight: 1}}
	}
	return nil
}

// Attributes of the subnets an agent serves (berth agent --subnet): the
// count in AttrServedSubnets, and one AttrSubnetPrefix+ID per subnet. An
// instance that declares none serves every subnet.
const (
	AttrServedSubnets = "berth.subnets"
	AttrSubnetPrefix  = "berth.subnet."
)

// TagFargateInstances is the cluster tag whose value, a cluster query
// language expression, chooses the container instances that run the
// cluster's FARGATE tasks; without it every instance may.
const TagFargateInstances = "berth:fargate-instances"

// PlacementRule is berth's own memberOf expression for a task: instances
// serving one of its subnets (awsvpc), and the cluster's Fargate instances
// (fargate, the tag's expression, for a FARGATE task). "" when nothing
// limits the task.
func PlacementRule(subnets []string, fargate string) string {
	var parts []string
	if len(subnets) > 0 {
		alts := []string{"attribute:" + AttrServedSubnets + " !exists"}
		for _, s := range subnets {
			alts = append(alts, "attribute:"+AttrSubnetPrefix+s+" exists")
		}
		parts = append(parts, "("+strings.Join(alts, " or ")+")")
	}
	if fargate != "" {
		parts = append(parts, "("+fargate+")")
	}
	return strings.Join(parts, " and ")
}

// servedSubnet is the subnet of subnets a task on ci is in: the first the
// instance serves, or the first when it declares none.
func servedSubnet(ci *state.ContainerInstance, subnets []string) string {
	for _, s := range subnets {
		for _, a := range ci.Shape.Attributes {
			if deref(a.Name) == AttrSubnetPrefix+s {
				return s
			}
		}
	}
	return subnets[0]
}

// PlacementRuleConstraint is PlacementRule as a memberOf constraint for a
// task in cluster cl: subnets of its awsvpc configuration, and, for a
// FARGATE task (fargate), the cluster's TagFargateInstances. Nil when
// nothing limits the task; an error when the tag is not a valid cluster
// query, or a subnet ID cannot be one's attribute name.
func PlacementRuleConstraint(cl *shape.Cluster, subnets []string, fargate bool) (*scheduler.Constraint, error) {
	tag := ""
	if fargate && cl != nil {
		for _, t := range cl.Tags {
			if deref(t.Key) == TagFargateInstances {
				tag = deref(t.Value)
			}
		}
	}
	rule := PlacementRule(subnets, tag)
	if rule == "" {
		return nil, nil
	}
	expr, err := cql.Parse(rule)
	if err != nil {
		if tag != "" {
			if _, tagErr := cql.Parse(tag); tagErr != nil {
				return nil, fmt.Errorf("The cluster's %s tag is not a valid cluster query language expression: %v", TagFargateInstances, tagErr)
			}
		}
		return nil, fmt.Errorf("The subnets cannot be used in a placement rule: %v", err)
	}
	return &scheduler.Constraint{Type: "memberOf", Expression: expr}, nil
}
