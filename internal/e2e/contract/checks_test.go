package contract

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// wantDeployment checks the service deployment the last stable wait
// followed: its status, and a target service revision of taskDef with
// desired tasks requested (and running, once SUCCESSFUL; a rolled back
// one runs none), which DescribeServiceRevisions describes. It returns the
// deployment.
func (e *env) wantDeployment(t *testing.T, p *provider, status types.ServiceDeploymentStatus, taskDef string, desired int32) types.ServiceDeployment {
	t.Helper()
	if p.deploymentArn == "" {
		t.Fatal("the stable wait found no service deployment to follow")
	}
	out, err := e.ecs.DescribeServiceDeployments(ctx(t), &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{p.deploymentArn}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		t.Fatalf("DescribeServiceDeployments %s: %+v, %v", p.deploymentArn, out, err)
	}
	d := out.ServiceDeployments[0]
	target := d.TargetServiceRevision
	running := int32(0)
	if status == types.ServiceDeploymentStatusSuccessful {
		running = desired
	}
	if d.Status != status || target == nil || target.RequestedTaskCount != desired || target.RunningTaskCount != running {
		t.Fatalf("deployment %s: status %s, target %s; want %s with %d tasks", p.deploymentArn, d.Status, summaries([]types.ServiceRevisionSummary{deref(target)}), status, desired)
	}
	if status != types.ServiceDeploymentStatusSuccessful && aws.ToString(d.StatusReason) == "" {
		t.Errorf("deployment %s is %s without a statusReason", p.deploymentArn, d.Status)
	}
	revs, err := e.ecs.DescribeServiceRevisions(ctx(t), &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(target.Arn)}})
	if err != nil || len(revs.ServiceRevisions) != 1 {
		t.Fatalf("DescribeServiceRevisions %s: %+v, %v", aws.ToString(target.Arn), revs, err)
	}
	if r := revs.ServiceRevisions[0]; aws.ToString(r.TaskDefinition) != taskDef || aws.ToString(r.ServiceArn) != aws.ToString(d.ServiceArn) {
		t.Errorf("revision %s: task definition %s of %s, want %s of %s", aws.ToString(target.Arn), aws.ToString(r.TaskDefinition),
			aws.ToString(r.ServiceArn), taskDef, aws.ToString(d.ServiceArn))
	}
	return d
}

// history lists every deployment of the service, as the provider lists
// them (without a createdAt filter here).
func (e *env) history(t *testing.T, service string) []types.ServiceDeploymentBrief {
	t.Helper()
	in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(clusterID), Service: aws.String(service[strings.LastIndex(service, "/")+1:])}
	out, err := listServiceDeploymentsPages(ctx(t), e.ecs, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func summaries(ss []types.ServiceRevisionSummary) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "[%s requested %d running %d pending %d]", aws.ToString(s.Arn), s.RequestedTaskCount, s.RunningTaskCount, s.PendingTaskCount)
	}
	return b.String()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
