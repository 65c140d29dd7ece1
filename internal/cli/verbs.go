package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/shape"
)

func addClientCommands(root *cobra.Command, env *Env) {
	f := &clientFlags{}
	group := []*cobra.Command{
		newClustersCmd(env, f),
		newTaskDefinitionsCmd(env, f),
		newRegisterCmd(env, f),
		newRunCmd(env, f),
		newPsCmd(env, f),
		newStopCmd(env, f),
		newLogsCmd(env, f),
		newInstancesCmd(env, f),
		newDeployCmd(env, f),
		newServicesCmd(env, f),
		newLBsCmd(env, f),
		newEventsCmd(env, f),
		newScaleCmd(env, f),
	}
	for _, c := range group {
		f.register(c)
		root.AddCommand(c)
	}
}

func newClustersCmd(env *Env, f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "clusters",
		Short: "List clusters with their instance and task counts",
		Args:  cobra.NoArgs,
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			arns, err := listAll(ctx, ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{}),
				func(p *ecs.ListClustersOutput) []string { return p.ClusterArns })
			if err != nil {
				return err
			}
			clusters, err := describeAll(arns, 100, func(b []string) ([]types.Cluster, error) {
				out, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: b})
				if err != nil {
					return nil, err
				}
				return out.Clusters, nil
			})
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeWire[shape.DescribeClustersResponse](env.Stdout, &ecs.DescribeClustersOutput{Clusters: clusters, Failures: []types.Failure{}})
			}
			tw := table(env.Stdout, "NAME", "STATUS", "INSTANCES", "RUNNING", "PENDING", "SERVICES")
			for _, cl := range clusters {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", aws.ToString(cl.ClusterName), aws.ToString(cl.Status),
					cl.RegisteredContainerInstancesCount, cl.RunningTasksCount, cl.PendingTasksCount, cl.ActiveServicesCount)
			}
			return tw.Flush()
		}),
	}
}

func newTaskDefinitionsCmd(env *Env, f *clientFlags) *cobra.Command {
	var status, prefix string
	cmd := &cobra.Command{
		Use:     "task-definitions",
		Aliases: []string{"taskdefs"},
		Short:   "List task definition revisions",
		Args:    cobra.NoArgs,
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			in := &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatus(strings.ToUpper(status))}
			if prefix != "" {
				in.FamilyPrefix = aws.String(prefix)
			}
			arns, err := listAll(ctx, ecs.NewListTaskDefinitionsPaginator(c, in),
				func(p *ecs.ListTaskDefinitionsOutput) []string { return p.TaskDefinitionArns })
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeJSON(env.Stdout, &shape.ListTaskDefinitionsResponse{TaskDefinitionArns: append([]string{}, arns...)})
			}
			tw := table(env.Stdout, "FAMILY", "REVISION", "ARN")
			for _, a := range arns {
				_, famRev, _ := strings.Cut(a, ":task-definition/")
				fam, rev, _ := strings.Cut(famRev, ":")
				fmt.Fprintf(tw, "%s\t%s\t%s\n", fam, rev, a)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&status, "status", "ACTIVE", "ACTIVE, INACTIVE or DELETE_IN_PROGRESS")
	cmd.Flags().StringVar(&prefix, "family-prefix", "", "only families that start with this prefix")
	return cmd
}

func newRegisterCmd(env *Env, f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "register FILE",
		Short: "Register a task definition from a JSON file (the register-task-definition input, as for aws ecs --cli-input-json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var w shape.RegisterTaskDefinitionRequest
			if err := decodeFile(raw, &w); err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("%s: %v", args[0], err)}
			}
			if err := checkTaskDefinition(&w, ""); err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("%s: %v", args[0], err)}
			}
			var in ecs.RegisterTaskDefinitionInput
			fromWire(&in, &w)
			c, err := newECSClient(ctx, env, f)
			if err != nil {
				return err
			}
			out, err := c.RegisterTaskDefinition(ctx, &in)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeWire[shape.RegisterTaskDefinitionResponse](env.Stdout, out)
			}
			fmt.Fprintln(env.Stdout, aws.ToString(out.TaskDefinition.TaskDefinitionArn))
			return nil
		},
	}
}

func table(w io.Writer, headers ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	return tw
}
