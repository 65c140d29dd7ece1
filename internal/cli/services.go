package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/shape"
)

func newServicesCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster string
	cmd := &cobra.Command{
		Use:   "services",
		Short: "List services with their counts and deployments",
		Args:  cobra.NoArgs,
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			arns, err := listAll(ctx, ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String(cluster)}),
				func(p *ecs.ListServicesOutput) []string { return p.ServiceArns })
			if err != nil {
				return err
			}
			services, err := describeAll(arns, 10, func(b []string) ([]types.Service, error) {
				out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: b})
				if err != nil {
					return nil, err
				}
				return out.Services, nil
			})
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeWire[shape.DescribeServicesResponse](env.Stdout, &ecs.DescribeServicesOutput{Services: append([]types.Service{}, services...), Failures: []types.Failure{}})
			}
			tw := table(env.Stdout, "SERVICE", "STATUS", "DESIRED", "RUNNING", "PENDING", "TASK DEFINITION", "DEPLOYMENTS")
			for _, s := range services {
				deps := ""
				for _, d := range s.Deployments {
					deps += fmt.Sprintf("%s:%s ", aws.ToString(d.Status), d.RolloutState)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", aws.ToString(s.ServiceName), aws.ToString(s.Status), s.DesiredCount,
					s.RunningCount, s.PendingCount, shortDef(aws.ToString(s.TaskDefinition)), deps)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster")
	return cmd
}

func newEventsCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster string
	var follow bool
	cmd := &cobra.Command{
		Use:   "events SERVICE",
		Short: "Print a service's events, oldest first (-f to keep printing new ones)",
		Args:  cobra.ExactArgs(1),
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			seen := map[string]bool{}
			for {
				out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{args[0]}})
				if err != nil {
					return err
				}
				if len(out.Services) == 0 {
					return &exitError{code: 1, msg: "service " + args[0] + " not found"}
				}
				evs := out.Services[0].Events
				for i := len(evs) - 1; i >= 0; i-- {
					e := evs[i]
					if seen[aws.ToString(e.Id)] {
						continue
					}
					seen[aws.ToString(e.Id)] = true
					if f.output == "json" {
						if err := writeWire[shape.ServiceEvent](env.Stdout, e); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(env.Stdout, "%s  %s\n", aws.ToTime(e.CreatedAt).Local().Format(time.DateTime), aws.ToString(e.Message))
				}
				if !follow {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(2 * time.Second):
				}
			}
		}),
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events")
	return cmd
}

func newScaleCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster string
	cmd := &cobra.Command{
		Use:   "scale SERVICE COUNT",
		Short: "Set a service's desired count",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 0 {
				return &exitError{code: 2, msg: "COUNT must be a whole number ≥ 0"}
			}
			ctx := cmd.Context()
			c, err := newECSClient(ctx, env, f)
			if err != nil {
				return err
			}
			out, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(args[0]), DesiredCount: aws.Int32(int32(n))})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: desired %d (running %d)\n", aws.ToString(out.Service.ServiceName), out.Service.DesiredCount, out.Service.RunningCount)
			return nil
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster")
	return cmd
}
