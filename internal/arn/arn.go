// Package arn builds and parses the Amazon Resource Names of ECS resources.
//
// A Namer knows berth's partition, region and account and builds the long
// ARN forms ECS uses today (cluster/NAME, task/CLUSTER/ID,
// container-instance/CLUSTER/ID, service/CLUSTER/NAME,
// task-definition/FAMILY:REV, ...). Parse splits any ECS ARN into its parts
// and accepts the old short forms (task/ID, container-instance/ID) too.
//
// The package is pure: it imports only the standard library.
package arn

import (
	"fmt"
	"strconv"
	"strings"
)

// Resource types that appear after the account in an ECS ARN.
const (
	TypeCluster           = "cluster"
	TypeContainerInstance = "container-instance"
	TypeTaskDefinition    = "task-definition"
	TypeTask              = "task"
	TypeContainer         = "container"
	TypeService           = "service"
	TypeCapacityProvider  = "capacity-provider"
	TypeTaskSet           = "task-set"
	TypeServiceDeployment = "service-deployment"
	TypeServiceRevision   = "service-revision"
)

// Namer builds ARNs for one partition, region and account.
type Namer struct {
	Partition string // "aws"
	Region    string
	Account   string
}

func (n Namer) prefix() string {
	return "arn:" + n.Partition + ":ecs:" + n.Region + ":" + n.Account + ":"
}

// Cluster returns arn:...:cluster/NAME.
func (n Namer) Cluster(name string) string { return n.prefix() + "cluster/" + name }

// ContainerInstance returns arn:...:container-instance/CLUSTER/ID.
func (n Namer) ContainerInstance(cluster, id string) string {
	return n.prefix() + "container-instance/" + cluster + "/" + id
}

// TaskDefinition returns arn:...:task-definition/FAMILY:REV.
func (n Namer) TaskDefinition(family string, revision int32) string {
	return n.prefix() + "task-definition/" + family + ":" + strconv.Itoa(int(revision))
}

// Task returns arn:...:task/CLUSTER/ID.
func (n Namer) Task(cluster, id string) string { return n.prefix() + "task/" + cluster + "/" + id }

// Container returns arn:...:container/CLUSTER/TASKID/ID.
func (n Namer) Container(cluster, taskID, id string) string {
	return n.prefix() + "container/" + cluster + "/" + taskID + "/" + id
}

// Service returns arn:...:service/CLUSTER/NAME.
func (n Namer) Service(cluster, name string) string {
	return n.prefix() + "service/" + cluster + "/" + name
}

// CapacityProvider returns arn:...:capacity-provider/NAME.
func (n Namer) CapacityProvider(name string) string {
	return n.prefix() + "capacity-provider/" + name
}

// ServiceDeployment returns arn:...:service-deployment/CLUSTER/SERVICE/ID.
func (n Namer) ServiceDeployment(cluster, service, id string) string {
	return n.prefix() + "service-deployment/" + cluster + "/" + service + "/" + id
}

// ServiceRevision returns arn:...:service-revision/CLUSTER/SERVICE/ID.
func (n Namer) ServiceRevision(cluster, service, id string) string {
	return n.prefix() + "service-revision/" + cluster + "/" + service + "/" + id
}

// Root returns the ARN of the account's root principal.
func (n Namer) Root() string { return "arn:" + n.Partition + ":iam::" + n.Account + ":root" }

// ARN is a parsed ECS ARN.
type ARN struct {
	Partition, Service, Region, Account string
	// Type is the resource type (cluster, task, ...).
	Type string
	// Path is the resource path after "TYPE/", split on "/".
	Path []string
}

// Parse splits an ARN of the form arn:PARTITION:SERVICE:REGION:ACCOUNT:TYPE/PATH.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN", s)
	}
	typ, rest, ok := strings.Cut(parts[5], "/")
	if !ok || typ == "" || rest == "" {
		return ARN{}, fmt.Errorf("%q has no resource type and path", s)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Type: typ, Path: strings.Split(rest, "/")}
	for _, p := range a.Path {
		if p == "" {
			return ARN{}, fmt.Errorf("%q has an empty path segment", s)
		}
	}
	return a, nil
}

// IsARN reports whether s looks like an ARN (starts with "arn:").
func IsARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// Owns reports whether a belongs to n's partition, region and account and to ECS.
func (n Namer) Owns(a ARN) bool {
	return a.Partition == n.Partition && a.Service == "ecs" && a.Region == n.Region && a.Account == n.Account
}

// Last returns the last path segment.
func (a ARN) Last() string { return a.Path[len(a.Path)-1] }
