package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// targetAttr is an attribute aimed at a container instance.
func targetAttr(name, value, target string) types.Attribute {
	a := attr(name, value)
	a.TargetId = aws.String(target)
	if !strings.HasPrefix(target, "arn:") {
		a.TargetType = types.TargetTypeContainerInstance
	}
	return a
}

// listAttrs pages through ListAttributes and returns "targetId name=value" lines.
func (e *env) listAttrs(cluster string, in ecs.ListAttributesInput) []string {
	e.t.Helper()
	in.Cluster = aws.String(cluster)
	if in.TargetType == "" {
		in.TargetType = types.TargetTypeContainerInstance
	}
	var out []string
	p := ecs.NewListAttributesPaginator(e.ecs, &in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(e.t))
		if err != nil {
			e.t.Fatalf("list attributes: %v", err)
		}
		for _, a := range page.Attributes {
			if a.TargetType != types.TargetTypeContainerInstance {
				e.t.Fatalf("got targetType %q, want container-instance", a.TargetType)
			}
			out = append(out, aws.ToString(a.TargetId)+" "+aws.ToString(a.Name)+"="+aws.ToString(a.Value))
		}
	}
	return out
}

func TestAttributes_PutListDelete(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	a := e.registerInstance("ec2", "i-a", "us-east-1a", "t3.small")
	b := e.registerInstance("ec2", "i-b", "us-east-1b", "t3.small")
	aARN, bARN := aws.ToString(a.ContainerInstanceArn), aws.ToString(b.ContainerInstanceArn)

	// By ID (with targetType) and by ARN; the response echoes the request.
	in := []types.Attribute{
		targetAttr("stack", "prod", instanceID(aARN)),
		targetAttr("stack", "dev", bARN),
		targetAttr("gpu-ready", "", bARN),
	}
	put, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Cluster: aws.String("ec2"), Attributes: in})
	if err != nil {
		t.Fatal(err)
	}
	if len(put.Attributes) != len(in) {
		t.Fatalf("got %d attributes back, want %d", len(put.Attributes), len(in))
	}
	for i, got := range put.Attributes {
		want := in[i]
		if aws.ToString(got.Name) != aws.ToString(want.Name) || aws.ToString(got.Value) != aws.ToString(want.Value) ||
			aws.ToString(got.TargetId) != aws.ToString(want.TargetId) || got.TargetType != want.TargetType {
			t.Fatalf("got %+v, want the request's %+v echoed", got, want)
		}
	}
	// The instances carry them, and each change bumped the version once.
	ga := e.describeInstance("ec2", aARN)
	if v, ok := attrValue(ga.Attributes, "stack"); !ok || v != "prod" {
		t.Fatalf("got stack=%q (%v), want prod", v, ok)
	}
	if got, want := ga.Version, a.Version+1; got != want {
		t.Fatalf("got version %v, want %v", got, want)
	}
	gb := e.describeInstance("ec2", bARN)
	if v, ok := attrValue(gb.Attributes, "gpu-ready"); !ok || v != "" {
		t.Fatalf("got gpu-ready=%q (%v), want present without a value", v, ok)
	}

	// Filters.
	cases := []struct {
		name string
		in   ecs.ListAttributesInput
		want []string
	}{
		{"by name", ecs.ListAttributesInput{AttributeName: aws.String("stack")}, []string{aARN + " stack=prod", bARN + " stack=dev"}},
		{"by name and value", ecs.ListAttributesInput{AttributeName: aws.String("stack"), AttributeValue: aws.String("dev")}, []string{bARN + " stack=dev"}},
		{"built-in", ecs.ListAttributesInput{AttributeName: aws.String("ecs.availability-zone")}, []string{aARN + " ecs.availability-zone=us-east-1a", bARN + " ecs.availability-zone=us-east-1b"}},
		{"no match", ecs.ListAttributesInput{AttributeName: aws.String("stack"), AttributeValue: aws.String("qa")}, nil},
		{"unknown name", ecs.ListAttributesInput{AttributeName: aws.String("nothing")}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Sorted(slices.Values(e.listAttrs("ec2", tc.in)))
			if want := slices.Sorted(slices.Values(tc.want)); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
	// Unfiltered: every attribute of every instance.
	all := e.listAttrs("ec2", ecs.ListAttributesInput{})
	if got, want := len(all), len(ga.Attributes)+len(gb.Attributes); got != want {
		t.Fatalf("got %d attributes, want %d: %v", got, want, all)
	}

	// Overwrite a value.
	if _, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Cluster: aws.String("ec2"),
		Attributes: []types.Attribute{targetAttr("stack", "staging", aARN)}}); err != nil {
		t.Fatal(err)
	}
	if got := e.listAttrs("ec2", ecs.ListAttributesInput{AttributeName: aws.String("stack"), AttributeValue: aws.String("staging")}); !slices.Equal(got, []string{aARN + " stack=staging"}) {
		t.Fatalf("got %v, want the overwritten value", got)
	}

	// Delete by ID and by ARN.
	del, err := e.ecs.DeleteAttributes(c, &ecs.DeleteAttributesInput{Cluster: aws.String("ec2"), Attributes: []types.Attribute{
		targetAttr("stack", "", instanceID(aARN)), targetAttr("gpu-ready", "", bARN),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Attributes) != 2 || aws.ToString(del.Attributes[0].Name) != "stack" {
		t.Fatalf("got %+v, want the two deleted attributes", del.Attributes)
	}
	if got := e.listAttrs("ec2", ecs.ListAttributesInput{AttributeName: aws.String("stack")}); !slices.Equal(got, []string{bARN + " stack=dev"}) {
		t.Fatalf("got %v, want only b's stack", got)
	}
	if _, ok := attrValue(e.describeInstance("ec2", bARN).Attributes, "gpu-ready"); ok {
		t.Fatal("got gpu-ready after delete, want it gone")
	}

	// Attributes of INACTIVE instances are not listed, and cannot be set.
	if _, err := e.ecs.DeregisterContainerInstance(c, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("ec2"), ContainerInstance: aws.String(bARN)}); err != nil {
		t.Fatal(err)
	}
	if got := e.listAttrs("ec2", ecs.ListAttributesInput{AttributeName: aws.String("stack")}); len(got) != 0 {
		t.Fatalf("got %v, want nothing from the INACTIVE instance", got)
	}
	_, err = e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Cluster: aws.String("ec2"), Attributes: []types.Attribute{targetAttr("x", "y", bARN)}})
	wantAPIError[*types.TargetNotFoundException](t, err, bARN)
}

