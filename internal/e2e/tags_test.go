package e2e

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func (e *env) tagsOf(arn string) map[string]string {
	e.t.Helper()
	out, err := e.ecs.ListTagsForResource(ctx(e.t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("list tags of %s: %v", arn, err)
	}
	if out.Tags == nil {
		e.t.Fatalf("got nil tags for %s, want a list", arn)
	}
	return tagMap(out.Tags)
}

// taggable creates one of each taggable resource and returns their ARNs.
func taggable(t *testing.T, e *env) (cluster, taskDef, instance string) {
	t.Helper()
	cluster = e.createCluster("tagged")
	td, err := e.ecs.RegisterTaskDefinition(ctx(t), minimalTaskDef("web"))
	if err != nil {
		t.Fatal(err)
	}
	taskDef = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	instance = aws.ToString(e.registerInstance("tagged", "i-t", "us-east-1a", "t3.small").ContainerInstanceArn)
	return cluster, taskDef, instance
}

func TestTags_TagListUntagEachResource(t *testing.T) {
	e := start(t)
	c := ctx(t)
	cluster, taskDef, instance := taggable(t, e)
	e.holdStream(t, "tagged", instance)
	run, err := e.ecs.RunTask(c, &ecs.RunTaskInput{Cluster: aws.String("tagged"), TaskDefinition: aws.String(taskDef)})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run task: %v %+v", err, run)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)
	svc, err := e.ecs.CreateService(c, &ecs.CreateServiceInput{Cluster: aws.String("tagged"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String(taskDef), DesiredCount: aws.Int32(0)})
	if err != nil {
		t.Fatal(err)
	}
	service := aws.ToString(svc.Service.ServiceArn)

	// describe returns the resource's tags the way its Describe shows them.
	describe := map[string]func() map[string]string{
		"cluster": func() map[string]string {
			d, err := e.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{cluster}, Include: []types.ClusterField{types.ClusterFieldTags}})
			if err != nil || len(d.Clusters) != 1 {
				t.Fatalf("describe cluster: %v %+v", err, d)
			}
			return tagMap(d.Clusters[0].Tags)
		},
		"task definition": func() map[string]string {
			d, err := e.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(taskDef), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
			if err != nil {
				t.Fatal(err)
			}
			return tagMap(d.Tags)
		},
		"container instance": func() map[string]string {
			return tagMap(e.describeInstance("tagged", instance, types.ContainerInstanceFieldTags).Tags)
		},
		"task": func() map[string]string {
			d, err := e.ecs.DescribeTasks(c, &ecs.DescribeTasksInput{Cluster: aws.String("tagged"), Tasks: []string{task}, Include: []types.TaskField{types.TaskFieldTags}})
			if err != nil || len(d.Tasks) != 1 {
				t.Fatalf("describe task: %v %+v", err, d)
			}
			return tagMap(d.Tasks[0].Tags)
		},
		"service": func() map[string]string {
			d, err := e.ecs.DescribeServices(c, &ecs.DescribeServicesInput{Cluster: aws.String("tagged"), Services: []string{service}, Include: []types.ServiceField{types.ServiceFieldTags}})
			if err != nil || len(d.Services) != 1 {
				t.Fatalf("describe service: %v %+v", err, d)
			}
			return tagMap(d.Services[0].Tags)
		},
	}
	// Every record berth keeps tags on: each walks tag, list, untag, list.
	for name, arn := range map[string]string{"cluster": cluster, "task definition": taskDef, "container instance": instance, "task": task, "service": service} {
		t.Run(name, func(t *testing.T) {
			if got := e.tagsOf(arn); len(got) != 0 {
				t.Fatalf("got %v, want no tags", got)
			}
			if _, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(arn),
				Tags: []types.Tag{tag("team", "blue"), tag("env", "prod"), tag("empty", "")}}); err != nil {
				t.Fatal(err)
			}
			// Overwrite one, add one.
			if _, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(arn),
				Tags: []types.Tag{tag("team", "red"), tag("Name", "with space:/=+-@._")}}); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"team": "red", "env": "prod", "empty": "", "Name": "with space:/=+-@._"}
			if got := e.tagsOf(arn); !maps.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			if got := describe[name](); !maps.Equal(got, want) {
				t.Fatalf("got %v from describe, want %v", got, want)
			}
			// Untag; unknown keys are ignored.
			if _, err := e.ecs.UntagResource(c, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"env", "never-set"}}); err != nil {
				t.Fatal(err)
			}
			delete(want, "env")
			if got := e.tagsOf(arn); !maps.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			if got := describe[name](); !maps.Equal(got, want) {
				t.Fatalf("got %v from describe, want %v", got, want)
			}
			// ECS's rules hold for every kind alike.
			for _, bad := range [][]types.Tag{{tag("aws:x", "v")}, {tag("d", "1"), tag("d", "2")}, {tag(strings.Repeat("k", 129), "v")},
				{tag("k", strings.Repeat("v", 257))}, {tag("k!", "v")}} {
				_, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: bad})
				wantAPIError[*types.InvalidParameterException](t, err, "")
			}
			_, err := e.ecs.UntagResource(c, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"aws:x"}})
			wantAPIError[*types.InvalidParameterException](t, err, "aws: prefix")
			var fifty []types.Tag
			for i := range 50 - len(want) + 1 {
				fifty = append(fifty, tag(fmt.Sprintf("n%02d", i), "v"))
			}
			_, err = e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: fifty})
			wantAPIError[*types.InvalidParameterException](t, err, "at most 50 tags")
			if got := e.tagsOf(arn); !maps.Equal(got, want) {
				t.Fatalf("got %v after refused requests, want %v", got, want)
			}
		})
	}

	// A service that is no longer ACTIVE is not tagged.
	if _, err := e.ecs.DeleteService(c, &ecs.DeleteServiceInput{Cluster: aws.String("tagged"), Service: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(service), Tags: []types.Tag{tag("late", "x")}})
	wantAPIError[*types.ServiceNotActiveException](t, err, "Service was not ACTIVE.")

	// Tags given at creation are listed too.
	if _, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String("born-tagged"), Tags: []types.Tag{tag("a", "1")}}); err != nil {
		t.Fatal(err)
	}
	if got := e.tagsOf(arnPrefix + "cluster/born-tagged"); !maps.Equal(got, map[string]string{"a": "1"}) {
		t.Fatalf("got %v, want a=1", got)
	}
	td := minimalTaskDef("tagged-td")
	td.Tags = []types.Tag{tag("b", "2")}
	reg, err := e.ecs.RegisterTaskDefinition(c, td)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.tagsOf(aws.ToString(reg.TaskDefinition.TaskDefinitionArn)); !maps.Equal(got, map[string]string{"b": "2"}) {
		t.Fatalf("got %v, want b=2", got)
	}
	// Tags are per revision.
	reg2, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef("tagged-td"))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.tagsOf(aws.ToString(reg2.TaskDefinition.TaskDefinitionArn)); len(got) != 0 {
		t.Fatalf("got %v on revision 2, want none", got)
	}
}

