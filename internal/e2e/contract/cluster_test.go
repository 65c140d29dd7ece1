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

// findCluster mirrors findClusterByNameOrARN: DescribeClusters with tags,
// configurations and settings; ClusterNotFound and INACTIVE are "not
// found".
func (p *provider) findCluster(c context.Context, nameOrARN string) (*types.Cluster, error) {
	out, err := p.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{nameOrARN},
		Include: []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldConfigurations, types.ClusterFieldSettings}})
	var cnf *types.ClusterNotFoundException
	if errors.As(err, &cnf) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if len(out.Clusters) != 1 {
		if len(out.Clusters) == 0 {
			return nil, errNotFound
		}
		return nil, fmt.Errorf("DescribeClusters returned %d clusters", len(out.Clusters))
	}
	if aws.ToString(out.Clusters[0].Status) == "INACTIVE" {
		return nil, errNotFound
	}
	return &out.Clusters[0], nil
}

func (p *provider) statusCluster(c context.Context, arn string) func() (any, string, error) {
	return func() (any, string, error) {
		cl, err := p.findCluster(c, arn)
		if errors.Is(err, errNotFound) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		return cl, aws.ToString(cl.Status), nil
	}
}

// createCluster mirrors resourceClusterCreate: CreateCluster, then
// waitClusterAvailable (PROVISIONING → ACTIVE), then the read. It returns
// the cluster ARN (the resource ID).
func (p *provider) createCluster(c context.Context, name string) (string, error) {
	out, err := p.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String(name),
		Tags: []types.Tag{{Key: aws.String("managed-by"), Value: aws.String("terraform")}}})
	if err != nil {
		return "", fmt.Errorf("creating ECS Cluster (%s): %w", name, err)
	}
	id := aws.ToString(out.Cluster.ClusterArn)
	if _, err := (stateChange{pending: []string{"PROVISIONING"}, target: []string{"ACTIVE"},
		refresh: p.statusCluster(c, id), timeout: time.Minute}).wait(c); err != nil {
		return id, fmt.Errorf("waiting for ECS Cluster (%s) create: %w", id, err)
	}
	_, err = p.findCluster(c, id)
	return id, err
}

// putClusterCapacityProviders mirrors aws_ecs_cluster_capacity_providers
// without providers (its create and its delete send the same):
// PutClusterCapacityProviders, retried while the cluster is busy, then
// waitClusterAvailable and the read.
func (p *provider) putClusterCapacityProviders(c context.Context, name string) error {
	err := retryWhen(c, time.Minute, func() error {
		_, err := p.ecs.PutClusterCapacityProviders(c, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String(name),
			CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{}})
		return err
	}, func(err error) bool {
		var ce *types.ClientException
		var inUse *types.ResourceInUseException
		var busy *types.UpdateInProgressException
		return errors.As(err, &ce) && strings.Contains(ce.ErrorMessage(), "Cluster was not ACTIVE") || errors.As(err, &inUse) || errors.As(err, &busy)
	})
	if err != nil {
		return fmt.Errorf("updating ECS Cluster Capacity Providers (%s): %w", name, err)
	}
	if _, err := (stateChange{pending: []string{"PROVISIONING"}, target: []string{"ACTIVE"},
		refresh: p.statusCluster(c, name), timeout: time.Minute}).wait(c); err != nil {
		return fmt.Errorf("waiting for ECS Cluster Capacity Providers (%s) update: %w", name, err)
	}
	_, err = p.findCluster(c, name)
	return err
}

// deleteCluster mirrors resourceClusterDelete: DeleteCluster, retried
// while the cluster still holds instances, services or tasks, then
// waitClusterDeleted (until the cluster reads as not found).
func (p *provider) deleteCluster(c context.Context, id string, timeout time.Duration) error {
	err := retryWhen(c, timeout, func() error {
		_, err := p.ecs.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String(id)})
		return err
	}, func(err error) bool {
		var ci *types.ClusterContainsContainerInstancesException
		var cs *types.ClusterContainsServicesException
		var ct *types.ClusterContainsTasksException
		var busy *types.UpdateInProgressException
		return errors.As(err, &ci) || errors.As(err, &cs) || errors.As(err, &ct) || errors.As(err, &busy)
	})
	if err != nil {
		return fmt.Errorf("deleting ECS Cluster (%s): %w", id, err)
	}
	if _, err := (stateChange{pending: []string{"ACTIVE", "DEPROVISIONING"}, refresh: p.statusCluster(c, id),
		timeout: timeout}).wait(c); err != nil {
		return fmt.Errorf("waiting for ECS Cluster (%s) delete: %w", id, err)
	}
	return nil
}

// registerTaskDefinition mirrors resourceTaskDefinitionCreate and its
// read (DescribeTaskDefinition with tags; INACTIVE is "not found"). It
// returns the ARN.
func (p *provider) registerTaskDefinition(c context.Context, in *ecs.RegisterTaskDefinitionInput) (string, error) {
	out, err := p.ecs.RegisterTaskDefinition(c, in)
	if err != nil {
		return "", fmt.Errorf("creating ECS Task Definition (%s): %w", aws.ToString(in.Family), err)
	}
	arn := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	d, err := p.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		return arn, fmt.Errorf("reading ECS Task Definition (%s): %w", arn, err)
	}
	if st := d.TaskDefinition.Status; st == types.TaskDefinitionStatusInactive || st == types.TaskDefinitionStatusDeleteInProgress {
		return arn, fmt.Errorf("reading ECS Task Definition (%s): %s", arn, st)
	}
	return arn, nil
}

// deregisterTaskDefinition mirrors resourceTaskDefinitionDelete.
func (p *provider) deregisterTaskDefinition(c context.Context, arn string) error {
	_, err := p.ecs.DeregisterTaskDefinition(c, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	var ce *types.ClientException
	if errors.As(err, &ce) && strings.Contains(ce.ErrorMessage(), "in the process of being deleted") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting ECS Task Definition (%s): %w", arn, err)
	}
	return nil
}
