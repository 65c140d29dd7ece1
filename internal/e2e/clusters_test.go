package e2e

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestClusters_CreateDescribeListDelete(t *testing.T) {
	e := start(t)
	c := ctx(t)
	out, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{
		ClusterName: aws.String("web"),
		Tags:        []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := out.Cluster
	if got, want := aws.ToString(cl.ClusterArn), "arn:aws:ecs:us-east-1:123456789012:cluster/web"; got != want {
		t.Fatalf("got arn %s, want %s", got, want)
	}
	if got := aws.ToString(cl.Status); got != "ACTIVE" {
		t.Fatalf("got status %s, want ACTIVE", got)
	}
	if len(cl.Settings) != 1 || cl.Settings[0].Name != types.ClusterSettingNameContainerInsights || aws.ToString(cl.Settings[0].Value) != "disabled" {
		t.Fatalf("got settings %+v, want containerInsights=disabled", cl.Settings)
	}

	// Idempotent on name: the same ACTIVE cluster comes back.
	again, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(again.Cluster.ClusterArn) != aws.ToString(cl.ClusterArn) {
		t.Fatalf("got %s, want the existing cluster", aws.ToString(again.Cluster.ClusterArn))
	}

	// Describe: by name and ARN, tags only on request, unknown ones MISSING.
	d, err := e.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{
		Clusters: []string{"web", aws.ToString(cl.ClusterArn), "nope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 2 || len(d.Failures) != 1 {
		t.Fatalf("got %d clusters, %d failures, want 2 and 1", len(d.Clusters), len(d.Failures))
	}
	if d.Clusters[0].Tags != nil {
		t.Fatalf("got tags %v without include TAGS, want none", d.Clusters[0].Tags)
	}
	if got, want := aws.ToString(d.Failures[0].Arn), "arn:aws:ecs:us-east-1:123456789012:cluster/nope"; got != want || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("got failure %s %s, want %s MISSING", got, aws.ToString(d.Failures[0].Reason), want)
	}
	d, err = e.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{"web"},
		Include: []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldStatistics, types.ClusterFieldSettings}})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Clusters[0]; len(got.Tags) != 1 || aws.ToString(got.Tags[0].Value) != "blue" || len(got.Statistics) == 0 || len(got.Settings) != 1 {
		t.Fatalf("got tags %v statistics %v settings %v, want all three", got.Tags, got.Statistics, got.Settings)
	}

	// An empty list describes the default cluster.
	d, err = e.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Failures) != 1 || aws.ToString(d.Failures[0].Arn) != "arn:aws:ecs:us-east-1:123456789012:cluster/default" {
		t.Fatalf("got %+v, want default MISSING", d.Failures)
	}

	// Delete: INACTIVE, still describable, gone from lists, recreatable.
	del, err := e.ecs.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(del.Cluster.Status); got != "INACTIVE" {
		t.Fatalf("got %s, want INACTIVE", got)
	}
	d, err = e.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{"web"}})
	if err != nil || len(d.Clusters) != 1 || aws.ToString(d.Clusters[0].Status) != "INACTIVE" {
		t.Fatalf("got %+v %v, want the INACTIVE cluster", d, err)
	}
	l, err := e.ecs.ListClusters(c, &ecs.ListClustersInput{})
	if err != nil || len(l.ClusterArns) != 0 {
		t.Fatalf("got %v %v, want no clusters", l.ClusterArns, err)
	}
	_, err = e.ecs.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String("web")})
	wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	if _, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
}

func TestClusters_DefaultNameAndPagination(t *testing.T) {
	e := start(t)
	c := ctx(t)
	out, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Cluster.ClusterName); got != "default" {
		t.Fatalf("got %s, want default", got)
	}
	for i := range 7 {
		if _, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("c%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	pages := 0
	p := ecs.NewListClustersPaginator(e.ecs, &ecs.ListClustersInput{MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, page.ClusterArns...)
	}
	if len(all) != 8 || pages != 3 {
		t.Fatalf("got %d clusters in %d pages, want 8 in 3", len(all), pages)
	}
	seen := map[string]bool{}
	for _, a := range all {
		if seen[a] {
			t.Fatalf("got %s twice", a)
		}
		seen[a] = true
	}
	_, err = e.ecs.ListClusters(c, &ecs.ListClustersInput{MaxResults: aws.Int32(101)})
	wantAPIError[*types.InvalidParameterException](t, err, "maxResults")
	_, err = e.ecs.ListClusters(c, &ecs.ListClustersInput{NextToken: aws.String("garbage")})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
}

func TestClusters_UpdateSettingsAndCapacityProviders(t *testing.T) {
	e := start(t)
	c := ctx(t)
	if _, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	u, err := e.ecs.UpdateClusterSettings(c, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("a"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enhanced")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(u.Cluster.Settings[0].Value); got != "enhanced" || len(u.Cluster.Settings) != 1 {
		t.Fatalf("got %v, want one setting enhanced", u.Cluster.Settings)
	}
	_, err = e.ecs.UpdateClusterSettings(c, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("a"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("loud")}}})
	wantAPIError[*types.InvalidParameterException](t, err, "loud")

	up, err := e.ecs.UpdateCluster(c, &ecs.UpdateClusterInput{Cluster: aws.String("a"), Configuration: &types.ClusterConfiguration{
		ExecuteCommandConfiguration: &types.ExecuteCommandConfiguration{Logging: types.ExecuteCommandLoggingDefault}}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Cluster.Configuration == nil || up.Cluster.Configuration.ExecuteCommandConfiguration.Logging != types.ExecuteCommandLoggingDefault {
		t.Fatalf("got configuration %+v, want logging DEFAULT", up.Cluster.Configuration)
	}

	p, err := e.ecs.PutClusterCapacityProviders(c, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("a"),
		CapacityProviders:               []string{"FARGATE"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cluster.CapacityProviders) != 1 || len(p.Cluster.DefaultCapacityProviderStrategy) != 1 {
		t.Fatalf("got %+v, want FARGATE stored", p.Cluster)
	}
	_, err = e.ecs.PutClusterCapacityProviders(c, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("a"),
		CapacityProviders:               []string{"nope"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{}})
	wantAPIError[*types.InvalidParameterException](t, err, "nope")
	_, err = e.ecs.UpdateClusterSettings(c, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("zz"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
	wantAPIError[*types.ClusterNotFoundException](t, err, "")
}

func TestClusters_BadNames(t *testing.T) {
	e := start(t)
	c := ctx(t)
	for _, name := range []string{"has space", "slash/es", string(make([]byte, 256))} {
		_, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String(name)})
		wantAPIError[*types.InvalidParameterException](t, err, "")
	}
	if n := e.stateCounts()["clusters"]; n != 0 {
		t.Fatalf("got %d clusters after bad input, want 0", n)
	}
	_, err := e.ecs.ListTasks(c, &ecs.ListTasksInput{Cluster: aws.String("bad name")})
	wantAPIError[*types.InvalidParameterException](t, err, "Cluster must match")
}