func TestAttributes_Limit(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("default")
	ci := e.registerInstance("default", "i-a", "us-east-1a", "t3.small",
		attr("ecs.cpu-architecture", "x86_64"), attr("com.amazonaws.ecs.capability.privileged-container", ""), attr("custom0", "v"))
	arn := aws.ToString(ci.ContainerInstanceArn)
	// Nine more custom attributes reach the limit of ten; built-ins don't count.
	var nine []types.Attribute
	for i := 1; i <= 9; i++ {
		nine = append(nine, targetAttr(fmt.Sprintf("custom%d", i), "v", arn))
	}
	if _, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Attributes: nine}); err != nil {
		t.Fatalf("got %v putting the 10th custom attribute, want success", err)
	}
	before := e.describeInstance("default", arn)

	// The 11th is refused and nothing of the request is applied.
	_, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Attributes: []types.Attribute{
		targetAttr("custom0", "changed", arn), targetAttr("custom10", "v", arn),
	}})
	wantAPIError[*types.AttributeLimitExceededException](t, err, "10")
	after := e.describeInstance("default", arn)
	if after.Version != before.Version {
		t.Fatalf("got version %d after a refused put, want %d", after.Version, before.Version)
	}
	if v, _ := attrValue(after.Attributes, "custom0"); v != "v" {
		t.Fatalf("got custom0=%q after a refused put, want v", v)
	}

	// Overwriting an existing custom attribute at the limit is fine.
	if _, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Attributes: []types.Attribute{targetAttr("custom5", "w", arn)}}); err != nil {
		t.Fatalf("got %v overwriting at the limit, want success", err)
	}
	// So is deleting one and adding another.
	if _, err := e.ecs.DeleteAttributes(c, &ecs.DeleteAttributesInput{Attributes: []types.Attribute{targetAttr("custom9", "", arn)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Attributes: []types.Attribute{targetAttr("custom10", "v", arn)}}); err != nil {
		t.Fatalf("got %v after freeing a slot, want success", err)
	}
}

