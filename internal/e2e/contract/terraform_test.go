package contract

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// waitTimeout bounds each of the provider's waits; the operations take
// seconds.
const waitTimeout = 2 * time.Minute

// breakerReason is the statusReason of a deployment the circuit breaker
// failed.
const breakerReason = "ECS deployment circuit breaker: tasks failed to start."

// taskDefinition is the input of an aws_ecs_task_definition whose one
// container runs entryPoint with args.
func taskDefinition(entryPoint string, args ...string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("web"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("berth-contract:1"), Memory: aws.Int32(32), Essential: aws.Bool(true),
			EntryPoint: []string{entryPoint}, Command: args,
		}},
	}
}

// serviceInput is the CreateServiceInput the provider builds for an
// aws_ecs_service with these arguments (and the schema's defaults).
func serviceInput(taskDef string, desired int32, breaker *types.DeploymentCircuitBreaker) *ecs.CreateServiceInput {
	token := make([]byte, 13)
	rand.Read(token)
	return &ecs.CreateServiceInput{
		Cluster: aws.String(clusterID), ServiceName: aws.String("web"), TaskDefinition: aws.String(taskDef),
		ClientToken: aws.String("terraform-" + hex.EncodeToString(token)),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MaximumPercent: aws.Int32(200), MinimumHealthyPercent: aws.Int32(100), DeploymentCircuitBreaker: breaker,
		},
		DesiredCount: aws.Int32(desired), SchedulingStrategy: types.SchedulingStrategyReplica,
		EnableECSManagedTags: false, EnableExecuteCommand: false,
		VpcLatticeConfigurations: []types.VpcLatticeConfiguration{},
	}
}

// setUp is `terraform apply` of a cluster and its capacity providers,
// then an instance joining the cluster.
func setUp(t *testing.T) (*env, *provider, string) {
	e := newEnv(t)
	p := &provider{ecs: e.ecs}
	clusterArn, err := p.createCluster(ctx(t), clusterID)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.putClusterCapacityProviders(ctx(t), clusterID); err != nil {
		t.Fatal(err)
	}
	e.startAgent(e.endpoint)
	return e, p, clusterArn
}

// tearDown is `terraform destroy` of what is left once the service is
// gone: the task definition, the capacity providers, the instance (out of
// band, as its Auto Scaling group would) and the cluster.
func tearDown(t *testing.T, e *env, p *provider, clusterArn, taskDef string) {
	if err := p.deregisterTaskDefinition(ctx(t), taskDef); err != nil {
		t.Fatal(err)
	}
	if err := p.putClusterCapacityProviders(ctx(t), clusterID); err != nil {
		t.Fatal(err)
	}
	e.stopInstances()
	if err := p.deleteCluster(ctx(t), clusterArn, waitTimeout); err != nil {
		t.Fatal(err)
	}
}

