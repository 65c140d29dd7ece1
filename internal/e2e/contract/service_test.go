package contract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The provider's own service statuses for the stable wait.
const (
	tfPending = "tfPENDING"
	tfStable  = "tfSTABLE"
)

// errNotFound is the provider's retry.NotFoundError for a service.
var errNotFound = errors.New("service not found")

// provider mirrors the aws_ecs_service resource's calls. It also records
// how each stable wait decided (for the tests' assertions only).
type provider struct {
	ecs *ecs.Client
	// deploymentArn is the service deployment the last stable wait
	// followed ("" when it fell back to comparing counts).
	deploymentArn string
}

// findServiceNoTags mirrors findServiceNoTagsByTwoPartKey: DescribeServices
// of one service; ServiceNotFound, ClusterNotFound or a MISSING failure
// is "not found".
func (p *provider) findServiceNoTags(c context.Context, service, cluster string) (*types.Service, error) {
	return p.findService(c, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
}

// findServiceWithTags mirrors findServiceByTwoPartKey (the read after a
// create or update).
func (p *provider) findServiceWithTags(c context.Context, service, cluster string) (*types.Service, error) {
	return p.findService(c, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service},
		Include: []types.ServiceField{types.ServiceFieldTags}})
}

func (p *provider) findService(c context.Context, in *ecs.DescribeServicesInput) (*types.Service, error) {
	out, err := p.ecs.DescribeServices(c, in)
	var snf *types.ServiceNotFoundException
	var cnf *types.ClusterNotFoundException
	if errors.As(err, &snf) || errors.As(err, &cnf) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, f := range out.Failures {
		if aws.ToString(f.Reason) == "MISSING" {
			return nil, errNotFound
		}
	}
	if len(out.Services) != 1 {
		return nil, fmt.Errorf("DescribeServices returned %d services", len(out.Services))
	}
	return &out.Services[0], nil
}

// statusService mirrors statusService: not found is a nil result.
func (p *provider) statusService(c context.Context, service, cluster string) func() (any, string, error) {
	return func() (any, string, error) {
		s, err := p.findServiceNoTags(c, service, cluster)
		if errors.Is(err, errNotFound) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		return s, aws.ToString(s.Status), nil
	}
}

// waitServiceStable mirrors waitServiceStable (without the SIGINT
// rollback, which only acts on an interrupt).
func (p *provider) waitServiceStable(c context.Context, service, cluster string, operationTime time.Time, timeout time.Duration) error {
	p.deploymentArn = ""
	_, err := stateChange{
		pending: []string{"INACTIVE", "DRAINING", tfPending},
		target:  []string{tfStable},
		refresh: p.statusServiceWaitForStable(c, service, cluster, operationTime),
		timeout: timeout,
	}.wait(c)
	return err
}

// statusServiceWaitForStable mirrors statusServiceWaitForStable: the
// PRIMARY deployment is read once; when the service uses the ECS
// controller and that deployment was created after the operation began,
// the wait follows its service deployment; otherwise it compares counts.
func (p *provider) statusServiceWaitForStable(c context.Context, service, cluster string, operationTime time.Time) func() (any, string, error) {
	var primary *types.Deployment
	var deploymentArn *string
	var isNew bool
	return func() (any, string, error) {
		raw, status, err := p.statusService(c, service, cluster)()
		if err != nil {
			return nil, "", err
		}
		if status != "ACTIVE" {
			return raw, status, nil
		}
		s := raw.(*types.Service)
		if primary == nil {
			for _, d := range s.Deployments {
				if aws.ToString(d.Status) == "PRIMARY" {
					primary = &d
					break
				}
			}
			if primary != nil && primary.CreatedAt != nil {
				isNew = primary.CreatedAt.UTC().After(operationTime)
			}
		}
		if s.DeploymentController != nil && s.DeploymentController.Type == types.DeploymentControllerTypeEcs && isNew {
			if deploymentArn == nil {
				deploymentArn, err = p.findPrimaryDeploymentARN(c, primary, aws.ToString(s.ServiceArn), cluster, operationTime)
				if err != nil {
					return nil, "", err
				}
				if deploymentArn == nil {
					return s, tfPending, nil
				}
				p.deploymentArn = *deploymentArn
			}
			status, err := p.findDeploymentStatus(c, *deploymentArn)
			if err != nil {
				return nil, "", err
			}
			return s, status, nil
		}
		if len(s.Deployments) == 1 && s.DesiredCount == s.RunningCount {
			return s, tfStable, nil
		}
		return s, tfPending, nil
	}
}

