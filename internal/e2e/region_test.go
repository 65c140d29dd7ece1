package e2e

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// A request signed for another region than the server's (the SDK or
// `aws --region eu-west-1` pointed at a us-east-1 server) is refused as AWS
// refuses it, before the operation runs: nothing is created, and no ARN of
// the wrong region is ever handed out.
func TestRegion_RequestForAnotherRegionRefused(t *testing.T) {
	e := start(t)
	other := ecs.NewFromConfig(aws.Config{}, func(o *ecs.Options) {
		*o = e.ecs.Options()
		o.Region = "eu-west-1"
	})
	_, err := other.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("elsewhere")})
	wantCode(t, err, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'.")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("got %v, want status 400", err)
	}
	list, err := e.ecs.ListClusters(ctx(t), &ecs.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.ClusterArns) != 0 {
		t.Fatalf("the refused request created %v", list.ClusterArns)
	}

	// The server's own region still works, and names it.
	out, err := e.ecs.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("here")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.Cluster.ClusterArn), "arn:aws:ecs:us-east-1:"+testAccount+":cluster/here"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