func TestAttributes_Rejects(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	e.createCluster("other")
	ci := e.registerInstance("ec2", "i-a", "us-east-1a", "t3.small")
	arn := aws.ToString(ci.ContainerInstanceArn)
	id := instanceID(arn)
	elsewhere := aws.ToString(e.registerInstance("other", "i-z", "us-east-1a", "t3.small").ContainerInstanceArn)
	eleven := make([]types.Attribute, 11)
	for i := range eleven {
		eleven[i] = targetAttr(fmt.Sprintf("a%d", i), "v", arn)
	}
	noTarget := attr("stack", "prod")
	noType := attr("stack", "prod")
	noType.TargetId = aws.String(id)
	badType := targetAttr("stack", "prod", arn)
	badType.TargetType = "service"

	type check func(t *testing.T, err error)
	invalid := func(msg string) check {
		return func(t *testing.T, err error) { wantAPIError[*types.InvalidParameterException](t, err, msg) }
	}
	notFound := func(msg string) check {
		return func(t *testing.T, err error) { wantAPIError[*types.TargetNotFoundException](t, err, msg) }
	}
	cases := []struct {
		name    string
		cluster string
		attrs   []types.Attribute
		check   check
	}{
		{"bad name", "ec2", []types.Attribute{targetAttr("has space", "v", arn)}, invalid("has space")},
		{"name too long", "ec2", []types.Attribute{targetAttr(strings.Repeat("n", 129), "v", arn)}, invalid("")},
		{"value with leading space", "ec2", []types.Attribute{targetAttr("stack", " prod", arn)}, invalid("stack")},
		{"value too long", "ec2", []types.Attribute{targetAttr("stack", strings.Repeat("v", 129), arn)}, invalid("stack")},
		{"value with bad character", "ec2", []types.Attribute{targetAttr("stack", "a#b", arn)}, invalid("stack")},
		{"eleven in one call", "ec2", eleven, invalid("10")},
		{"no targetId", "ec2", []types.Attribute{noTarget}, invalid("targetId")},
		{"short ID without targetType", "ec2", []types.Attribute{noType}, invalid("targetType")},
		{"wrong targetType", "ec2", []types.Attribute{badType}, invalid("service")},
		{"unknown ID", "ec2", []types.Attribute{targetAttr("stack", "v", strings.Repeat("0", 32))}, notFound(strings.Repeat("0", 32))},
		{"unknown ARN", "ec2", []types.Attribute{targetAttr("stack", "v", arnPrefix+"container-instance/ec2/"+strings.Repeat("0", 32))}, notFound("")},
		{"instance of another cluster", "ec2", []types.Attribute{targetAttr("stack", "v", elsewhere)}, notFound("")},
		{"not an ID", "ec2", []types.Attribute{targetAttr("stack", "v", "i-a")}, notFound("i-a")},
		{"one good one unknown", "ec2", []types.Attribute{targetAttr("stack", "v", arn), targetAttr("stack", "v", strings.Repeat("0", 32))}, notFound("")},
		{"unknown cluster", "nope", []types.Attribute{targetAttr("stack", "v", id)}, func(t *testing.T, err error) {
			wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Cluster: aws.String(tc.cluster), Attributes: tc.attrs})
			tc.check(t, err)
			if got := e.describeInstance("ec2", arn); got.Version != ci.Version {
				t.Fatalf("got version %d after a rejected put, want %d", got.Version, ci.Version)
			}
		})
	}
	for _, tc := range cases[5:] { // the target rules apply to deletes too
		t.Run("delete "+tc.name, func(t *testing.T) {
			_, err := e.ecs.DeleteAttributes(c, &ecs.DeleteAttributesInput{Cluster: aws.String(tc.cluster), Attributes: tc.attrs})
			tc.check(t, err)
			if got := e.describeInstance("ec2", arn); got.Version != ci.Version {
				t.Fatalf("got version %d after a rejected delete, want %d", got.Version, ci.Version)
			}
		})
	}
	// An empty list: the SDK checks only presence, so send it raw.
	r := e.raw("PutAttributes", []byte(`{"cluster":"ec2","attributes":[]}`), true, nil)
	if r.Status != 400 || r.Type != "InvalidParameterException" {
		t.Fatalf("got %d %s %q, want 400 InvalidParameterException", r.Status, r.Type, r.Message)
	}
}

