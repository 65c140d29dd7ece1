package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/internal/shape"
)

// manifest is `berth deploy`'s file: a service with its task definition
// inline. Member names are ECS's (the task definition is a
// RegisterTaskDefinition input, as for --cli-input-json).
type manifest struct {
	Cluster                       string                               `json:"cluster"`
	Service                       string                               `json:"service"`
	DesiredCount                  *int32                               `json:"desiredCount"`
	SchedulingStrategy            string                               `json:"schedulingStrategy"`
	DeploymentConfiguration       *shape.DeploymentConfiguration       `json:"deploymentConfiguration"`
	HealthCheckGracePeriodSeconds *int32                               `json:"healthCheckGracePeriodSeconds"`
	PlacementConstraints          []shape.PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy             []shape.PlacementStrategy            `json:"placementStrategy"`
	PropagateTags                 string                               `json:"propagateTags"`
	EnableECSManagedTags          bool                                 `json:"enableECSManagedTags"`
	Tags                          []shape.Tag                          `json:"tags"`
	TaskDefinition                *shape.RegisterTaskDefinitionRequest `json:"taskDefinition"`
	LoadBalancer                  *manifestLB                          `json:"loadBalancer"`
	ServiceDiscovery              *manifestSD                          `json:"serviceDiscovery"`
	LaunchType                    string                               `json:"launchType"`
	NetworkConfiguration          *shape.NetworkConfiguration          `json:"networkConfiguration"`

	deploymentConfig *types.DeploymentConfiguration
	constraints      []types.PlacementConstraint
	strategy         []types.PlacementStrategy
	tags             []types.Tag
	network          *types.NetworkConfiguration
}

// defaultTaskSubnets is the subnet berth deploy gives an awsvpc service
// whose manifest names no networkConfiguration (berth has no VPC: any
// subnet ID does).
var defaultTaskSubnets = []string{"subnet-berth"}