func TestTags_Rules(t *testing.T) {
	e := start(t)
	c := ctx(t)
	cluster, _, _ := taggable(t, e)
	// Start with 30 tags.
	var thirty []types.Tag
	for i := range 30 {
		thirty = append(thirty, tag(fmt.Sprintf("k%02d", i), "v"))
	}
	if _, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(cluster), Tags: thirty}); err != nil {
		t.Fatal(err)
	}
	before := e.tagsOf(cluster)
	fiftyOne := make([]types.Tag, 51)
	for i := range fiftyOne {
		fiftyOne[i] = tag(fmt.Sprintf("n%02d", i), "v")
	}
	twentyOne := fiftyOne[:21]
	cases := []struct {
		name string
		tags []types.Tag
		msg  string
	}{
		{"51 in one request", fiftyOne, "50"},
		{"over 50 in total", twentyOne, "50"},
		{"key too long", []types.Tag{tag(strings.Repeat("k", 129), "v")}, "128"},
		{"value too long", []types.Tag{tag("k", strings.Repeat("v", 257))}, "256"},
		{"empty key", []types.Tag{tag("", "v")}, "key"},
		{"aws: prefix", []types.Tag{tag("aws:cloudformation:stack", "v")}, "aws:"},
		{"AWS: prefix in any case", []types.Tag{tag("AwS:x", "v")}, "aws:"},
		{"bad key character", []types.Tag{tag("a*b", "v")}, "a*b"},
		{"bad value character", []types.Tag{tag("k", "v#")}, "k"},
		{"duplicate key", []types.Tag{tag("dup", "1"), tag("dup", "2")}, "dup"},
		{"no tags", []types.Tag{}, "tags"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(cluster), Tags: tc.tags})
			wantAPIError[*types.InvalidParameterException](t, err, tc.msg)
			if got := e.tagsOf(cluster); !maps.Equal(got, before) {
				t.Fatalf("got %d tags after a rejected request, want the %d from before", len(got), len(before))
			}
		})
	}
	// Exactly 50 in total is fine; unicode letters and 128/256-long keys and values too.
	last := []types.Tag{tag("ключ", "значение"), tag(strings.Repeat("k", 128), strings.Repeat("v", 256))}
	last = append(last, fiftyOne[:18]...)
	if _, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(cluster), Tags: last}); err != nil {
		t.Fatalf("got %v reaching 50 tags, want success", err)
	}
	if got := len(e.tagsOf(cluster)); got != 50 {
		t.Fatalf("got %d tags, want 50", got)
	}
	// Overwriting at 50 is fine.
	if _, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(cluster), Tags: []types.Tag{tag("k00", "new")}}); err != nil {
		t.Fatalf("got %v overwriting at 50, want success", err)
	}

	// Untag rules.
	_, err := e.ecs.UntagResource(c, &ecs.UntagResourceInput{ResourceArn: aws.String(cluster), TagKeys: []string{"aws:x"}})
	wantAPIError[*types.InvalidParameterException](t, err, "aws:")
	_, err = e.ecs.UntagResource(c, &ecs.UntagResourceInput{ResourceArn: aws.String(cluster), TagKeys: []string{}})
	wantAPIError[*types.InvalidParameterException](t, err, "tagKeys")
	if got := len(e.tagsOf(cluster)); got != 50 {
		t.Fatalf("got %d tags after rejected untags, want 50", got)
	}
}

