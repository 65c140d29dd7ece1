package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

const arnPrefix = "arn:aws:ecs:us-east-1:123456789012:"

var instanceARNPattern = regexp.MustCompile(`^arn:aws:ecs:us-east-1:123456789012:container-instance/([a-zA-Z0-9_-]+)/([0-9a-f]{32})$`)

// identityDoc is an EC2 instance identity document as the agent sends it.
func identityDoc(instanceID, az, instanceType string) string {
	b, _ := json.Marshal(map[string]string{
		"instanceId": instanceID, "availabilityZone": az, "instanceType": instanceType,
		"imageId": "ami-0123456789abcdef0", "region": testRegion, "accountId": testAccount,
		"privateIp": "10.0.0.1", "architecture": "x86_64",
	})
	return string(b)
}

// agentResources are the resources a 2 vCPU, 4 GiB host registers.
func agentResources() []types.Resource {
	return []types.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 3705},
		{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22", "2376", "2375", "51678", "51679"}},
		{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: []string{}},
	}
}

func attr(name, value string) types.Attribute {
	a := types.Attribute{Name: aws.String(name)}
	if value != "" {
		a.Value = aws.String(value)
	}
	return a
}

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func (e *env) createCluster(name string) string {
	e.t.Helper()
	out, err := e.ecs.CreateCluster(ctx(e.t), &ecs.CreateClusterInput{ClusterName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("create cluster %s: %v", name, err)
	}
	return aws.ToString(out.Cluster.ClusterArn)
}

// registerInstance registers a container instance as the agent would.
func (e *env) registerInstance(cluster, ec2ID, az, instanceType string, attrs ...types.Attribute) types.ContainerInstance {
	e.t.Helper()
	out, err := e.ecs.RegisterContainerInstance(ctx(e.t), &ecs.RegisterContainerInstanceInput{
		Cluster:                  aws.String(cluster),
		InstanceIdentityDocument: aws.String(identityDoc(ec2ID, az, instanceType)),
		TotalResources:           agentResources(),
		VersionInfo:              &types.VersionInfo{AgentVersion: aws.String("1.80.0"), AgentHash: aws.String("a1b2c3d4"), DockerVersion: aws.String("DockerVersion: 20.10.25")},
		Attributes:               append([]types.Attribute{attr("ecs.os-type", "linux")}, attrs...),
	})
	if err != nil {
		e.t.Fatalf("register %s in %s: %v", ec2ID, cluster, err)
	}
	return *out.ContainerInstance
}

func (e *env) describeInstance(cluster, ref string, include ...types.ContainerInstanceField) types.ContainerInstance {
	e.t.Helper()
	out, err := e.ecs.DescribeContainerInstances(ctx(e.t), &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String(cluster), ContainerInstances: []string{ref}, Include: include,
	})
	if err != nil {
		e.t.Fatalf("describe %s: %v", ref, err)
	}
	if len(out.ContainerInstances) != 1 || len(out.Failures) != 0 {
		e.t.Fatalf("got %d instances and failures %+v, want 1 and none", len(out.ContainerInstances), out.Failures)
	}
	return out.ContainerInstances[0]
}

func (e *env) listInstances(cluster, filter string, status types.ContainerInstanceStatus) []string {
	e.t.Helper()
	var all []string
	p := ecs.NewListContainerInstancesPaginator(e.ecs, &ecs.ListContainerInstancesInput{
		Cluster: aws.String(cluster), Filter: optString(filter), Status: status,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(e.t))
		if err != nil {
			e.t.Fatalf("list instances %q: %v", filter, err)
		}
		all = append(all, page.ContainerInstanceArns...)
	}
	return all
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func instanceID(arn string) string {
	m := instanceARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return ""
	}
	return m[2]
}

func attrValue(attrs []types.Attribute, name string) (string, bool) {
	for _, a := range attrs {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value), true
		}
	}
	return "", false
}

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func resourceMap(rs []types.Resource) map[string]types.Resource {
	m := map[string]types.Resource{}
	for _, r := range rs {
		m[aws.ToString(r.Name)] = r
	}
	return m
}

func sameResources(t *testing.T, what string, got, want []types.Resource) {
	t.Helper()
	g, w := resourceMap(got), resourceMap(want)
	if len(g) != len(w) || len(got) != len(want) {
		t.Fatalf("%s: got %d resources, want %d", what, len(got), len(want))
	}
	for name, wr := range w {
		gr, ok := g[name]
		if !ok {
			t.Fatalf("%s: got no %s resource, want one", what, name)
		}
		if aws.ToString(gr.Type) != aws.ToString(wr.Type) || gr.IntegerValue != wr.IntegerValue || gr.LongValue != wr.LongValue ||
			gr.DoubleValue != wr.DoubleValue || !slices.Equal(gr.StringSetValue, wr.StringSetValue) {
			t.Fatalf("%s: got %s = %+v, want %+v", what, name, gr, wr)
		}
	}
}

