package cli

import (
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/tasknet"
)

// newRemoveTaskNetworkCmd removes what an agent's task network made on this
// host: it stays when the agent stops, since its tasks keep running.
func newRemoveTaskNetworkCmd(env *Env) *cobra.Command {
	var bridge string
	cmd := &cobra.Command{
		Use:   "remove-task-network",
		Short: "Remove the awsvpc task network of this host (bridge, task interfaces, routes, iptables chains); stop its tasks first",
		Long: "remove-task-network removes what berth agents made for awsvpc tasks on this host: the bridge,\n" +
			"every task interface on it, the routes to other hosts' task subnets and berth's iptables\n" +
			"chains. Tasks still running lose their network: stop them (or their agent's tasks) first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(env.Stderr, "info")
			if err != nil {
				return err
			}
			// The subnet does not matter to the removal; New needs one.
			h, err := tasknet.New(tasknet.Config{Bridge: bridge, Subnet: netip.MustParsePrefix("10.200.0.0/24")}, log)
			if err != nil {
				return err
			}
			defer h.Close()
			if err := h.Teardown(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "removed the task network of bridge %s\n", bridge)
			return nil
		},
	}
	cmd.Flags().StringVar(&bridge, "task-bridge", tasknet.DefaultBridge, "the bridge the agents used (berth agent --task-bridge)")
	return cmd
}