func TestAttributes_ListPaginationAndRules(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("ec2")
	var want []string
	for i := range 4 {
		ci := e.registerInstance("ec2", fmt.Sprintf("i-%d", i), "us-east-1a", "t3.small")
		arn := aws.ToString(ci.ContainerInstanceArn)
		var attrs []types.Attribute
		for j := range 5 {
			attrs = append(attrs, targetAttr(fmt.Sprintf("k%d", j), fmt.Sprintf("v%d", i), arn))
			want = append(want, fmt.Sprintf("%s k%d=v%d", arn, j, i))
		}
		if _, err := e.ecs.PutAttributes(c, &ecs.PutAttributesInput{Cluster: aws.String("ec2"), Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	// All instances' attributes, in pages of 3, each exactly once.
	var got []string
	pages := 0
	p := ecs.NewListAttributesPaginator(e.ecs, &ecs.ListAttributesInput{Cluster: aws.String("ec2"), TargetType: types.TargetTypeContainerInstance, MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Attributes) > 3 {
			t.Fatalf("got %d on a page, want at most 3", len(page.Attributes))
		}
		pages++
		for _, a := range page.Attributes {
			got = append(got, aws.ToString(a.TargetId)+" "+aws.ToString(a.Name)+"="+aws.ToString(a.Value))
		}
	}
	// Each instance also has ecs.os-type and three derived built-ins.
	if total := 4 * (5 + 4); len(got) != total || pages != (total+2)/3 {
		t.Fatalf("got %d attributes in %d pages, want %d in %d", len(got), pages, total, (total+2)/3)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
		t.Fatalf("got duplicates in %v", got)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Fatalf("got no %q in %v", w, got)
		}
	}
	// Filtered pagination.
	filtered := e.listAttrs("ec2", ecs.ListAttributesInput{AttributeName: aws.String("k3"), MaxResults: aws.Int32(1)})
	if len(filtered) != 4 {
		t.Fatalf("got %v, want k3 of 4 instances", filtered)
	}

	// Rules.
	_, err := e.ecs.ListAttributes(c, &ecs.ListAttributesInput{Cluster: aws.String("ec2"), TargetType: types.TargetTypeContainerInstance, AttributeValue: aws.String("v1")})
	wantAPIError[*types.InvalidParameterException](t, err, "attributeName")
	_, err = e.ecs.ListAttributes(c, &ecs.ListAttributesInput{Cluster: aws.String("ec2"), TargetType: "task"})
	wantAPIError[*types.InvalidParameterException](t, err, "task")
	for _, n := range []int32{0, 101} {
		_, err = e.ecs.ListAttributes(c, &ecs.ListAttributesInput{Cluster: aws.String("ec2"), TargetType: types.TargetTypeContainerInstance, MaxResults: aws.Int32(n)})
		wantAPIError[*types.InvalidParameterException](t, err, "maxResults")
	}
	_, err = e.ecs.ListAttributes(c, &ecs.ListAttributesInput{Cluster: aws.String("ec2"), TargetType: types.TargetTypeContainerInstance, NextToken: aws.String("xyz")})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	_, err = e.ecs.ListAttributes(c, &ecs.ListAttributesInput{Cluster: aws.String("nope"), TargetType: types.TargetTypeContainerInstance})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	// targetType is required; the SDK checks that itself, so send it raw.
	r := e.raw("ListAttributes", []byte(`{"cluster":"ec2"}`), true, nil)
	if r.Status != 400 || r.Type != "InvalidParameterException" || !strings.Contains(r.Message, "targetType") {
		t.Fatalf("got %d %s %q, want 400 InvalidParameterException about targetType", r.Status, r.Type, r.Message)
	}
}