func TestInstances_RegisterAndDescribe(t *testing.T) {
	e := start(t)
	c := ctx(t)
	clusterARN := e.createCluster("ec2")
	before := time.Now().Add(-time.Second)
	out, err := e.ecs.RegisterContainerInstance(c, &ecs.RegisterContainerInstanceInput{
		Cluster:                  aws.String(clusterARN), // by ARN
		InstanceIdentityDocument: aws.String(identityDoc("i-0abc", "us-east-1b", "t3.medium")),
		TotalResources:           agentResources(),
		VersionInfo:              &types.VersionInfo{AgentVersion: aws.String("1.80.0"), AgentHash: aws.String("a1b2c3d4"), DockerVersion: aws.String("DockerVersion: 20.10.25")},
		Attributes: []types.Attribute{
			attr("ecs.os-type", "linux"), attr("ecs.cpu-architecture", "x86_64"),
			attr("com.amazonaws.ecs.capability.docker-remote-api.1.30", ""), attr("stack", "prod"),
		},
		Tags: []types.Tag{tag("team", "blue")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ci := out.ContainerInstance
	arn := aws.ToString(ci.ContainerInstanceArn)
	m := instanceARNPattern.FindStringSubmatch(arn)
	if m == nil || m[1] != "ec2" {
		t.Fatalf("got arn %s, want %scontainer-instance/ec2/<32 hex>", arn, arnPrefix)
	}
	id := m[2]
	if got, want := aws.ToString(ci.Status), "ACTIVE"; got != want {
		t.Fatalf("got status %v, want %v", got, want)
	}
	if got, want := ci.Version, int64(1); got != want {
		t.Fatalf("got version %v, want %v", got, want)
	}
	if got, want := aws.ToString(ci.Ec2InstanceId), "i-0abc"; got != want {
		t.Fatalf("got ec2InstanceId %v, want %v", got, want)
	}
	if ci.AgentConnected {
		t.Fatalf("got agentConnected %v, want false (no agent session)", ci.AgentConnected)
	}
	if ci.RegisteredAt == nil || ci.RegisteredAt.Before(before) || ci.RegisteredAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("got registeredAt %v, want about now", ci.RegisteredAt)
	}
	sameResources(t, "registeredResources", ci.RegisteredResources, agentResources())
	sameResources(t, "remainingResources", ci.RemainingResources, agentResources())
	if got, want := aws.ToString(ci.VersionInfo.AgentVersion), "1.80.0"; got != want {
		t.Fatalf("got agentVersion %v, want %v", got, want)
	}
	if got, want := aws.ToString(ci.VersionInfo.DockerVersion), "DockerVersion: 20.10.25"; got != want {
		t.Fatalf("got dockerVersion %v, want %v", got, want)
	}
	// The attributes the agent sent, plus the built-ins ECS derives from the
	// instance identity document.
	wantAttrs := map[string]string{
		"ecs.os-type": "linux", "ecs.cpu-architecture": "x86_64", "stack": "prod",
		"com.amazonaws.ecs.capability.docker-remote-api.1.30": "",
		"ecs.availability-zone":                               "us-east-1b", "ecs.instance-type": "t3.medium", "ecs.ami-id": "ami-0123456789abcdef0",
	}
	for name, want := range wantAttrs {
		if got, ok := attrValue(ci.Attributes, name); !ok || got != want {
			t.Fatalf("got attribute %s = %q (present %v), want %q; all: %+v", name, got, ok, want, ci.Attributes)
		}
	}
	if got, want := len(ci.Attributes), len(wantAttrs); got != want {
		t.Fatalf("got %d attributes, want %d: %+v", got, want, ci.Attributes)
	}
	if ci.RunningTasksCount != 0 || ci.PendingTasksCount != 0 {
		t.Fatalf("got running %d pending %d, want 0 and 0", ci.RunningTasksCount, ci.PendingTasksCount)
	}

	// Describe by ID, by ARN and by unknown references; MISSING failures name
	// the ARN built from the input.
	unknownID := strings.Repeat("0", 32)
	otherARN := arnPrefix + "container-instance/other/" + strings.Repeat("1", 32)
	d, err := e.ecs.DescribeContainerInstances(c, &ecs.DescribeContainerInstancesInput{
		Cluster:            aws.String("ec2"),
		ContainerInstances: []string{id, arn, unknownID, otherARN, "not-an-id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(d.ContainerInstances), 2; got != want {
		t.Fatalf("got %d instances, want %d", got, want)
	}
	var failed []string
	for _, f := range d.Failures {
		if got, want := aws.ToString(f.Reason), "MISSING"; got != want {
			t.Fatalf("got reason %v, want %v", got, want)
		}
		failed = append(failed, aws.ToString(f.Arn))
	}
	wantFailed := []string{arnPrefix + "container-instance/ec2/" + unknownID, otherARN, arnPrefix + "container-instance/ec2/not-an-id"}
	if !slices.Equal(failed, wantFailed) {
		t.Fatalf("got failures %v, want %v", failed, wantFailed)
	}
	for _, got := range d.ContainerInstances {
		if aws.ToString(got.ContainerInstanceArn) != arn {
			t.Fatalf("got %s, want %s", aws.ToString(got.ContainerInstanceArn), arn)
		}
		if got.Tags != nil || got.HealthStatus != nil {
			t.Fatalf("got tags %v health %v without include, want neither", got.Tags, got.HealthStatus)
		}
		sameResources(t, "describe remainingResources", got.RemainingResources, got.RegisteredResources)
	}

	// include TAGS and CONTAINER_INSTANCE_HEALTH.
	got := e.describeInstance("ec2", id, types.ContainerInstanceFieldTags, types.ContainerInstanceFieldContainerInstanceHealth)
	if tm := tagMap(got.Tags); len(tm) != 1 || tm["team"] != "blue" {
		t.Fatalf("got tags %v, want team=blue", tm)
	}
	if got.HealthStatus == nil || got.HealthStatus.OverallStatus == "" || len(got.HealthStatus.Details) == 0 ||
		got.HealthStatus.Details[0].Type != types.InstanceHealthCheckTypeContainerRuntime {
		t.Fatalf("got health %+v, want an overall status and a CONTAINER_RUNTIME detail", got.HealthStatus)
	}
	if got, want := got.HealthStatus.OverallStatus, types.InstanceHealthCheckStateInsufficientData; got != want {
		t.Fatalf("got overall health %v with no agent connected, want %v", got, want)
	}

	// Bad describe requests.
	_, err = e.ecs.DescribeContainerInstances(c, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ec2"), ContainerInstances: []string{}})
	wantAPIError[*types.InvalidParameterException](t, err, "containerInstances")
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("%032x", i)
	}
	_, err = e.ecs.DescribeContainerInstances(c, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ec2"), ContainerInstances: many})
	wantAPIError[*types.InvalidParameterException](t, err, "100")
	_, err = e.ecs.DescribeContainerInstances(c, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("nope"), ContainerInstances: []string{id}})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	_, err = e.ecs.DescribeContainerInstances(c, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ec2"), ContainerInstances: []string{id},
		Include: []types.ContainerInstanceField{"SIZE"}})
	wantAPIError[*types.InvalidParameterException](t, err, "SIZE")
}

// TestInstances_ResourceWireForm checks the JSON of a Resource: every numeric
// member is present (ECS is a non-boxed-number service) and a STRINGSET
// always carries its list, even an empty one.
func TestInstances_ResourceWireForm(t *testing.T) {
	e := start(t)
	e.createCluster("default")
	ci := e.registerInstance("default", "i-1", "us-east-1a", "t3.small")
	body, _ := json.Marshal(map[string]any{"containerInstances": []string{aws.ToString(ci.ContainerInstanceArn)}})
	r := e.raw("DescribeContainerInstances", body, true, nil)
	if r.Status != 200 {
		t.Fatalf("got status %d (%s), want 200", r.Status, r.Body)
	}
	var out struct {
		ContainerInstances []struct {
			RegisteredResources []map[string]any `json:"registeredResources"`
			RemainingResources  []map[string]any `json:"remainingResources"`
		} `json:"containerInstances"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || len(out.ContainerInstances) != 1 {
		t.Fatalf("got %s (%v), want one instance", r.Body, err)
	}
	for _, list := range [][]map[string]any{out.ContainerInstances[0].RegisteredResources, out.ContainerInstances[0].RemainingResources} {
		if len(list) != 4 {
			t.Fatalf("got %d resources, want 4", len(list))
		}
		for _, res := range list {
			for _, k := range []string{"name", "type", "doubleValue", "longValue", "integerValue"} {
				if _, ok := res[k]; !ok {
					t.Fatalf("got resource %v without %s, want every member", res, k)
				}
			}
			if res["type"] == "STRINGSET" {
				if _, ok := res["stringSetValue"].([]any); !ok {
					t.Fatalf("got STRINGSET resource %v without a stringSetValue list, want one", res)
				}
			}
		}
	}
}

func TestInstances_RegisterFillsResourceTypes(t *testing.T) {
	e := start(t)
	e.createCluster("default")
	out, err := e.ecs.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{
		TotalResources: []types.Resource{
			{Name: aws.String("CPU"), IntegerValue: 1024},
			{Name: aws.String("PORTS"), StringSetValue: []string{"22"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := resourceMap(out.ContainerInstance.RegisteredResources)
	if aws.ToString(got["CPU"].Type) != "INTEGER" || aws.ToString(got["PORTS"].Type) != "STRINGSET" {
		t.Fatalf("got types %v and %v, want INTEGER and STRINGSET", aws.ToString(got["CPU"].Type), aws.ToString(got["PORTS"].Type))
	}
}

func TestInstances_ReRegister(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	e.createCluster("other")
	first := e.registerInstance("ec2", "i-1", "us-east-1a", "t3.small", attr("stack", "prod"))
	arn := aws.ToString(first.ContainerInstanceArn)

	// The agent restarts and passes its previous ARN: same instance, new version.
	res := agentResources()
	res[1].IntegerValue = 3000
	out, err := e.ecs.RegisterContainerInstance(c, &ecs.RegisterContainerInstanceInput{
		Cluster: aws.String("ec2"), ContainerInstanceArn: aws.String(arn),
		InstanceIdentityDocument: aws.String(identityDoc("i-1", "us-east-1a", "t3.small")),
		TotalResources:           res,
	})
	if err != nil {
		t.Fatal(err)
	}
	again := out.ContainerInstance
	if got := aws.ToString(again.ContainerInstanceArn); got != arn {
		t.Fatalf("got arn %v, want %v", got, arn)
	}
	if got, want := again.Version, first.Version+1; got != want {
		t.Fatalf("got version %v, want %v", got, want)
	}
	if got, want := resourceMap(again.RegisteredResources)["MEMORY"].IntegerValue, int32(3000); got != want {
		t.Fatalf("got MEMORY %v, want %v", got, want)
	}
	if !again.RegisteredAt.Equal(*first.RegisteredAt) {
		t.Fatalf("got registeredAt %v, want the first registration's %v", again.RegisteredAt, first.RegisteredAt)
	}

	// Same EC2 instance without the ARN: still the same container instance.
	third := e.registerInstance("ec2", "i-1", "us-east-1a", "t3.small")
	if got := aws.ToString(third.ContainerInstanceArn); got != arn {
		t.Fatalf("got arn %v, want %v", got, arn)
	}
	if got, want := third.Version, again.Version+1; got != want {
		t.Fatalf("got version %v, want %v", got, want)
	}
	// The same EC2 instance in another cluster is another container instance.
	elsewhere := e.registerInstance("other", "i-1", "us-east-1a", "t3.small")
	if aws.ToString(elsewhere.ContainerInstanceArn) == arn {
		t.Fatalf("got %s in cluster other, want a new instance", arn)
	}
	// A different EC2 instance is a new container instance.
	e.registerInstance("ec2", "i-2", "us-east-1a", "t3.small")
	if got, want := e.stateCounts()["instances"], 3; got != want {
		t.Fatalf("got %d instances, want %d", got, want)
	}

	// A previous ARN that names no instance of the cluster is refused.
	for _, prev := range []string{
		arnPrefix + "container-instance/ec2/" + strings.Repeat("a", 32),
		aws.ToString(elsewhere.ContainerInstanceArn),
	} {
		_, err = e.ecs.RegisterContainerInstance(c, &ecs.RegisterContainerInstanceInput{
			Cluster: aws.String("ec2"), ContainerInstanceArn: aws.String(prev), TotalResources: agentResources(),
		})
		if err == nil {
			t.Fatalf("got no error re-registering %s in ec2, want one", prev)
		}
		if code := errCode(err); code != "ClientException" && code != "InvalidParameterException" {
			t.Fatalf("got %s, want ClientException or InvalidParameterException", code)
		}
	}
	if got, want := e.stateCounts()["instances"], 3; got != want {
		t.Fatalf("got %d instances after refused re-registrations, want %d", got, want)
	}

	// After deregistration the EC2 instance registers as a new container instance.
	if _, err := e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("ec2"), ContainerInstance: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	fresh := e.registerInstance("ec2", "i-1", "us-east-1a", "t3.small")
	if aws.ToString(fresh.ContainerInstanceArn) == arn || fresh.Version != 1 {
		t.Fatalf("got %s version %d, want a new instance at version 1", aws.ToString(fresh.ContainerInstanceArn), fresh.Version)
	}
	_, err = e.ecs.RegisterContainerInstance(c, &ecs.RegisterContainerInstanceInput{
		Cluster: aws.String("ec2"), ContainerInstanceArn: aws.String(arn), TotalResources: agentResources(),
	})
	wantAPIError[*types.ClientException](t, err, "")
}

func errCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestInstances_RegisterRejects(t *testing.T) {
	e := start(t)
	e.createCluster("ec2")
	custom := func(n int) []types.Attribute {
		var out []types.Attribute
		for i := range n {
			out = append(out, attr(fmt.Sprintf("custom%d", i), "v"))
		}
		return out
	}
	manyPorts := make([]string, 101)
	for i := range manyPorts {
		manyPorts[i] = fmt.Sprint(1000 + i)
	}
	res := func(name, typ string, i int32, set ...string) []types.Resource {
		r := types.Resource{Name: aws.String(name), IntegerValue: i, StringSetValue: set}
		if typ != "" {
			r.Type = aws.String(typ)
		}
		return []types.Resource{r}
	}
	cases := []struct {
		name    string
		in      ecs.RegisterContainerInstanceInput
		check   func(error)
		message string
	}{
		{"unknown cluster", ecs.RegisterContainerInstanceInput{Cluster: aws.String("nope")},
			func(err error) { wantAPIError[*types.ClientException](t, err, "Cluster not found.") }, ""},
		{"unknown resource", ecs.RegisterContainerInstanceInput{TotalResources: res("DISK", "INTEGER", 1)}, nil, "DISK"},
		{"duplicate resource", ecs.RegisterContainerInstanceInput{TotalResources: append(res("CPU", "INTEGER", 1), res("CPU", "INTEGER", 2)...)}, nil, "CPU"},
		{"wrong type", ecs.RegisterContainerInstanceInput{TotalResources: res("CPU", "STRINGSET", 0, "1")}, nil, "INTEGER"},
		{"negative memory", ecs.RegisterContainerInstanceInput{TotalResources: res("MEMORY", "INTEGER", -1)}, nil, "MEMORY"},
		{"port not a number", ecs.RegisterContainerInstanceInput{TotalResources: res("PORTS", "STRINGSET", 0, "ssh")}, nil, "ssh"},
		{"port out of range", ecs.RegisterContainerInstanceInput{TotalResources: res("PORTS_UDP", "STRINGSET", 0, "70000")}, nil, "70000"},
		{"too many ports", ecs.RegisterContainerInstanceInput{TotalResources: res("PORTS", "STRINGSET", 0, manyPorts...)}, nil, "100"},
		{"bad attribute name", ecs.RegisterContainerInstanceInput{Attributes: []types.Attribute{attr("bad name!", "x")}}, nil, "bad name!"},
		{"bad attribute value", ecs.RegisterContainerInstanceInput{Attributes: []types.Attribute{attr("stack", " lead")}}, nil, "stack"},
		{"too many custom attributes", ecs.RegisterContainerInstanceInput{Attributes: append(custom(11), attr("ecs.os-type", "linux"))},
			func(err error) { wantAPIError[*types.AttributeLimitExceededException](t, err, "10") }, ""},
		{"identity document not JSON", ecs.RegisterContainerInstanceInput{InstanceIdentityDocument: aws.String("{not json")}, nil, "instanceIdentityDocument"},
		{"reserved tag", ecs.RegisterContainerInstanceInput{Tags: []types.Tag{tag("aws:owner", "x")}}, nil, "aws:"},
		{"long tag key", ecs.RegisterContainerInstanceInput{Tags: []types.Tag{tag(strings.Repeat("k", 129), "x")}}, nil, "128"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Cluster == nil {
				in.Cluster = aws.String("ec2")
			}
			_, err := e.ecs.RegisterContainerInstance(ctx(t), &in)
			if tc.check != nil {
				tc.check(err)
			} else {
				wantAPIError[*types.InvalidParameterException](t, err, tc.message)
			}
			if got := e.stateCounts()["instances"]; got != 0 {
				t.Fatalf("got %d instances after a rejected registration, want 0", got)
			}
		})
	}

	// Ten custom attributes are fine, however many ecs.* built-ins come along.
	ci := e.registerInstance("ec2", "i-1", "us-east-1a", "t3.small", append(custom(10),
		attr("ecs.cpu-architecture", "x86_64"), attr("com.amazonaws.ecs.capability.privileged-container", ""))...)
	if got, want := len(ci.Attributes), 10+2+1+3; got != want { // custom, sent built-ins, ecs.os-type, derived built-ins
		t.Fatalf("got %d attributes, want %d", got, want)
	}
}

func TestInstances_Deregister(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	a := e.registerInstance("ec2", "i-a", "us-east-1a", "t3.small")
	b := e.registerInstance("ec2", "i-b", "us-east-1a", "t3.small")
	aARN, bARN := aws.ToString(a.ContainerInstanceArn), aws.ToString(b.ContainerInstanceArn)

	out, err := e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{
		Cluster: aws.String("ec2"), ContainerInstance: aws.String(instanceID(aARN)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.ContainerInstance.Status), "INACTIVE"; got != want {
		t.Fatalf("got status %v, want %v", got, want)
	}
	if got, want := out.ContainerInstance.Version, a.Version+1; got != want {
		t.Fatalf("got version %v, want %v", got, want)
	}
	// Still describable.
	if got := e.describeInstance("ec2", aARN); aws.ToString(got.Status) != "INACTIVE" {
		t.Fatalf("got status %v, want INACTIVE", aws.ToString(got.Status))
	}
	// Not listed: INACTIVE is not even a status ListContainerInstances filters on.
	if got, want := e.listInstances("ec2", "", ""), []string{bARN}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	_, err = e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("ec2"), Status: "INACTIVE"})
	wantAPIError[*types.InvalidParameterException](t, err, "INACTIVE")
	if got, want := e.listInstances("ec2", "", types.ContainerInstanceStatusActive), []string{bARN}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// The cluster no longer counts it.
	d, err := e.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{"ec2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Clusters[0].RegisteredContainerInstancesCount, int32(1); got != want {
		t.Fatalf("got registeredContainerInstancesCount %v, want %v", got, want)
	}

	// Deregistering again, or something unknown, fails and changes nothing.
	for _, ref := range []string{aARN, strings.Repeat("f", 32), "garbage", arnPrefix + "container-instance/other/" + instanceID(bARN)} {
		_, err = e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("ec2"), ContainerInstance: aws.String(ref)})
		wantAPIError[*types.InvalidParameterException](t, err, "")
	}
	if got := e.describeInstance("ec2", bARN); got.Version != b.Version || aws.ToString(got.Status) != "ACTIVE" {
		t.Fatalf("got %s version %d, want ACTIVE version %d", aws.ToString(got.Status), got.Version, b.Version)
	}
	_, err = e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("nope"), ContainerInstance: aws.String(bARN)})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	r := e.raw("DeregisterContainerInstance", []byte(`{"cluster":"ec2"}`), true, nil)
	if r.Status != 400 || r.Type != "InvalidParameterException" {
		t.Fatalf("got %d %s %s, want 400 InvalidParameterException", r.Status, r.Type, r.Message)
	}

	// With force (no tasks exist) it works too.
	if _, err := e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{
		Cluster: aws.String("ec2"), ContainerInstance: aws.String(bARN), Force: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	if got := e.listInstances("ec2", "", ""); len(got) != 0 {
		t.Fatalf("got %v, want no listed instances", got)
	}
	// A cluster with only INACTIVE instances can be deleted.
	if _, err := e.ecs.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String("ec2")}); err != nil {
		t.Fatalf("got %v deleting a cluster with only INACTIVE instances, want success", err)
	}
}

func TestInstances_ListPaginationAndFilter(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("big")
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	kinds := []string{"t2.micro", "t3.small", "m5.large", "t2.large"}
	byEC2 := map[string]string{}
	var all []string
	for i := range 25 {
		ec2ID := fmt.Sprintf("i-%04d", i)
		var extra []types.Attribute
		if i%5 == 0 {
			extra = append(extra, attr("stack", "prod"))
		}
		ci := e.registerInstance("big", ec2ID, zones[i%3], kinds[i%4], extra...)
		byEC2[ec2ID] = aws.ToString(ci.ContainerInstanceArn)
		all = append(all, aws.ToString(ci.ContainerInstanceArn))
	}

	// Pagination: every instance exactly once, in pages of at most 7.
	var got []string
	pages := 0
	p := ecs.NewListContainerInstancesPaginator(e.ecs, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.ContainerInstanceArns) > 7 {
			t.Fatalf("got %d on a page, want at most 7", len(page.ContainerInstanceArns))
		}
		pages++
		got = append(got, page.ContainerInstanceArns...)
	}
	if pages != 4 {
		t.Fatalf("got %d pages, want 4", pages)
	}
	gotSorted, allSorted := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(all))
	if !slices.Equal(gotSorted, allSorted) {
		t.Fatalf("got %d ARNs %v, want the 25 registered", len(got), got)
	}
	// Default page holds all 25 and no token.
	first, err := e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.ContainerInstanceArns) != 25 || first.NextToken != nil {
		t.Fatalf("got %d and token %v, want 25 and none", len(first.ContainerInstanceArns), first.NextToken)
	}
	// Exactly one full page: no token.
	exact, err := e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), MaxResults: aws.Int32(25)})
	if err != nil || exact.NextToken != nil {
		t.Fatalf("got token %v (%v) for a full last page, want none", exact.NextToken, err)
	}

	pick := func(f func(i int) bool) []string {
		var out []string
		for i := range 25 {
			if f(i) {
				out = append(out, byEC2[fmt.Sprintf("i-%04d", i)])
			}
		}
		return slices.Sorted(slices.Values(out))
	}
	cases := []struct {
		filter string
		want   []string
	}{
		{"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", pick(func(i int) bool { return i%3 != 2 })},
		{"attribute:ecs.instance-type =~ t2.*", pick(func(i int) bool { return i%4 == 0 || i%4 == 3 })},
		{"attribute:ecs.instance-type == t3.small", pick(func(i int) bool { return i%4 == 1 })},
		{"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1a", pick(func(i int) bool { return (i%4 == 0 || i%4 == 3) && i%3 != 0 })},
		{"attribute:stack exists", pick(func(i int) bool { return i%5 == 0 })},
		{"not (attribute:stack exists) and attribute:ecs.availability-zone == us-east-1c", pick(func(i int) bool { return i%5 != 0 && i%3 == 2 })},
		{"agentConnected==false", allSorted},
		{"agentConnected == true", nil},
		{"ec2InstanceId == i-0007", pick(func(i int) bool { return i == 7 })},
		{"ec2InstanceId in ['i-0001', 'i-0024', 'i-9999']", pick(func(i int) bool { return i == 1 || i == 24 })},
		{"ec2InstanceId =~ i-001.*", pick(func(i int) bool { return i >= 10 && i <= 19 })},
		{"registeredAt > 2018-06-25", allSorted},
		{"registeredAt < 2018-06-25T12:00:00Z", nil},
		{"agentVersion >= 1.80.0", allSorted},
		{"runningTasksCount == 0", allSorted},
		{"task:group exists", nil},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			got := slices.Sorted(slices.Values(e.listInstances("big", tc.filter, "")))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %d %v, want %d %v", len(got), got, len(tc.want), tc.want)
			}
		})
	}
	// Filter and pagination together: small pages still see every match.
	var paged []string
	p = ecs.NewListContainerInstancesPaginator(e.ecs, &ecs.ListContainerInstancesInput{
		Cluster: aws.String("big"), MaxResults: aws.Int32(2), Filter: aws.String("attribute:ecs.availability-zone == us-east-1a"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page.ContainerInstanceArns...)
	}
	if want := pick(func(i int) bool { return i%3 == 0 }); !slices.Equal(slices.Sorted(slices.Values(paged)), want) {
		t.Fatalf("got %v, want %v", paged, want)
	}

	// Bad requests.
	for _, f := range []string{"attribute:ecs.instance-type ==", "foo == bar", "agentConnected > true", "(attribute:a == b"} {
		_, err := e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), Filter: aws.String(f)})
		wantAPIError[*types.InvalidParameterException](t, err, "filter")
	}
	for _, n := range []int32{0, -1, 101} {
		_, err := e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), MaxResults: aws.Int32(n)})
		wantAPIError[*types.InvalidParameterException](t, err, "maxResults")
	}
	_, err = e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), NextToken: aws.String("bogus")})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	// A token of another operation is refused too.
	lc, err := e.ecs.ListClusters(c, &ecs.ListClustersInput{MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	e.createCluster("zzz")
	lc, err = e.ecs.ListClusters(c, &ecs.ListClustersInput{MaxResults: aws.Int32(1)})
	if err != nil || lc.NextToken == nil {
		t.Fatalf("got %v %v, want a ListClusters token", lc, err)
	}
	_, err = e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), NextToken: lc.NextToken})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	_, err = e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), Status: "SLEEPING"})
	wantAPIError[*types.InvalidParameterException](t, err, "SLEEPING")
	_, err = e.ecs.ListContainerInstances(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("nope")})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
}

func TestInstances_UpdateState(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	var arns []string
	for i := range 12 {
		ci := e.registerInstance("ec2", fmt.Sprintf("i-%d", i), "us-east-1a", "t3.small")
		arns = append(arns, aws.ToString(ci.ContainerInstanceArn))
	}

	// ACTIVE -> DRAINING by ID and ARN; version goes up by one.
	out, err := e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("ec2"), ContainerInstances: []string{instanceID(arns[0]), arns[1]}, Status: types.ContainerInstanceStatusDraining,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ContainerInstances) != 2 || len(out.Failures) != 0 {
		t.Fatalf("got %d instances and failures %+v, want 2 and none", len(out.ContainerInstances), out.Failures)
	}
	for _, ci := range out.ContainerInstances {
		if aws.ToString(ci.Status) != "DRAINING" || ci.Version != 2 {
			t.Fatalf("got %s version %d, want DRAINING version 2", aws.ToString(ci.Status), ci.Version)
		}
	}
	if got, want := slices.Sorted(slices.Values(e.listInstances("ec2", "", types.ContainerInstanceStatusDraining))), slices.Sorted(slices.Values(arns[:2])); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// DRAINING instances are still listed by default.
	if got := len(e.listInstances("ec2", "", "")); got != 12 {
		t.Fatalf("got %d listed, want 12", got)
	}
	// Draining a DRAINING instance again changes nothing.
	out, err = e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("ec2"), ContainerInstances: []string{arns[0]}, Status: types.ContainerInstanceStatusDraining,
	})
	if err != nil || len(out.ContainerInstances) != 1 || out.ContainerInstances[0].Version != 2 {
		t.Fatalf("got %+v %v, want the instance unchanged at version 2", out, err)
	}
	// DRAINING -> ACTIVE.
	out, err = e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("ec2"), ContainerInstances: []string{arns[0]}, Status: types.ContainerInstanceStatusActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	if ci := out.ContainerInstances[0]; aws.ToString(ci.Status) != "ACTIVE" || ci.Version != 3 {
		t.Fatalf("got %s version %d, want ACTIVE version 3", aws.ToString(ci.Status), ci.Version)
	}

	// MISSING failures carry the ARN built from the input; found ones still change.
	unknown := strings.Repeat("9", 32)
	foreign := arnPrefix + "container-instance/other/" + instanceID(arns[3])
	out, err = e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("ec2"), ContainerInstances: []string{unknown, foreign, arns[2]}, Status: types.ContainerInstanceStatusDraining,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ContainerInstances) != 1 || aws.ToString(out.ContainerInstances[0].ContainerInstanceArn) != arns[2] {
		t.Fatalf("got %+v, want only %s updated", out.ContainerInstances, arns[2])
	}
	var failed []string
	for _, f := range out.Failures {
		if aws.ToString(f.Reason) != "MISSING" {
			t.Fatalf("got reason %v, want MISSING", aws.ToString(f.Reason))
		}
		failed = append(failed, aws.ToString(f.Arn))
	}
	if want := []string{arnPrefix + "container-instance/ec2/" + unknown, foreign}; !slices.Equal(failed, want) {
		t.Fatalf("got failures %v, want %v", failed, want)
	}

	// An INACTIVE instance cannot change state: a failure, not an error.
	if _, err := e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("ec2"), ContainerInstance: aws.String(arns[4])}); err != nil {
		t.Fatal(err)
	}
	out, err = e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("ec2"), ContainerInstances: []string{arns[4]}, Status: types.ContainerInstanceStatusDraining,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ContainerInstances) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Arn) != arns[4] || aws.ToString(out.Failures[0].Reason) == "" {
		t.Fatalf("got %+v failures %+v, want one failure for %s", out.ContainerInstances, out.Failures, arns[4])
	}
	if got := e.describeInstance("ec2", arns[4]); aws.ToString(got.Status) != "INACTIVE" {
		t.Fatalf("got %s, want INACTIVE", aws.ToString(got.Status))
	}

	// Bad requests change nothing.
	versions := func() map[string]int64 {
		d, err := e.ecs.DescribeContainerInstances(c, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ec2"), ContainerInstances: arns})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, ci := range d.ContainerInstances {
			m[aws.ToString(ci.ContainerInstanceArn)] = ci.Version
		}
		return m
	}
	before := versions()
	bad := []struct {
		name   string
		refs   []string
		status types.ContainerInstanceStatus
		msg    string
	}{
		{"eleven instances", arns[:11], types.ContainerInstanceStatusDraining, "10"},
		{"none", []string{}, types.ContainerInstanceStatusDraining, "containerInstances"},
		{"to INACTIVE", arns[5:6], "INACTIVE", "INACTIVE"},
		{"to REGISTERING", arns[5:6], types.ContainerInstanceStatusRegistering, "REGISTERING"},
		{"to DEREGISTERING", arns[5:6], types.ContainerInstanceStatusDeregistering, "DEREGISTERING"},
		{"unknown status", arns[5:6], "PAUSED", "PAUSED"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
				Cluster: aws.String("ec2"), ContainerInstances: tc.refs, Status: tc.status,
			})
			wantAPIError[*types.InvalidParameterException](t, err, tc.msg)
		})
	}
	_, err = e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("nope"), ContainerInstances: arns[:1], Status: types.ContainerInstanceStatusDraining,
	})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	_, err = e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("nope"), ContainerInstances: []string{"x"}, Status: types.ContainerInstanceStatusDraining,
	})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	if after := versions(); !mapsEqual(before, after) {
		t.Fatalf("got versions %v after rejected updates, want %v", after, before)
	}
	// Ten is the limit, not an error.
	out, err = e.ecs.UpdateContainerInstancesState(c, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("ec2"), ContainerInstances: arns[2:12], Status: types.ContainerInstanceStatusActive,
	})
	if err != nil || len(out.ContainerInstances)+len(out.Failures) != 10 {
		t.Fatalf("got %+v %v, want 10 results", out, err)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestInstances_ReRegisterKeepsPutAttributes: a re-registration refreshes the
// agent's attributes and keeps those added with PutAttributes.
func TestInstances_ReRegisterKeepsPutAttributes(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	first := e.registerInstance("ec2", "i-1", "us-east-1a", "t3.small", attr("stack", "prod"))
	arn := aws.ToString(first.ContainerInstanceArn)
	if _, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Cluster: aws.String("ec2"),
		Attributes: []types.Attribute{{Name: aws.String("team"), Value: aws.String("web"), TargetId: aws.String(arn)}}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.ecs.RegisterContainerInstance(c, &ecs.RegisterContainerInstanceInput{
		Cluster: aws.String("ec2"), ContainerInstanceArn: aws.String(arn),
		InstanceIdentityDocument: aws.String(identityDoc("i-1", "us-east-1a", "t3.small")),
		TotalResources:           agentResources(),
		Attributes:               []types.Attribute{attr("ecs.os-type", "linux"), attr("stack", "canary")},
	})
	if err != nil {
		t.Fatal(err)
	}
	attrs := out.ContainerInstance.Attributes
	if v, ok := attrValue(attrs, "team"); !ok || v != "web" {
		t.Fatalf("got team=%q (%v), want the PutAttributes value web kept", v, ok)
	}
	if v, _ := attrValue(attrs, "stack"); v != "canary" {
		t.Fatalf("got stack=%q, want the re-registered value canary", v)
	}
	n := 0
	for _, a := range attrs {
		if aws.ToString(a.Name) == "stack" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("got %d stack attributes, want 1", n)
	}
}
