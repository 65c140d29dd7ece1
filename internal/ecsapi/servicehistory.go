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
	found, failures := describeHistory(a, in.ServiceDeploymentArns, arn.TypeServiceDeployment, func(cluster, service, id string) *shape.ServiceDeployment {
		if d := snap.ServiceDeployment(cluster, service, id); d != nil {
			return d.Shape
		}
		return nil
	})
	return &shape.DescribeServiceDeploymentsResponse{ServiceDeployments: found, Failures: failures}, nil
}

// describeServiceRevisions describes service revisions by ARN; a
// deployment recorded before berth kept revisions has none (MISSING).
func describeServiceRevisions(a *API, c *call, in *shape.DescribeServiceRevisionsRequest) (any, error) {
	if err := checkCount("serviceRevisionArns", len(in.ServiceRevisionArns), 1, 20); err != nil {
		return nil, err
	}
	snap := a.snapshot()
	found, failures := describeHistory(a, in.ServiceRevisionArns, arn.TypeServiceRevision, func(cluster, service, id string) *shape.ServiceRevision {
		if r := snap.ServiceRevision(cluster, service, id); r != nil {
			return r.Shape
		}
		return nil
	})
	return &shape.DescribeServiceRevisionsResponse{ServiceRevisions: found, Failures: failures}, nil
}

// describeHistory looks up each ARN of kind (a service deployment or
// revision) with get, in order; an ARN it cannot parse or find is a
// MISSING failure.
func describeHistory[T any](a *API, refs []string, kind string, get func(cluster, service, id string) *T) ([]T, []shape.Failure) {
	found, failures := []T{}, []shape.Failure{}
	for _, ref := range refs {
		var v *T
		if cluster, service, id, ok := a.historyRef(ref, kind); ok {
			v = get(cluster, service, id)
		}
		if v == nil {
			failures = append(failures, shape.Failure{Arn: ptr(echo(ref)), Reason: ptr("MISSING")})
			continue
		}
		found = append(found, *v)
	}
	return found, failures
}