func TestTags_UnknownResourcesAndBadARNs(t *testing.T) {
	e := start(t)
	c := ctx(t)
	_, taskDef, instance := taggable(t, e)
	e.createCluster("gone")
	if _, err := e.ecs.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	counts := e.stateCounts()
	unknownID := strings.Repeat("0", 32)
	type check func(t *testing.T, err error)
	invalid := func(msg string) check {
		return func(t *testing.T, err error) { wantAPIError[*types.InvalidParameterException](t, err, msg) }
	}
	missing := func(t *testing.T, err error) { wantAPIError[*types.ResourceNotFoundException](t, err, "") }
	cases := []struct {
		name string
		arn  string
		check
	}{
		{"unknown cluster", arnPrefix + "cluster/nope", func(t *testing.T, err error) {
			wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
		}},
		{"INACTIVE cluster", arnPrefix + "cluster/gone", invalid("The specified cluster is inactive. Specify an active cluster and try again.")},
		{"unknown task definition", arnPrefix + "task-definition/nope:1", missing},
		{"unknown revision", strings.TrimSuffix(taskDef, ":1") + ":9", missing},
		{"unknown container instance", arnPrefix + "container-instance/tagged/" + unknownID, missing},
		{"instance under another cluster", strings.Replace(instance, "/tagged/", "/other/", 1), missing},
		{"unknown task", arnPrefix + "task/tagged/" + unknownID, missing},
		{"unknown service", arnPrefix + "service/tagged/web", missing},
		{"other region", "arn:aws:ecs:eu-west-1:123456789012:cluster/tagged", missing},
		{"other account", "arn:aws:ecs:us-east-1:999999999999:cluster/tagged", missing},
		{"not an ARN", "tagged", invalid("tagged")},
		{"other service", "arn:aws:s3:::my-bucket/key", invalid("arn:aws:s3")},
		{"task definition without revision", arnPrefix + "task-definition/web", invalid("")},
		{"short container instance ARN", arnPrefix + "container-instance/" + instanceID(instance), invalid("Long arn format must be used for tagging operations")},
		{"short task ARN", arnPrefix + "task/" + unknownID, invalid("Long arn format must be used for tagging operations")},
		{"short service ARN", arnPrefix + "service/web", invalid("Long arn format must be used for tagging operations")},
		{"cluster ARN with extra path", arnPrefix + "cluster/a/b", invalid("")},
		{"untaggable type", arnPrefix + "container/tagged/" + unknownID + "/x", invalid("")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.TagResource(c, &ecs.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: []types.Tag{tag("k", "v")}})
			tc.check(t, err)
			_, err = e.ecs.UntagResource(c, &ecs.UntagResourceInput{ResourceArn: aws.String(tc.arn), TagKeys: []string{"k"}})
			tc.check(t, err)
			_, err = e.ecs.ListTagsForResource(c, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
			tc.check(t, err)
		})
	}
	if got := e.stateCounts(); !maps.Equal(got, counts) {
		t.Fatalf("got state %v, want %v", got, counts)
	}
	// The resources that do exist have no tags after all that.
	for _, arn := range []string{taskDef, instance, arnPrefix + "cluster/tagged"} {
		if got := e.tagsOf(arn); len(got) != 0 {
			t.Fatalf("got %v on %s, want none", got, arn)
		}
	}
	// resourceArn is required; the SDK checks that itself, so send it raw.
	r := e.raw("ListTagsForResource", []byte(`{}`), true, nil)
	if r.Status != 400 || r.Type != "InvalidParameterException" || !strings.Contains(r.Message, "resourceArn") {
		t.Fatalf("got %d %s %q, want 400 InvalidParameterException about resourceArn", r.Status, r.Type, r.Message)
	}
}