// findPrimaryDeploymentARN mirrors findPrimaryDeploymentARN: list the
// service's deployments created after the operation began (every page)
// and keep the one whose target service revision ARN contains the number
// of the PRIMARY deployment's ID (ecs-svc/N).
func (p *provider) findPrimaryDeploymentARN(c context.Context, primary *types.Deployment, serviceArn, cluster string, operationTime time.Time) (*string, error) {
	parts := strings.Split(aws.ToString(primary.Id), "/")
	if len(parts) < 2 {
		return nil, fmt.Errorf("invalid primary task set ID format: %s", aws.ToString(primary.Id))
	}
	in := &ecs.ListServiceDeploymentsInput{
		Cluster: aws.String(cluster), Service: aws.String(serviceArn[strings.LastIndex(serviceArn, "/")+1:]),
		CreatedAt: &types.CreatedAt{After: &operationTime},
	}
	briefs, err := listServiceDeploymentsPages(c, p.ecs, in)
	if err != nil {
		return nil, err
	}
	for _, b := range briefs {
		if strings.Contains(aws.ToString(b.TargetServiceRevisionArn), parts[1]) {
			return b.ServiceDeploymentArn, nil
		}
	}
	return nil, nil
}

// findDeploymentStatus mirrors findDeploymentStatus: SUCCESSFUL is
// stable, STOPPED and the rollback outcomes end the wait with the
// deployment's statusReason, anything else (or no result) is pending.
func (p *provider) findDeploymentStatus(c context.Context, arn string) (string, error) {
	out, err := p.ecs.DescribeServiceDeployments(c, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil {
		return "", err
	}
	if len(out.ServiceDeployments) == 0 {
		return tfPending, nil
	}
	switch d := out.ServiceDeployments[0]; d.Status {
	case types.ServiceDeploymentStatusSuccessful:
		return tfStable, nil
	case types.ServiceDeploymentStatusInProgress:
		return tfPending, nil
	case types.ServiceDeploymentStatusStopped, types.ServiceDeploymentStatusRollbackFailed, types.ServiceDeploymentStatusRollbackSuccessful:
		msg := "Deployment failed"
		if d.StatusReason != nil {
			msg = aws.ToString(d.StatusReason)
		}
		return "", errors.New(msg)
	default:
		return tfPending, nil
	}
}

// listServiceDeploymentsPages mirrors the provider's generated pager:
// every page, following nextToken.
func listServiceDeploymentsPages(c context.Context, client *ecs.Client, in *ecs.ListServiceDeploymentsInput) ([]types.ServiceDeploymentBrief, error) {
	var out []types.ServiceDeploymentBrief
	cp := *in
	in = &cp
	for {
		page, err := client.ListServiceDeployments(c, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.ServiceDeployments...)
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// waitServiceInactive mirrors waitServiceInactive.
func (p *provider) waitServiceInactive(c context.Context, service, cluster string, timeout time.Duration) error {
	_, err := stateChange{
		pending: []string{"ACTIVE", "DRAINING"},
		target:  []string{"INACTIVE"},
		refresh: p.statusService(c, service, cluster),
		timeout: timeout,
	}.wait(c)
	return err
}

// createService mirrors resourceServiceCreate with wait_for_steady_state:
// the operation time is taken before CreateService, then the stable wait,
// then the read. It returns the service ARN (the resource ID).
func (p *provider) createService(c context.Context, in *ecs.CreateServiceInput, timeout time.Duration) (string, error) {
	operationTime := time.Now().UTC()
	afterMillisecond(operationTime)
	out, err := p.ecs.CreateService(c, in)
	if err != nil {
		return "", fmt.Errorf("creating ECS Service (%s): %w", aws.ToString(in.ServiceName), err)
	}
	id := aws.ToString(out.Service.ServiceArn)
	if err := p.waitServiceStable(c, id, aws.ToString(in.Cluster), operationTime, timeout); err != nil {
		return id, fmt.Errorf("waiting for ECS Service (%s) create: %w", id, err)
	}
	_, err = p.findServiceWithTags(c, id, aws.ToString(in.Cluster))
	return id, err
}

// updateService mirrors resourceServiceUpdate with wait_for_steady_state.
func (p *provider) updateService(c context.Context, in *ecs.UpdateServiceInput, timeout time.Duration) error {
	operationTime := time.Now().UTC()
	afterMillisecond(operationTime)
	if _, err := p.ecs.UpdateService(c, in); err != nil {
		return fmt.Errorf("updating ECS Service (%s): %w", aws.ToString(in.Service), err)
	}
	if err := p.waitServiceStable(c, aws.ToString(in.Service), aws.ToString(in.Cluster), operationTime, timeout); err != nil {
		return fmt.Errorf("waiting for ECS Service (%s) update: %w", aws.ToString(in.Service), err)
	}
	_, err := p.findServiceWithTags(c, aws.ToString(in.Service), aws.ToString(in.Cluster))
	return err
}

// deleteService mirrors resourceServiceDelete without force_delete: scale
// to 0 unless DRAINING, DeleteService (retried while deployments are
// active), then wait until INACTIVE.
func (p *provider) deleteService(c context.Context, id, cluster string, timeout time.Duration) error {
	s, err := p.findServiceNoTags(c, id, cluster)
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading ECS Service (%s): %w", id, err)
	}
	status := aws.ToString(s.Status)
	if status == "INACTIVE" {
		return nil
	}
	if status != "DRAINING" && s.SchedulingStrategy != types.SchedulingStrategyDaemon {
		if _, err := p.ecs.UpdateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), DesiredCount: aws.Int32(0), Service: aws.String(id)}); err != nil {
			return fmt.Errorf("draining ECS Service (%s): %w", id, err)
		}
	}
	err = retryWhen(c, timeout, func() error {
		_, err := p.ecs.DeleteService(c, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Force: aws.Bool(false), Service: aws.String(id)})
		return err
	}, func(err error) bool {
		var ip *types.InvalidParameterException
		return errors.As(err, &ip) && strings.Contains(ip.ErrorMessage(), "The service cannot be stopped while deployments are active.")
	})
	if err != nil {
		return fmt.Errorf("deleting ECS Service (%s): %w", id, err)
	}
	if err := p.waitServiceInactive(c, id, cluster, timeout); err != nil {
		return fmt.Errorf("waiting for ECS Service (%s) delete: %w", id, err)
	}
	return nil
}

// retryWhen mirrors tfresource.RetryWhen: call f until it succeeds, fails
// with an error retryable does not accept, or the timeout passes.
func retryWhen(c context.Context, timeout time.Duration, f func() error, retryable func(error) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || !retryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-c.Done():
			return err
		case <-time.After(pollInterval):
		}
	}
}

// afterMillisecond returns once the clock has passed the millisecond of
// t. ECS keeps timestamps to the millisecond, so a deployment created
// within the same millisecond as the operation began would read as
// created before it; the provider's requests travel far longer than a
// millisecond, a request in process may not.
func afterMillisecond(t time.Time) {
	next := t.Truncate(time.Millisecond).Add(time.Millisecond)
	for time.Now().Before(next) {
		time.Sleep(time.Until(next))
	}
}