// readManifest reads and checks a manifest; its errors name members as
// written in the file.
func readManifest(path string) (*manifest, *ecs.RegisterTaskDefinitionInput, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var m manifest
	if err := decodeFile(js, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Service == "" {
		return nil, nil, fmt.Errorf("%s: service is required", path)
	}
	if m.DesiredCount == nil && m.SchedulingStrategy != string(types.SchedulingStrategyDaemon) {
		return nil, nil, fmt.Errorf("%s: desiredCount is required (unless schedulingStrategy is DAEMON)", path)
	}
	if m.TaskDefinition == nil {
		return nil, nil, fmt.Errorf("%s: taskDefinition is required", path)
	}
	if err := checkTaskDefinition(m.TaskDefinition, "taskDefinition."); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.LoadBalancer != nil {
		if err := checkLoadBalancer(&m); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if m.ServiceDiscovery != nil {
		if err := checkServiceDiscovery(&m); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if m.Cluster == "" {
		m.Cluster = "default"
	}
	var td ecs.RegisterTaskDefinitionInput
	fromWire(&td, m.TaskDefinition)
	if td.Family == nil {
		td.Family = aws.String(m.Service)
	}
	if m.DeploymentConfiguration != nil {
		m.deploymentConfig = &types.DeploymentConfiguration{}
		fromWire(m.deploymentConfig, m.DeploymentConfiguration)
	}
	fromWire(&m.constraints, m.PlacementConstraints)
	fromWire(&m.strategy, m.PlacementStrategy)
	fromWire(&m.tags, m.Tags)
	if m.NetworkConfiguration == nil && m.TaskDefinition.NetworkMode == shape.NetworkModeAwsvpc {
		m.NetworkConfiguration = &shape.NetworkConfiguration{AwsvpcConfiguration: &shape.AwsVpcConfiguration{Subnets: defaultTaskSubnets}}
	}
	if m.NetworkConfiguration != nil {
		m.network = &types.NetworkConfiguration{}
		fromWire(m.network, m.NetworkConfiguration)
	}
	return &m, &td, nil
}

// checkTaskDefinition refuses, before anything is registered, a task
// definition without containers, or a container without a name or image.
func checkTaskDefinition(td *shape.RegisterTaskDefinitionRequest, prefix string) error {
	if len(td.ContainerDefinitions) == 0 {
		return fmt.Errorf("%scontainerDefinitions is required", prefix)
	}
	for i, c := range td.ContainerDefinitions {
		if aws.ToString(c.Name) == "" {
			return fmt.Errorf("%scontainerDefinitions[%d].name is required", prefix, i)
		}
		if aws.ToString(c.Image) == "" {
			return fmt.Errorf("%scontainerDefinitions[%d].image is required", prefix, i)
		}
	}
	return nil
}

func newDeployCmd(env *Env, f *clientFlags) *cobra.Command {
	var file string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "deploy -f SERVICE.yaml",
		Short: "Register the manifest's task definition, create or update its service, and follow the deployment",
		Long: "deploy registers the task definition in the manifest, creates the service or updates it to\n" +
			"the new revision, then shows the deployment's progress (deployments, counts, events) until it\n" +
			"completes (exit 0), fails or is rolled back by the circuit breaker (exit 1), or --timeout\n" +
			"passes (exit 2). With a loadBalancer member it first finds or creates the load balancer, target\n" +
			"group, listener and rule (by name, port and priority) and gives the service the target group;\n" +
			"it ends with the load balancer's address and a curl line. With a serviceDiscovery member it\n" +
			"finds or creates the private DNS namespace and the Cloud Map service (by name) and gives the\n" +
			"service that registry; tasks then answer at SERVICE.NAMESPACE in berth's DNS. See examples/\n" +
			"for manifests.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return &exitError{code: 2, msg: "-f MANIFEST is required"}
			}
			m, td, err := readManifest(file)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			ctx := cmd.Context()
			c, err := newECSClient(ctx, env, f)
			if err != nil {
				return err
			}
			// The load balancer's path first: a refusal there registers nothing.
			var lb *lbSetup
			if m.LoadBalancer != nil {
				ec, err := newELBClient(ctx, env, f)
				if err != nil {
					return err
				}
				if lb, err = applyLoadBalancer(ctx, ec, env.Stdout, m.LoadBalancer); err != nil {
					return err
				}
			}
			var regs []types.ServiceRegistry
			if m.ServiceDiscovery != nil {
				sc, err := newSDClient(ctx, env, f)
				if err != nil {
					return err
				}
				if regs, err = applyServiceDiscovery(ctx, sc, env.Stdout, m.ServiceDiscovery); err != nil {
					return err
				}
			}
			reg, err := c.RegisterTaskDefinition(ctx, td)
			if err != nil {
				return err
			}
			tdArn := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)
			fmt.Fprintf(env.Stdout, "registered %s\n", tdArn[strings.LastIndex(tdArn, "/")+1:])
			svc, before, err := applyService(ctx, c, env.Stdout, m, tdArn, lb, regs)
			if err != nil {
				return err
			}
			primary := ""
			for _, d := range svc.Deployments {
				if aws.ToString(d.Status) == "PRIMARY" {
					primary = aws.ToString(d.Id)
				}
			}
			fmt.Fprintf(env.Stdout, "service %s: deployment %s\n", m.Service, primary)
			wctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			err = followDeployment(wctx, c, env.Stdout, m.Cluster, m.Service, primary, before)
			if lb != nil {
				fmt.Fprintf(env.Stdout, "load balancer %s: %s at %s\n", lb.name, lb.dns, lb.address)
				if lb.curl != "" {
					fmt.Fprintf(env.Stdout, "  %s\n", lb.curl)
				}
			}
			if sdm := m.ServiceDiscovery; sdm != nil {
				fmt.Fprintf(env.Stdout, "service discovery: %s.%s (%s)\n", sdm.Service, sdm.Namespace, strings.Join(sdm.RecordTypes, ", "))
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "service manifest (YAML or JSON)")
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "give up following after this long (exit 2)")
	return cmd
}

