package ecsapi

import (
	"cmp"
	"fmt"
	"slices"

	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// Service deployment history: ListServiceDeployments,
// DescribeServiceDeployments and DescribeServiceRevisions answer from the
// history records and service revisions package fsm keeps.

// listServiceDeployments lists the deployments of the current service of
// that name (not those of a deleted service of the same name), newest
// first as ECS lists them, filtered by status and createdAt (both bounds
// inclusive). Pages resume after the last deployment returned.
func listServiceDeployments(a *API, c *call, in *shape.ListServiceDeploymentsRequest) (any, error) {
	cluster, err := a.clusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	name, err := a.serviceName(cluster, in.Service)
	if err != nil {
		return nil, err
	}
	if err := checkEnums("status", in.Status); err != nil {
		return nil, err
	}
	limit, after, err := pagination(c.op, in.MaxResults, in.NextToken, 20, 100)
	if err != nil {
		return nil, err
	}
	snap := a.snapshot()
	if _, err := fsm.ActiveCluster(snap, cluster); err != nil {
		return nil, err
	}
	svc := snap.Service(cluster, name)
	if svc == nil {
		return nil, fsm.ErrServiceNotFound()
	}
	since := svc.Shape.CreatedAt.Time()
	var records []*state.ServiceDeployment
	snap.ServiceDeployments(cluster, name, func(d *state.ServiceDeployment) bool {
		t := d.Shape.CreatedAt.Time()
		ca := in.CreatedAt
		switch {
		case t.Before(since): // an earlier service of the same name
		case len(in.Status) > 0 && !slices.Contains(in.Status, d.Shape.Status):
		case ca != nil && (ca.After != nil && t.Before(ca.After.Time()) || ca.Before != nil && t.After(ca.Before.Time())):
		case after != "" && historyKey(d) >= after:
		default:
			records = append(records, d)
		}
		return true
	})
	slices.SortFunc(records, func(x, y *state.ServiceDeployment) int { return cmp.Compare(historyKey(y), historyKey(x)) })
	out := &shape.ListServiceDeploymentsResponse{ServiceDeployments: []shape.ServiceDeploymentBrief{}}
	for i, d := range records {
		if i == limit {
			out.NextToken = nextToken(c.op, historyKey(records[i-1]))
			break
		}
		sh := d.Shape
		out.ServiceDeployments = append(out.ServiceDeployments, shape.ServiceDeploymentBrief{
			ServiceDeploymentArn: sh.ServiceDeploymentArn, ServiceArn: sh.ServiceArn, ClusterArn: sh.ClusterArn,
			CreatedAt: sh.CreatedAt, StartedAt: sh.StartedAt, FinishedAt: sh.FinishedAt, Status: sh.Status, StatusReason: sh.StatusReason,
			TargetServiceRevisionArn: ptr(a.cfg.Namer.ServiceRevision(cluster, name, fsm.DeploymentNumber(d.ID))),
		})
	}
	return out, nil
}

// historyKey orders history records: by creation (milliseconds), then ID.
func historyKey(d *state.ServiceDeployment) string {
	return fmt.Sprintf("%020d/%s", d.Shape.CreatedAt.Time().UnixMilli(), d.ID)
}

func describeServiceDeployments(a *API, c *call, in *shape.DescribeServiceDeploymentsRequest) (any, error) {
	if err := checkCount("serviceDeploymentArns", len(in.ServiceDeploymentArns), 1, 20); err != nil {
		return nil, err
	}
	snap := a.snapshot()
	out := &shape.DescribeServiceDeploymentsResponse{ServiceDeployments: []shape.ServiceDeployment{}, Failures: []shape.Failure{}}
	for _, ref := range in.ServiceDeploymentArns {
		cluster, service, id, ok := a.historyRef(ref, arn.TypeServiceDeployment)
		var d *state.ServiceDeployment
		if ok {
			d = snap.ServiceDeployment(cluster, service, id)
		}
		if d == nil {
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(echo(ref)), Reason: ptr("MISSING")})
			continue
		}
		out.ServiceDeployments = append(out.ServiceDeployments, *d.Shape)
	}
	return out, nil
}

// describeServiceRevisions describes service revisions by ARN; a
// deployment recorded before berth kept revisions has none (MISSING).
func describeServiceRevisions(a *API, c *call, in *shape.DescribeServiceRevisionsRequest) (any, error) {
	if err := checkCount("serviceRevisionArns", len(in.ServiceRevisionArns), 1, 20); err != nil {
		return nil, err
	}
	snap := a.snapshot()
	out := &shape.DescribeServiceRevisionsResponse{ServiceRevisions: []shape.ServiceRevision{}, Failures: []shape.Failure{}}
	for _, ref := range in.ServiceRevisionArns {
		cluster, service, id, ok := a.historyRef(ref, arn.TypeServiceRevision)
		var r *state.ServiceRevision
		if ok {
			r = snap.ServiceRevision(cluster, service, id)
		}
		if r == nil {
			out.Failures = append(out.Failures, shape.Failure{Arn: ptr(echo(ref)), Reason: ptr("MISSING")})
			continue
		}
		out.ServiceRevisions = append(out.ServiceRevisions, *r.Shape)
	}
	return out, nil
}