// TestTerraformServiceLifecycle replays `terraform apply` of a service
// with wait_for_steady_state, a new task definition revision (replaced
// as Terraform replaces it: the old revision is deregistered first), a
// scale-out, and `terraform destroy`. Each stable wait of a new
// deployment must follow its service deployment to SUCCESSFUL; the
// scale-out, which starts none, must end on the counts.
func TestTerraformServiceLifecycle(t *testing.T) {
	e, p, clusterArn := setUp(t)
	c, cancel := withTimeout(ctx(t), 5*waitTimeout)
	defer cancel()

	td1, err := p.registerTaskDefinition(c, taskDefinition("sleep", "3600"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.createService(c, serviceInput(td1, 2, nil), waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	first := e.wantDeployment(t, p, types.ServiceDeploymentStatusSuccessful, td1, 2)

	if err := p.deregisterTaskDefinition(c, td1); err != nil {
		t.Fatal(err)
	}
	td2, err := p.registerTaskDefinition(c, taskDefinition("sleep", "3601"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.updateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(clusterID), Service: aws.String(id),
		TaskDefinition: aws.String(td2)}, waitTimeout); err != nil {
		t.Fatal(err)
	}
	second := e.wantDeployment(t, p, types.ServiceDeploymentStatusSuccessful, td2, 2)
	if src := second.SourceServiceRevisions; len(src) != 1 || aws.ToString(src[0].Arn) != aws.ToString(first.TargetServiceRevision.Arn) {
		t.Errorf("the second deployment replaces %s, want the first one's revision %s", summaries(src), aws.ToString(first.TargetServiceRevision.Arn))
	}

	if err := p.updateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(clusterID), Service: aws.String(id),
		DesiredCount: aws.Int32(3)}, waitTimeout); err != nil {
		t.Fatal(err)
	}
	if p.deploymentArn != "" {
		t.Errorf("a scale-out started no deployment, yet the wait followed %s", p.deploymentArn)
	}
	if s, err := p.findServiceNoTags(c, id, clusterID); err != nil || s.RunningCount != 3 || len(s.Deployments) != 1 {
		t.Errorf("after the scale-out: %+v, %v; want 3 running tasks of one deployment", s, err)
	}

	if err := p.deleteService(c, id, clusterID, waitTimeout); err != nil {
		t.Fatal(err)
	}
	tearDown(t, e, p, clusterArn, td2)
}

// TestTerraformCircuitBreaker replays a service whose deployments the
// circuit breaker fails: a create whose tasks cannot start (nothing to
// roll back to: STOPPED), the tainted service replaced by a good one,
// then an update to the bad revision, rolled back (ROLLBACK_SUCCESSFUL).
// Both stable waits must end with the deployment's statusReason, as the
// provider reports it.
func TestTerraformCircuitBreaker(t *testing.T) {
	e, p, clusterArn := setUp(t)
	c, cancel := withTimeout(ctx(t), 5*waitTimeout)
	defer cancel()
	breaker := &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}

	bad, err := p.registerTaskDefinition(c, taskDefinition("/no/such/program"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.createService(c, serviceInput(bad, 1, breaker), waitTimeout)
	if err == nil || !strings.HasSuffix(err.Error(), ": "+breakerReason) {
		t.Fatalf("create with a revision that cannot start: got %v, want the wait to end with %q", err, breakerReason)
	}
	failed := e.wantDeployment(t, p, types.ServiceDeploymentStatusStopped, bad, 1)
	if cb := failed.DeploymentCircuitBreaker; cb == nil || cb.Status != types.ServiceDeploymentRollbackMonitorsStatusTriggered || cb.FailureCount < 3 || cb.Threshold != 3 {
		t.Errorf("the failed deployment's circuit breaker: %+v, want TRIGGERED, at least 3 failures of a threshold of 3", cb)
	}

	// The tainted service is replaced: destroyed, then created again.
	if err := p.deleteService(c, id, clusterID, waitTimeout); err != nil {
		t.Fatal(err)
	}
	good, err := p.registerTaskDefinition(c, taskDefinition("sleep", "3600"))
	if err != nil {
		t.Fatal(err)
	}
	if id, err = p.createService(c, serviceInput(good, 1, breaker), waitTimeout); err != nil {
		t.Fatal(err)
	}
	stable := e.wantDeployment(t, p, types.ServiceDeploymentStatusSuccessful, good, 1)
	if hist := e.history(t, id); len(hist) != 1 || aws.ToString(hist[0].ServiceDeploymentArn) != p.deploymentArn {
		t.Errorf("the service created again lists %d deployments, want its own one alone: %+v", len(hist), hist)
	}

	err = p.updateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(clusterID), Service: aws.String(id), TaskDefinition: aws.String(bad)}, waitTimeout)
	if err == nil || !strings.HasSuffix(err.Error(), ": "+breakerReason) {
		t.Fatalf("update to a revision that cannot start: got %v, want the wait to end with %q", err, breakerReason)
	}
	rolledBack := e.wantDeployment(t, p, types.ServiceDeploymentStatusRollbackSuccessful, bad, 1)
	if rb := rolledBack.Rollback; rb == nil || aws.ToString(rb.ServiceRevisionArn) != aws.ToString(stable.TargetServiceRevision.Arn) || rb.StartedAt == nil {
		t.Errorf("the rolled back deployment's rollback: %+v, want one to %s", rb, aws.ToString(stable.TargetServiceRevision.Arn))
	}
	if s, err := p.findServiceNoTags(c, id, clusterID); err != nil || aws.ToString(s.TaskDefinition) != good {
		t.Errorf("after the rollback the service runs %v (%v), want %s", s.TaskDefinition, err, good)
	}

	if err := p.deleteService(c, id, clusterID, waitTimeout); err != nil {
		t.Fatal(err)
	}
	if err := p.deregisterTaskDefinition(c, bad); err != nil {
		t.Fatal(err)
	}
	tearDown(t, e, p, clusterArn, good)
}