// applyService creates the service, or updates it when it exists. It
// returns the IDs of the events the service had before, which belong to
// earlier rollouts. With lb, the service's loadBalancers are lb's (an
// update passes them only when they differ from the service's); with
// regs, its serviceRegistries are regs (likewise).
func applyService(ctx context.Context, c *ecs.Client, w io.Writer, m *manifest, tdArn string, lb *lbSetup, regs []types.ServiceRegistry) (*types.Service, map[string]bool, error) {
	d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(m.Cluster), Services: []string{m.Service}})
	if err != nil {
		return nil, nil, err
	}
	before := map[string]bool{}
	if len(d.Services) == 1 && aws.ToString(d.Services[0].Status) == "ACTIVE" {
		for _, e := range d.Services[0].Events {
			before[aws.ToString(e.Id)] = true
		}
		in := &ecs.UpdateServiceInput{
			Cluster: aws.String(m.Cluster), Service: aws.String(m.Service), TaskDefinition: aws.String(tdArn),
			DesiredCount: m.DesiredCount, DeploymentConfiguration: m.deploymentConfig,
			HealthCheckGracePeriodSeconds: m.HealthCheckGracePeriodSeconds,
			PlacementConstraints:          m.constraints, PlacementStrategy: m.strategy,
			NetworkConfiguration: m.network,
		}
		if lb != nil && !sameServiceLBs(d.Services[0].LoadBalancers, lb.serviceLBs) {
			in.LoadBalancers = lb.serviceLBs
			fmt.Fprintf(w, "service %s: load balancers changed to target group %s\n", m.Service, shortTGArn(lb.serviceLBs[0]))
		}
		if regs != nil && !sameRegistries(d.Services[0].ServiceRegistries, regs) {
			in.ServiceRegistries = regs
			fmt.Fprintf(w, "service %s: service registries changed to %s\n", m.Service, aws.ToString(regs[0].RegistryArn))
		}
		out, err := c.UpdateService(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		return out.Service, before, nil
	}
	in := &ecs.CreateServiceInput{
		Cluster: aws.String(m.Cluster), ServiceName: aws.String(m.Service), TaskDefinition: aws.String(tdArn),
		DesiredCount: m.DesiredCount, SchedulingStrategy: types.SchedulingStrategy(m.SchedulingStrategy),
		DeploymentConfiguration: m.deploymentConfig, HealthCheckGracePeriodSeconds: m.HealthCheckGracePeriodSeconds,
		PlacementConstraints: m.constraints, PlacementStrategy: m.strategy, PropagateTags: types.PropagateTags(m.PropagateTags),
		EnableECSManagedTags: m.EnableECSManagedTags, Tags: m.tags,
		LaunchType: types.LaunchType(m.LaunchType), NetworkConfiguration: m.network,
	}
	if lb != nil {
		in.LoadBalancers = lb.serviceLBs
	}
	in.ServiceRegistries = regs
	out, err := c.CreateService(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	return out.Service, before, nil
}

// followDeployment prints the service's progress until the deployment
// completes, fails, or is rolled back. It prints the events not in seen
// (those of earlier rollouts), and ends with the reason a deployment failed.
func followDeployment(ctx context.Context, c *ecs.Client, w io.Writer, cluster, service, id string, seen map[string]bool) error {
	lastLine := ""
	reason := "" // the deployment's rolloutStateReason, last seen
	for {
		d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &exitError{code: 2, msg: "timed out following the deployment"}
			}
			return err
		}
		if len(d.Services) != 1 {
			return fmt.Errorf("service %s is gone", service)
		}
		svc := d.Services[0]
		for i := len(svc.Events) - 1; i >= 0; i-- {
			e := svc.Events[i]
			if !seen[aws.ToString(e.Id)] {
				seen[aws.ToString(e.Id)] = true
				fmt.Fprintf(w, "%s  %s\n", aws.ToTime(e.CreatedAt).Local().Format("15:04:05"), aws.ToString(e.Message))
			}
		}
		var line strings.Builder
		var mine *types.Deployment
		for i := range svc.Deployments {
			dep := &svc.Deployments[i]
			fmt.Fprintf(&line, "  %-7s %-11s %s desired %d running %d pending %d failed %d\n", aws.ToString(dep.Status), dep.RolloutState,
				shortDef(aws.ToString(dep.TaskDefinition)), dep.DesiredCount, dep.RunningCount, dep.PendingCount, dep.FailedTasks)
			if aws.ToString(dep.Id) == id {
				mine = dep
				if r := aws.ToString(dep.RolloutStateReason); r != "" && dep.RolloutState == types.DeploymentRolloutStateFailed {
					reason = r
				}
			}
		}
		if s := line.String(); s != lastLine {
			fmt.Fprint(w, s)
			lastLine = s
		}
		switch {
		case mine == nil && len(svc.Deployments) > 0:
			now := shortDef(aws.ToString(svc.Deployments[0].TaskDefinition))
			if why := failureReason(reason, id, svc.Events); why != "" {
				return &exitError{code: 1, msg: fmt.Sprintf("deployment %s failed: %s; rolled back to %s", id, why, now)}
			}
			return &exitError{code: 1, msg: fmt.Sprintf("deployment %s was replaced; service %s now runs %s", id, service, now)}
		case mine != nil && mine.RolloutState == types.DeploymentRolloutStateCompleted:
			fmt.Fprintf(w, "deployment %s completed\n", id)
			return nil
		case mine != nil && mine.RolloutState == types.DeploymentRolloutStateFailed:
			msg := fmt.Sprintf("deployment %s failed: %s", id, failureReason(reason, id, svc.Events))
			if len(svc.Deployments) > 0 && aws.ToString(svc.Deployments[0].Id) != id {
				msg += "; rolled back to " + shortDef(aws.ToString(svc.Deployments[0].TaskDefinition))
			}
			return &exitError{code: 1, msg: msg}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &exitError{code: 2, msg: "timed out following the deployment"}
			}
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// failureReason is why deployment id failed: its rolloutStateReason when
// it was seen, else the newest service event about the deployment that
// says it failed or is being rolled back.
func failureReason(rolloutReason, id string, events []types.ServiceEvent) string {
	if rolloutReason != "" {
		return rolloutReason
	}
	for _, e := range events { // newest first
		msg := aws.ToString(e.Message)
		if _, after, ok := strings.Cut(msg, "(deployment "+id+") "); ok && (strings.Contains(after, "fail") || strings.Contains(after, "circuit breaker")) {
			return strings.TrimPrefix(after, "deployment failed: ")
		}
	}
	return ""
}

func shortDef(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
